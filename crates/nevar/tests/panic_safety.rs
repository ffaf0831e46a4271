//! Panic safety: user code that panics while a write transaction is open (between inserts,
//! inside an iteration, on another thread) leaves the database consistent and leak-free once
//! the transaction is dropped by unwinding, and later transactions work.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use nevar::Database;
use nevar_testkit::{Trees, contents as state};

fn prepared() -> (tempfile::TempDir, Arc<Database>) {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open(dir.path().join("panic.nevar")).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in 0..2000u32 {
            t.insert(&i.to_be_bytes(), &[i as u8; 64]).unwrap();
        }
    }
    w.commit().unwrap();
    (dir, Arc::new(db))
}

/// After the panic: same contents, clean check (no leaked page), and a working writer.
fn assert_recovered(db: &Database, before: &Trees) {
    assert_eq!(&state(db), before);
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    let mut w = db.begin_write().unwrap();
    w.open_tree("t")
        .unwrap()
        .insert(b"after", b"panic")
        .unwrap();
    w.commit().unwrap();
    assert!(db.check().unwrap().is_clean());
    let r = db.begin_read().unwrap();
    assert_eq!(
        r.open_tree("t").unwrap().get(b"after").unwrap(),
        Some(&b"panic"[..])
    );
}

#[test]
fn a_panic_between_inserts_rolls_back_and_leaks_nothing() {
    let (_dir, db) = prepared();
    let before = state(&db);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("t").unwrap();
        for i in 0..5000u32 {
            // Splits, big values (overflow runs) and removals before the panic.
            t.insert(&(i * 3).to_be_bytes(), &vec![1u8; (i % 7) as usize * 1500])
                .unwrap();
            if i % 5 == 0 {
                t.remove(&(i / 2).to_be_bytes()).unwrap();
            }
            if i == 4321 {
                panic!("user code panics mid-transaction");
            }
        }
        w.commit().unwrap();
    }));
    assert!(result.is_err());
    assert_recovered(&db, &before);
}

#[test]
fn a_panic_inside_an_iteration_of_the_write_txn_rolls_back() {
    let (_dir, db) = prepared();
    let before = state(&db);
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut w = db.begin_write().unwrap();
        w.open_tree("new").unwrap().insert(b"x", b"y").unwrap();
        w.delete_tree("t").unwrap();
        let t = w.open_tree("new").unwrap();
        for item in t.iter().unwrap() {
            let (k, _) = item.unwrap();
            assert_ne!(k, b"x", "a user assertion fails while iterating");
        }
    }));
    assert!(result.is_err());
    assert_recovered(&db, &before);
}

#[test]
fn a_panic_on_another_thread_releases_the_writer() {
    let (_dir, db) = prepared();
    let before = state(&db);
    let reader = db.begin_read().unwrap();
    let worker = {
        let db = Arc::clone(&db);
        std::thread::spawn(move || {
            let mut w = db.begin_write().unwrap();
            for i in 0..3000u32 {
                w.open_tree("t")
                    .unwrap()
                    .insert(&i.to_le_bytes(), b"doomed")
                    .unwrap();
            }
            panic!("worker dies holding the write transaction");
        })
    };
    assert!(worker.join().is_err());
    // The reader from before the panic still sees its snapshot.
    assert_eq!(reader.open_tree("t").unwrap().len().unwrap(), 2000);
    drop(reader);
    assert_recovered(&db, &before);
}
