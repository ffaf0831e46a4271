//! Power loss during creation, copies and compaction: each runs on a simulated directory,
//! and at every step (each sync of a file, each rename, each directory sync) crash images of
//! the whole directory are taken, every way a step can be lost or torn. A file under its final
//! name must always be complete: absent, or a database that opens, checks clean and holds
//! exactly what it should.

use std::sync::{Arc, Mutex};

use nevar::testing::{CrashMode, DirOp, SimulatedDir};
use nevar::{Database, Durability, Error, Options};
use nevar_testkit::{Trees, assert_clean, contents};

const MODES: [CrashMode; 4] = [
    CrashMode::Mixed,
    CrashMode::DropAll,
    CrashMode::KeepAll,
    CrashMode::Hostile,
];

/// Crash images per step (each mode several times with different seeds).
const IMAGES_PER_STEP: u64 = 12;

fn options() -> Options {
    Options::new().segment_size(1 << 20)
}

/// Records crash images of `dir` at every step it takes from now on.
fn record_images(dir: &SimulatedDir) -> Arc<Mutex<Vec<(String, SimulatedDir)>>> {
    let images = Arc::new(Mutex::new(Vec::new()));
    let (sink, watched) = (Arc::clone(&images), dir.clone());
    dir.on_op(move |op| {
        let at_step = matches!(
            op,
            DirOp::SyncDir | DirOp::Rename(..) | DirOp::File(_, nevar::testing::DiskOp::Sync)
        );
        if !at_step {
            return;
        }
        let mut sink = sink.lock().unwrap();
        let step = sink.len() as u64;
        for i in 0..IMAGES_PER_STEP {
            let mode = MODES[i as usize % MODES.len()];
            let image = watched.crash_image(step * 1000 + i, mode);
            sink.push((format!("step {step} ({op:?}), image {i} ({mode:?})"), image));
        }
    });
    images
}

/// A source database with a few trees, one with overflow values, committed without sync
/// except the last commit (so the copy sees pages of several transactions).
fn filled(dir: &SimulatedDir) -> Database {
    let db = options().open_in(Arc::new(dir.clone()), "db").unwrap();
    for round in 0u32..6 {
        let mut w = db.begin_write().unwrap();
        w.set_durability(if round == 5 {
            Durability::Immediate
        } else {
            Durability::NoSync
        });
        for i in 0u32..300 {
            let key = (round * 1000 + i).to_be_bytes();
            w.open_tree("small")
                .unwrap()
                .insert(&key, &[round as u8; 40])
                .unwrap();
            if i % 50 == 0 {
                w.open_tree("large")
                    .unwrap()
                    .insert(&key, &vec![i as u8; 9000])
                    .unwrap();
            }
        }
        if round == 3 {
            w.delete_tree("large").unwrap();
        }
        w.commit().unwrap();
    }
    db
}

/// Opens file `name` of `image`, if it is there, and checks it holds `expected`.
fn check_file(image: &SimulatedDir, name: &str, expected: &Trees, what: &str) -> bool {
    if !image.names().iter().any(|n| n == name) {
        return false;
    }
    let db = options()
        .open_in(Arc::new(image.clone()), name)
        .unwrap_or_else(|e| panic!("{what}: {name} is there but does not open: {e}"));
    assert_clean(&db, what);
    assert_eq!(
        &contents(&db),
        expected,
        "{what}: {name} holds the wrong data"
    );
    true
}

#[test]
fn creation_leaves_no_database_or_a_complete_empty_one() {
    let dir = SimulatedDir::new();
    let images = record_images(&dir);
    let db = options().open_in(Arc::new(dir.clone()), "db").unwrap();
    drop(db);
    let images = images.lock().unwrap();
    assert!(
        images.len() > 3 * IMAGES_PER_STEP as usize,
        "too few steps recorded"
    );
    let (mut absent, mut present) = (0, 0);
    for (what, image) in images.iter() {
        if check_file(image, "db", &Trees::new(), what) {
            present += 1;
        } else {
            absent += 1;
        }
        // Opening the image again creates or opens it: never NotADatabase.
        let again = options().open_in(Arc::new(image.clone()), "db");
        assert!(
            !matches!(again, Err(Error::NotADatabase)),
            "{what}: zeros under the name"
        );
        again.unwrap_or_else(|e| panic!("{what}: reopen failed: {e}"));
    }
    assert!(
        absent > 0 && present > 0,
        "both outcomes occur ({absent} / {present})"
    );
}

fn copy_case(compact: bool) {
    let dir = SimulatedDir::new();
    let db = filled(&dir);
    let expected = contents(&db);
    let images = record_images(&dir);
    db.copy_into(Arc::new(dir.clone()), "backup", compact)
        .unwrap();
    dir.on_op(|_| {});
    let images = std::mem::take(&mut *images.lock().unwrap());
    assert!(
        images.len() >= 3 * IMAGES_PER_STEP as usize,
        "too few steps recorded"
    );
    let mut present = 0;
    for (what, image) in &images {
        let what = format!("copy (compact: {compact}) {what}");
        present += usize::from(check_file(image, "backup", &expected, &what));
        // The source survives every image of the copy.
        assert!(
            check_file(image, "db", &expected, &what),
            "{what}: source lost"
        );
    }
    assert!(present > 0 && present < images.len(), "both outcomes occur");
    assert!(check_file(&dir, "backup", &expected, "finished copy"));
}

#[test]
fn a_plain_copy_is_all_or_nothing() {
    copy_case(false);
}

#[test]
fn a_compacting_copy_is_all_or_nothing() {
    copy_case(true);
}

#[test]
fn in_place_compaction_leaves_the_old_file_or_the_compacted_one() {
    let dir = SimulatedDir::new();
    let mut db = filled(&dir);
    let expected = contents(&db);
    let images = record_images(&dir);
    db.compact().unwrap();
    dir.on_op(|_| {});
    assert_eq!(contents(&db), expected);
    let images = std::mem::take(&mut *images.lock().unwrap());
    assert!(images.len() >= 3 * IMAGES_PER_STEP as usize);
    for (what, image) in &images {
        let what = format!("compaction {what}");
        assert!(
            check_file(image, "db", &expected, &what),
            "{what}: database lost"
        );
    }
}
