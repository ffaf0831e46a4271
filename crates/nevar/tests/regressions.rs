//! One regression test per bug the mends issue found; each fails without its fix.

use std::sync::mpsc;
use std::time::Duration;

use nevar::{Database, Error, Options};
use nevar_page::Meta;
use nevar_testkit::{TempDb, assert_clean, contents};

/// Runs `f` on its own thread and fails if it has not returned after `limit`: a deadlock
/// detector, not a performance assertion (every call here takes milliseconds).
fn returns_within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit)
        .expect("the call never returned: deadlock")
}

/// Bug: `Database::stats()` took the writer lock to read the durable txn id, so calling it on
/// a thread holding a `WriteTxn` never returned. `check`, `copy_to` and `tree_fill` must not
/// wait for the writer either.
#[test]
fn stats_check_copy_and_fill_work_while_this_thread_holds_the_writer() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"k", b"v").unwrap();
    w.commit().unwrap();
    let (plain, compact) = (tmp.join("plain.nevar"), tmp.join("compact.nevar"));
    let db = std::sync::Arc::new(db);
    let shared = std::sync::Arc::clone(&db);
    let outcome = returns_within(Duration::from_secs(60), move || {
        let db = &*shared;
        let mut w = db.begin_write().unwrap();
        w.open_tree("t")
            .unwrap()
            .insert(b"uncommitted", b"x")
            .unwrap();
        let stats = db.stats().unwrap();
        let report = db.check().unwrap();
        db.copy_to(&plain, false).unwrap();
        db.copy_to(&compact, true).unwrap();
        let fill = db.tree_fill("t").unwrap();
        drop(w);
        (stats, report, fill)
    });
    let (stats, report, fill) = outcome;
    assert_eq!(stats.trees.len(), 1);
    assert_eq!(stats.trees[0].entries, 1, "stats show the last commit only");
    assert!(report.is_clean(), "{:?}", report.problems);
    assert!(fill.is_some());
    for copy in ["plain.nevar", "compact.nevar"] {
        let copy = Database::open(tmp.join(copy)).unwrap();
        assert_eq!(contents(&copy), contents(&db));
        assert_clean(&copy, "copy made while the writer was held");
    }
}

/// Bug: an all-zero file (up to 1 MiB) was initialized as a new database. Any non-empty file
/// that is not a nevar database is refused with `NotADatabase` and left byte-identical.
#[test]
fn files_that_are_not_databases_are_refused_and_left_unchanged() {
    let tmp = TempDb::new();
    let mut random = vec![0u8; 64 << 10];
    let mut rng = nevar_testkit::Rng(0x5eed);
    random.iter_mut().for_each(|b| *b = rng.next() as u8);
    let cases: [(&str, Vec<u8>); 5] = [
        ("16 KiB of zeros", vec![0; 16 << 10]),
        ("1 MiB of zeros", vec![0; 1 << 20]),
        ("one zero byte", vec![0]),
        ("text", b"name,email\nada,ada@example.com\n".repeat(300)),
        ("random bytes", random),
    ];
    for (what, bytes) in cases {
        let path = tmp.join("foreign");
        std::fs::write(&path, &bytes).unwrap();
        match Database::open(&path) {
            Err(Error::NotADatabase) => {}
            Err(e) => panic!("{what}: wrong error {e}"),
            Ok(_) => panic!("{what}: opened as a database"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), bytes, "{what}: file changed");
        assert!(
            !tmp.join("foreign.creating").exists(),
            "{what}: staging file left"
        );
    }
}

/// Creation is still what a missing or 0-byte file gets, and it leaves nothing behind.
#[test]
fn a_missing_or_empty_file_is_created_with_both_metas() {
    let tmp = TempDb::new();
    std::fs::write(tmp.path(), b"").unwrap();
    for _ in 0..2 {
        let db = tmp.open();
        assert_eq!(
            db.begin_read().unwrap().tree_names().unwrap(),
            Vec::<String>::new()
        );
        assert_clean(&db, "new database");
        drop(db);
        let bytes = std::fs::read(tmp.path()).unwrap();
        for slot in 0..2u64 {
            let page = &bytes[(slot * 4096) as usize..][..4096];
            Meta::read(page, slot).unwrap_or_else(|e| panic!("meta slot {slot}: {e}"));
        }
        std::fs::remove_file(tmp.path()).unwrap();
    }
    assert!(!tmp.join("data.nevar.creating").exists());
}

/// Rewrites meta slot `slot` of the file at `path` with transaction id `txn` (sealed, so
/// only the id is wrong).
fn forge_meta_txn(path: &std::path::Path, slot: u64, txn: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let page = &mut bytes[(slot * 4096) as usize..][..4096];
    let mut meta = Meta::read(page, slot).unwrap();
    meta.fields.txn_id = txn.into();
    meta.write(page, slot).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Bug: a crafted meta with `txn_id = u64::MAX` passed `Meta::read`, and the next write
/// transaction's `txn + 1` overflowed (a panic in debug builds, a wrap to 0 in release).
#[test]
fn a_meta_with_an_impossible_txn_id_is_refused() {
    let tmp = TempDb::new();
    {
        let db = tmp.open();
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(b"k", b"v").unwrap();
        w.commit().unwrap();
    }
    let good = std::fs::read(tmp.path()).unwrap();
    for txn in [u64::MAX, u64::MAX - 1, 1 << 63, 0] {
        // One slot forged: recovery falls back to the other, which still works for writes.
        std::fs::write(tmp.path(), &good).unwrap();
        forge_meta_txn(tmp.path(), 0, txn);
        let page = &std::fs::read(tmp.path()).unwrap()[..4096];
        assert!(Meta::read(page, 0).is_err(), "txn {txn} passed Meta::read");
        let db = tmp.open();
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(b"k2", b"v2").unwrap();
        w.commit().unwrap();
        assert_clean(&db, &format!("after a forged txn {txn} in one slot"));
        drop(db);
        // Both slots forged: no usable meta, a typed error, nothing written.
        forge_meta_txn(tmp.path(), 0, txn);
        forge_meta_txn(tmp.path(), 1, txn);
        let before = std::fs::read(tmp.path()).unwrap();
        assert!(matches!(
            Options::new().open(tmp.path()),
            Err(Error::Corrupted { .. })
        ));
        assert_eq!(std::fs::read(tmp.path()).unwrap(), before);
    }
}

/// Bug: a copy cut off by SIGKILL left a truncated file at the target, and every later
/// `copy_to` to that path was refused. Now the copy is built under `<target>.copying`; a
/// leftover of it (here: garbage) is discarded by the next copy.
#[test]
fn a_leftover_staging_file_does_not_block_the_next_copy() {
    let tmp = TempDb::new();
    let db = tmp.open();
    let mut w = db.begin_write().unwrap();
    for i in 0u32..2000 {
        w.open_tree("t")
            .unwrap()
            .insert(&i.to_be_bytes(), &[7; 100])
            .unwrap();
    }
    w.commit().unwrap();
    for compact in [false, true] {
        let target = tmp.join(&format!("backup-{compact}"));
        std::fs::write(
            tmp.join(&format!("backup-{compact}.copying")),
            b"half a copy",
        )
        .unwrap();
        db.copy_to(&target, compact).unwrap();
        assert!(!tmp.join(&format!("backup-{compact}.copying")).exists());
        let copy = Database::open(&target).unwrap();
        assert_eq!(contents(&copy), contents(&db));
        assert_clean(&copy, "copy over a leftover staging file");
    }
}
