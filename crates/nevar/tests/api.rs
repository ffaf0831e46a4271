//! The public API end to end: trees, overwrite, remove, ranges, abort, delete, reopen, sync
//! counts.

use nevar::{Database, Durability, Error, Options};

fn temp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.nevar");
    (dir, path)
}

#[test]
fn insert_get_remove_range_across_trees_and_reopen() {
    let (_dir, path) = temp();
    {
        let db = Database::open(&path).unwrap();
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("users").unwrap();
            assert!(!t.insert(b"k", b"v").unwrap());
            assert!(
                t.insert(b"k", b"v2").unwrap(),
                "insert overwrites and reports it"
            );
            assert_eq!(t.get(b"k").unwrap(), Some(&b"v2"[..]));
            for i in 0..1000u32 {
                t.insert(format!("user{i:04}").as_bytes(), &i.to_le_bytes())
                    .unwrap();
            }
            assert!(t.remove(b"k").unwrap());
            assert!(!t.remove(b"k").unwrap());
        }
        w.open_tree("index").unwrap().insert(b"a", b"b").unwrap();
        w.commit().unwrap();
        let report = db.check().unwrap();
        assert!(report.is_clean(), "{:?}", report.problems);
    }
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    assert_eq!(r.tree_names().unwrap(), ["index", "users"]);
    let t = r.open_tree("users").unwrap();
    assert_eq!(t.len().unwrap(), 1000);
    let some: Vec<_> = t
        .range(&b"user0100"[..]..&b"user0103"[..])
        .unwrap()
        .map(|e| e.unwrap().0.to_vec())
        .collect();
    assert_eq!(
        some,
        [
            b"user0100".to_vec(),
            b"user0101".to_vec(),
            b"user0102".to_vec()
        ]
    );
    let last_two: Vec<_> = t
        .iter()
        .unwrap()
        .rev()
        .take(2)
        .map(|e| e.unwrap().0.to_vec())
        .collect();
    assert_eq!(last_two, [b"user0999".to_vec(), b"user0998".to_vec()]);
    assert_eq!(t.first().unwrap().unwrap().0, b"user0000");
    assert_eq!(t.last().unwrap().unwrap().1, 999u32.to_le_bytes());
    assert!(matches!(r.open_tree("nope"), Err(Error::TreeNotFound(n)) if n == "nope"));
}

#[test]
fn dropping_a_write_txn_aborts_and_leaks_nothing() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"keep", b"1").unwrap();
    w.commit().unwrap();
    let before = db.stats().unwrap();
    {
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("t").unwrap();
        for i in 0..5000u32 {
            t.insert(&i.to_be_bytes(), &[7; 100]).unwrap();
        }
        w.open_tree("other").unwrap().insert(b"x", b"y").unwrap();
    }
    let r = db.begin_read().unwrap();
    assert_eq!(r.tree_names().unwrap(), ["t"]);
    assert_eq!(r.open_tree("t").unwrap().len().unwrap(), 1);
    drop(r);
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    // The next commit reuses what the aborted txn touched; the file does not keep growing.
    let mut w = db.begin_write().unwrap();
    w.open_tree("t")
        .unwrap()
        .insert(b"after", b"abort")
        .unwrap();
    w.commit().unwrap();
    assert!(db.check().unwrap().is_clean());
    assert!(db.stats().unwrap().high_water <= before.high_water + 8);
}

#[test]
fn delete_tree_frees_every_page() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let baseline = {
        let mut w = db.begin_write().unwrap();
        w.open_tree("keep").unwrap().insert(b"a", b"b").unwrap();
        w.commit().unwrap();
        db.stats().unwrap()
    };
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("big").unwrap();
        for i in 0..20_000u32 {
            t.insert(&i.to_be_bytes(), &vec![1; (i % 300) as usize])
                .unwrap();
        }
        t.insert(b"huge", &vec![9; 100_000]).unwrap();
    }
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    assert!(w.delete_tree("big").unwrap());
    assert!(!w.delete_tree("big").unwrap());
    w.commit().unwrap();
    // Two more commits let the freed pages pass the horizon and the free tree settle.
    for _ in 0..2 {
        db.begin_write().unwrap().commit().unwrap();
    }
    let s = db.stats().unwrap();
    assert!(db.check().unwrap().is_clean());
    assert_eq!(s.trees.len(), 1);
    assert_eq!(
        s.leaf_pages + s.branch_pages + s.overflow_pages,
        baseline.leaf_pages + baseline.branch_pages
    );
    assert!(s.free_pages > 100, "freed pages are reusable: {s:?}");
}

#[test]
fn one_sync_per_durable_commit_and_none_for_nosync() {
    let (_dir, path) = temp();
    let db = Options::new().open(&path).unwrap();
    for i in 0..10u32 {
        let before = db.sync_count();
        let mut w = db.begin_write().unwrap();
        w.open_tree("t")
            .unwrap()
            .insert(&i.to_be_bytes(), &[0; 3000])
            .unwrap();
        w.commit().unwrap();
        assert_eq!(db.sync_count(), before + 1);
    }
    let before = db.sync_count();
    for i in 0..10u32 {
        let mut w = db.begin_write().unwrap();
        w.set_durability(Durability::NoSync);
        w.open_tree("t")
            .unwrap()
            .insert(&i.to_be_bytes(), b"nosync")
            .unwrap();
        w.commit().unwrap();
    }
    assert_eq!(db.sync_count(), before);
}

#[test]
fn limits_are_typed_errors_that_change_nothing() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        t.insert(&[1; 1024], b"max key ok").unwrap();
        assert!(matches!(
            t.insert(&[1; 1025], b"v"),
            Err(Error::KeyTooLarge {
                len: 1025,
                max: 1024
            })
        ));
        assert!(t.insert(b"", b"empty key ok").is_ok());
        assert_eq!(t.len().unwrap(), 2);
    }
    assert!(matches!(w.open_tree(""), Err(Error::InvalidTreeName(_))));
    assert!(matches!(
        w.open_tree(&"x".repeat(256)),
        Err(Error::InvalidTreeName(_))
    ));
    w.open_tree(&"x".repeat(255)).unwrap();
    w.commit().unwrap();
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn database_and_read_txn_are_send_and_sync() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    send::<Database>();
    sync::<Database>();
    send::<nevar::ReadTxn>();
}

#[test]
fn begin_write_waits_for_the_live_writer() {
    let (_dir, path) = temp();
    let db = std::sync::Arc::new(Database::open(&path).unwrap());
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"first", b"1").unwrap();
    let other = {
        let db = std::sync::Arc::clone(&db);
        std::thread::spawn(move || {
            let mut w = db.begin_write().unwrap();
            let saw_first = w.open_tree("t").unwrap().get(b"first").unwrap().is_some();
            w.open_tree("t").unwrap().insert(b"second", b"2").unwrap();
            w.commit().unwrap();
            saw_first
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(50));
    w.commit().unwrap();
    assert!(
        other.join().unwrap(),
        "the second writer started after the first committed"
    );
    assert_eq!(
        db.begin_read()
            .unwrap()
            .open_tree("t")
            .unwrap()
            .len()
            .unwrap(),
        2
    );
}

#[test]
fn file_shrinks_when_its_tail_is_free() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        t.insert(b"\x00keep", b"small").unwrap();
        for i in 0..20_000u32 {
            t.insert(&i.to_be_bytes(), &[1; 500]).unwrap();
        }
    }
    w.commit().unwrap();
    let big = std::fs::metadata(&path).unwrap().len();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in 0..20_000u32 {
            t.remove(&i.to_be_bytes()).unwrap();
        }
    }
    w.commit().unwrap();
    // Later small commits copy the live pages (lowest free pages first), so the free pages
    // at the end of the file drain and are cut off.
    for i in 0..6u8 {
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(&[0, i], b"later").unwrap();
        w.commit().unwrap();
    }
    let small = std::fs::metadata(&path).unwrap().len();
    assert!(small * 4 < big, "file shrank from {big} to {small} bytes");
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    drop(db);
    let db = Database::open(&path).unwrap();
    assert_eq!(
        db.begin_read()
            .unwrap()
            .open_tree("t")
            .unwrap()
            .get(b"\x00keep")
            .unwrap(),
        Some(&b"small"[..])
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn every_page_size_works_end_to_end() {
    for page_size in [4096usize, 8192, 16384, 32768, 65536] {
        let (_dir, path) = temp();
        {
            let db = Options::new().page_size(page_size).open(&path).unwrap();
            let mut w = db.begin_write().unwrap();
            let mut t = w.open_tree("t").unwrap();
            for i in 0..3000u32 {
                t.insert(&i.to_be_bytes(), &vec![i as u8; (i % 7) as usize * 300])
                    .unwrap();
            }
            t.insert(&vec![1; page_size / 4], b"max key").unwrap();
            w.commit().unwrap();
        }
        // Reopened with default options: the page size comes from the file.
        let db = Database::open(&path).unwrap();
        assert_eq!(db.page_size(), page_size);
        let r = db.begin_read().unwrap();
        let t = r.open_tree("t").unwrap();
        assert_eq!(t.len().unwrap(), 3001);
        assert_eq!(
            t.get(&2999u32.to_be_bytes()).unwrap().unwrap().len(),
            (2999 % 7) * 300
        );
        drop(r);
        let report = db.check().unwrap();
        assert!(
            report.is_clean(),
            "page size {page_size}: {:?}",
            report.problems
        );
    }
    assert!(Options::new().page_size(1000).open(temp().1).is_err());
}

/// A long run of NoSync commits reuses the pages those commits wrote and freed: the file stays
/// bounded instead of growing by a path of pages per commit until the next durable commit.
/// Pages of the durable commit itself still wait, and a reader's snapshot still pins pages.
#[test]
fn nosync_commits_reuse_their_own_pages() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in 0..20_000u32 {
            t.insert(&i.to_be_bytes(), &[1; 100]).unwrap();
        }
    }
    w.commit().unwrap();
    let durable_pages = db.stats().unwrap().high_water;
    let nosync = |from: u32, count: u32| {
        for i in from..from + count {
            let mut w = db.begin_write().unwrap();
            w.set_durability(Durability::NoSync);
            // The same few leaves every time: each commit copies a path the last one wrote.
            w.open_tree("t")
                .unwrap()
                .insert(&(i % 64).to_be_bytes(), &i.to_le_bytes())
                .unwrap();
            w.commit().unwrap();
        }
    };
    nosync(0, 3000);
    let grown = db.stats().unwrap().high_water - durable_pages;
    // Without volatile reuse they grew it by about 6 pages a commit (18,000 measured).
    assert!(
        grown < 100,
        "3,000 NoSync commits grew the file by {grown} pages"
    );

    // A reader holding a NoSync snapshot pins what it sees.
    let reader = db.begin_read().unwrap();
    let seen = reader
        .open_tree("t")
        .unwrap()
        .get(&5u32.to_be_bytes())
        .unwrap()
        .unwrap()
        .to_vec();
    nosync(3000, 500);
    assert_eq!(
        reader
            .open_tree("t")
            .unwrap()
            .get(&5u32.to_be_bytes())
            .unwrap()
            .unwrap(),
        &seen[..]
    );
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    drop(reader);
    drop(db);
    let db = Database::open(&path).unwrap();
    let t = db.begin_read().unwrap();
    let t = t.open_tree("t").unwrap();
    assert_eq!(t.len().unwrap(), 20_000);
    assert_eq!(
        t.get(&(3499u32 % 64).to_be_bytes()).unwrap(),
        Some(&3499u32.to_le_bytes()[..])
    );
}
