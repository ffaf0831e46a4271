//! Snapshot isolation under concurrency: readers holding snapshots across many commits and
//! across file growth see exactly one committed state for their whole life.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nevar::{Durability, Options};

const KEYS: u32 = 32;

/// A value that names the commit that wrote it and checks itself.
fn value(commit: u64, key: u32) -> Vec<u8> {
    let mut v = commit.to_le_bytes().to_vec();
    v.extend_from_slice(&key.to_le_bytes());
    let h = commit.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(key);
    v.extend(std::iter::repeat_n(
        h as u8,
        200 + (key as usize % 3) * 1500,
    ));
    v
}

fn decode(v: &[u8], key: u32) -> u64 {
    let commit = u64::from_le_bytes(v[..8].try_into().unwrap());
    assert_eq!(v, value(commit, key), "value damaged or torn");
    commit
}

#[test]
fn readers_see_one_commit_for_their_whole_life() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(
        Options::new()
            .segment_size(1 << 20)
            .durability(Durability::NoSync)
            .open(dir.path().join("db"))
            .unwrap(),
    );
    let commits: u64 = if std::env::var("NEVAR_LONG").is_ok() {
        3000
    } else {
        300
    };
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|id| {
            let (db, stop) = (Arc::clone(&db), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut snapshots = 0u64;
                while !stop.load(Ordering::Acquire) {
                    let r = db.begin_read().unwrap();
                    let Ok(t) = r.open_tree("s") else { continue };
                    let seen = decode(t.get(&0u32.to_be_bytes()).unwrap().unwrap(), 0);
                    // Hold the snapshot while the writer commits, re-reading everything.
                    for _ in 0..(3 + id) {
                        for key in 0..KEYS {
                            assert_eq!(
                                decode(t.get(&key.to_be_bytes()).unwrap().unwrap(), key),
                                seen
                            );
                        }
                        let n = t
                            .iter()
                            .unwrap()
                            .try_fold(0u32, |n, e| e.map(|_| n + 1))
                            .unwrap();
                        assert_eq!(n, KEYS);
                        std::thread::yield_now();
                    }
                    snapshots += 1;
                }
                snapshots
            })
        })
        .collect();
    let start_size = db.stats().unwrap().file_size;
    for commit in 1..=commits {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("s").unwrap();
            for key in 0..KEYS {
                t.insert(&key.to_be_bytes(), &value(commit, key)).unwrap();
            }
        }
        // A growing tree forces the file across several segments.
        w.open_tree("grow")
            .unwrap()
            .insert(&commit.to_be_bytes(), &vec![commit as u8; 40_000])
            .unwrap();
        w.commit().unwrap();
    }
    stop.store(true, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0);
    }
    let s = db.stats().unwrap();
    assert!(
        s.file_size > start_size + (8 << 20),
        "file grew across segments: {} -> {}",
        start_size,
        s.file_size
    );
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn a_reader_held_forever_makes_the_file_grow_not_the_writer_fail() {
    let dir = tempfile::tempdir().unwrap();
    let db = Options::new()
        .durability(Durability::NoSync)
        .open(dir.path().join("db"))
        .unwrap();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t")
        .unwrap()
        .insert(b"k", &value(0, 0))
        .unwrap();
    w.commit().unwrap();
    let old = db.begin_read().unwrap();
    for commit in 1..200u64 {
        let mut w = db.begin_write().unwrap();
        w.open_tree("t")
            .unwrap()
            .insert(b"k", &value(commit, 0))
            .unwrap();
        w.commit().unwrap();
    }
    assert_eq!(
        decode(old.open_tree("t").unwrap().get(b"k").unwrap().unwrap(), 0),
        0
    );
    let s = db.stats().unwrap();
    assert_eq!(s.oldest_reader_age, Some(199));
    assert!(s.pending_free_pages > 0);
    drop(old);
    assert_eq!(db.stats().unwrap().oldest_reader_age, None);
    assert!(db.check().unwrap().is_clean());
}
