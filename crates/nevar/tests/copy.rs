//! Hot backup, compaction and read-only opening.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use nevar::{Database, Error, Options};

type State = BTreeMap<Vec<u8>, Vec<u8>>;

/// A tree's entries; empty when the tree does not exist yet.
fn contents(db: &Database, tree: &str) -> State {
    nevar_testkit::contents(db).remove(tree).unwrap_or_default()
}

/// Commit `generation` of the writer below: sets `gen`, inserts 50 keys, removes 20.
fn apply(state: &mut State, generation: u64) {
    state.insert(b"gen".to_vec(), generation.to_be_bytes().to_vec());
    for i in 0..50u64 {
        let k = (generation * 7 + i * 13) % 3000;
        let len = if i == 0 { 5000 } else { 30 };
        state.insert(k.to_be_bytes().to_vec(), vec![generation as u8; len]);
    }
    for i in 0..20u64 {
        state.remove(&((generation * 11 + i * 17) % 3000).to_be_bytes().to_vec());
    }
}

#[test]
fn copy_to_while_a_writer_commits_equals_one_committed_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open(dir.path().join("src.nevar")).unwrap());
    // `history[g]` is the tree after generation g's commit.
    let history = Arc::new(Mutex::new(vec![State::new()]));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, history, stop) = (db.clone(), history.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut state = State::new();
            let mut generation = 0;
            while !stop.load(Ordering::Relaxed) || generation < 20 {
                generation += 1;
                let before = state.clone();
                apply(&mut state, generation);
                let mut w = db.begin_write().unwrap();
                {
                    let mut t = w.open_tree("t").unwrap();
                    for (k, v) in &state {
                        if before.get(k) != Some(v) {
                            t.insert(k, v).unwrap();
                        }
                    }
                    for k in before.keys().filter(|k| !state.contains_key(*k)) {
                        t.remove(k).unwrap();
                    }
                }
                w.commit().unwrap();
                history.lock().unwrap().push(state.clone());
            }
        })
    };
    let mut generations = std::collections::BTreeSet::new();
    for round in 0..12 {
        let compact = round % 2 == 1;
        let target = dir.path().join(format!("copy-{round}.nevar"));
        db.copy_to(&target, compact).unwrap();
        let copy = Database::open(&target).unwrap();
        let report = copy.check().unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
        let copied = contents(&copy, "t");
        let generation = copied
            .get(&b"gen"[..])
            .map_or(0, |g| u64::from_be_bytes(g[..].try_into().unwrap()));
        assert_eq!(
            copied,
            history.lock().unwrap()[generation as usize],
            "copy {round} (compact: {compact}) is not the snapshot of generation {generation}"
        );
        generations.insert(generation);
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    // The copies were taken while commits went on, not all of one state.
    assert!(generations.len() > 1, "{generations:?}");
    eprintln!("copied generations {generations:?}");
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn compact_in_place_shrinks_keeps_contents_and_old_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.nevar");
    let mut db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in 0..40_000u32 {
            t.insert(&i.wrapping_mul(2_654_435_761).to_be_bytes(), &[1u8; 120])
                .unwrap();
        }
    }
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in (0..40_000u32).filter(|i| i % 8 != 0) {
            t.remove(&i.wrapping_mul(2_654_435_761).to_be_bytes())
                .unwrap();
        }
    }
    w.commit().unwrap();
    let expected = contents(&db, "t");
    let old_reader = db.begin_read().unwrap();
    let size_before = std::fs::metadata(&path).unwrap().len();

    db.compact().unwrap();

    let size_after = std::fs::metadata(&path).unwrap().len();
    assert!(
        size_after * 3 < size_before,
        "{size_before} -> {size_after}"
    );
    assert_eq!(contents(&db, "t"), expected);
    assert!(db.check().unwrap().is_clean());
    // The reader from before still sees its snapshot, through the old (unlinked) file.
    assert_eq!(old_reader.open_tree("t").unwrap().len().unwrap(), 5000);
    drop(old_reader);
    // The handle now writes the new file, which reopens with the change.
    let mut w = db.begin_write().unwrap();
    w.open_tree("t")
        .unwrap()
        .insert(b"after", b"compact")
        .unwrap();
    w.commit().unwrap();
    drop(db);
    let db = Database::open(&path).unwrap();
    assert_eq!(contents(&db, "t").len(), 5001);
    assert!(!dir.path().join("db.nevar.compacting").exists());
}

fn read_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn read_only_open_never_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.nevar");
    {
        let db = Database::open(&path).unwrap();
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(b"k", b"v").unwrap();
        w.commit().unwrap();
    }
    let before = read_file(&path);
    {
        let db = Options::new().read_only(true).open(&path).unwrap();
        assert!(matches!(db.begin_write(), Err(Error::ReadOnly)));
        let read = db.begin_read().unwrap();
        assert_eq!(
            read.open_tree("t").unwrap().get(b"k").unwrap(),
            Some(&b"v"[..])
        );
        assert!(db.check().unwrap().is_clean());
        assert!(matches!(db.copy_to(dir.path().join("c"), false), Ok(())));
    }
    assert_eq!(
        read_file(&path),
        before,
        "a read-only handle changed the file"
    );

    // The read-only handle still locks: a writer elsewhere cannot open the file meanwhile.
    let ro = Options::new().read_only(true).open(&path).unwrap();
    assert!(matches!(Database::open(&path), Err(Error::AlreadyOpen)));
    drop(ro);

    let missing = dir.path().join("missing.nevar");
    assert!(matches!(
        Options::new().read_only(true).open(&missing),
        Err(Error::Io { .. })
    ));
    assert!(!missing.exists());
    let empty = dir.path().join("empty.nevar");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        Options::new().read_only(true).open(&empty),
        Err(Error::NotADatabase)
    ));
    assert_eq!(read_file(&empty), b"");
}

/// `huge_pages` changes how a read-only handle maps the file, not what it reads, and writable
/// opens ignore it (their maps keep page-sized folios for the commit path).
#[test]
fn huge_pages_read_the_same_and_leave_writes_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.nevar");
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..20_000u32)
        .map(|i| {
            (
                i.wrapping_mul(2_654_435_761).to_be_bytes().to_vec(),
                vec![i as u8; 100],
            )
        })
        .collect();
    {
        let db = Options::new().huge_pages(true).open(&path).unwrap();
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("t").unwrap();
        for (k, v) in &entries {
            t.insert(k, v).unwrap();
        }
        w.commit().unwrap();
    }
    let before = read_file(&path);
    {
        let db = Options::new()
            .read_only(true)
            .huge_pages(true)
            .open(&path)
            .unwrap();
        let r = db.begin_read().unwrap();
        let t = r.open_tree("t").unwrap();
        for (k, v) in &entries {
            assert_eq!(t.get(k).unwrap(), Some(&v[..]));
        }
        let mut sorted = entries.clone();
        sorted.sort();
        let scanned: Vec<(Vec<u8>, Vec<u8>)> = t
            .iter()
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        assert_eq!(scanned, sorted);
        assert!(db.check().unwrap().is_clean());
    }
    assert_eq!(
        read_file(&path),
        before,
        "a read-only handle changed the file"
    );
}

#[test]
fn read_only_open_recovers_in_memory_from_an_unclean_file() {
    // A crash image where the newest meta is torn: read-only open falls back without writing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.nevar");
    let db = Database::open(&path).unwrap();
    for i in 0..3u8 {
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(&[i], &[i]).unwrap();
        w.commit().unwrap();
    }
    let image = read_file(&path);
    drop(db);
    // Tear the meta of the last commit (txn 4: the one in slot 1), as a crash mid-write would.
    let mut torn = image.clone();
    let slot = (0..2)
        .max_by_key(|s| u64::from_le_bytes(torn[s * 4096 + 16..s * 4096 + 24].try_into().unwrap()))
        .unwrap();
    torn[slot * 4096 + 100] ^= 0xff;
    std::fs::write(&path, &torn).unwrap();
    let db = Options::new().read_only(true).open(&path).unwrap();
    let read = db.begin_read().unwrap();
    assert_eq!(read.open_tree("t").unwrap().len().unwrap(), 2);
    drop(read);
    drop(db);
    assert_eq!(read_file(&path), torn);
}

/// `write_to` streams the reader's snapshot while a writer keeps committing: the stream,
/// written to a file, opens clean and holds exactly that snapshot, typed trees' types
/// included, and it is compact. Small segments make overflow runs skip segment ends.
#[test]
fn write_to_streams_exactly_the_readers_snapshot_while_writes_go_on() {
    const TYPED: nevar::TreeDef<u64, &str> = nevar::TreeDef::new("typed");
    let dir = tempfile::tempdir().unwrap();
    let options = || Options::new().segment_size(1 << 16);
    let db = Arc::new(options().open(dir.path().join("src.nevar")).unwrap());
    let mut w = db.begin_write().unwrap();
    for i in 0..3000u64 {
        w.open_tree(TYPED)
            .unwrap()
            .insert(i, "typed value")
            .unwrap();
        let len = if i % 5 == 0 { 9000 } else { 100 };
        w.open_tree("raw")
            .unwrap()
            .insert(&i.to_be_bytes(), &vec![i as u8; len])
            .unwrap();
    }
    w.commit().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut generation = 0u64;
            while !stop.load(Ordering::Relaxed) || generation < 10 {
                generation += 1;
                let mut w = db.begin_write().unwrap();
                let mut t = w.open_tree("raw").unwrap();
                for i in 0..200u64 {
                    let k = (generation * 31 + i * 7) % 4000;
                    if i % 3 == 0 {
                        t.remove(&k.to_be_bytes()).unwrap();
                    } else {
                        t.insert(&k.to_be_bytes(), &generation.to_be_bytes())
                            .unwrap();
                    }
                }
                w.commit().unwrap();
            }
        })
    };
    for round in 0..3 {
        let read = db.begin_read().unwrap();
        let mut stream = Vec::new();
        let bytes = read.write_to(&mut stream).unwrap();
        assert_eq!(bytes, stream.len() as u64);
        // What the reader sees, read after the stream (the snapshot cannot have moved).
        let seen: nevar_testkit::Trees = read
            .tree_names()
            .unwrap()
            .into_iter()
            .map(|name| {
                let t = read.open_tree(&name).unwrap();
                let entries = t
                    .iter()
                    .unwrap()
                    .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                    .collect();
                (name, entries)
            })
            .collect();
        let path = dir.path().join(format!("stream-{round}.nevar"));
        std::fs::write(&path, &stream).unwrap();
        let copy = options().open(&path).unwrap();
        nevar_testkit::assert_clean(&copy, "streamed copy");
        assert_eq!(nevar_testkit::contents(&copy), seen, "round {round}");
        let r = copy.begin_read().unwrap();
        assert_eq!(
            r.open_tree(TYPED).unwrap().get(7).unwrap(),
            Some("typed value")
        );
        assert!(matches!(
            r.open_tree(nevar::TreeDef::<u32, &str>::new("typed")),
            Err(Error::TreeTypeMismatch { .. })
        ));
        let stats = copy.stats().unwrap();
        assert_eq!(
            stats.free_pages + stats.pending_free_pages,
            stats.high_water
                - stats.branch_pages
                - stats.leaf_pages
                - stats.overflow_pages
                - stats.meta_tree_pages
                - 2,
            "every page but the trees' is free"
        );
        drop(r);
        // The copy takes writes like any database.
        let mut w = copy.begin_write().unwrap();
        w.open_tree("raw")
            .unwrap()
            .insert(b"new", b"entry")
            .unwrap();
        w.commit().unwrap();
        nevar_testkit::assert_clean(&copy, "streamed copy after a write");
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
}
