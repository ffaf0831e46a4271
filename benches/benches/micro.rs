//! criterion micro-benchmarks of the hot paths.
//!
//! - `checksum`: CRC32C (chosen) against XXH3 over one 4 KiB page.
//! - `btree`: random get, random insert, sequential insert, 100-entry range scan, on the
//!   in-memory page store (no I/O).
//! - `remove_range`: removing 90% of a 1M-entry tree by one `remove_range` against removing
//!   the same keys one by one (in-memory page store, a fresh copy of the tree each time).
//! - `db`: point get, cursor step, insert into a warm write txn, commit of a small NoSync txn,
//!   through the public API on a real file.

#![allow(missing_docs)] // criterion's macros generate undocumented functions

use std::hint::black_box;
use std::ops::Bound;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use nevar_btree::{MemStore, Range, TreeDesc, get, insert, remove, remove_range};

fn keys(n: u64) -> Vec<[u8; 16]> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut k = [0u8; 16];
            k[..8].copy_from_slice(&x.to_be_bytes());
            k[8..].copy_from_slice(&x.rotate_left(17).to_be_bytes());
            k
        })
        .collect()
}

fn checksum(c: &mut Criterion) {
    let page: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let mut g = c.benchmark_group("checksum");
    g.throughput(Throughput::Bytes(4096));
    g.bench_function("xxh3_4k", |b| {
        b.iter(|| xxhash_rust::xxh3::xxh3_64(black_box(&page[4..])))
    });
    g.bench_function("crc32c_4k", |b| {
        b.iter(|| crc32c::crc32c(black_box(&page[4..])))
    });
    g.finish();
}

fn loaded(n: u64) -> (MemStore, TreeDesc, Vec<[u8; 16]>) {
    let mut store = MemStore::new(4096);
    let mut desc = TreeDesc::default();
    let ks = keys(n);
    for k in &ks {
        insert(&mut store, &mut desc, k, &[7; 100]).unwrap();
    }
    store.commit();
    (store, desc, ks)
}

fn btree(c: &mut Criterion) {
    let (store, desc, ks) = loaded(100_000);
    let mut g = c.benchmark_group("btree");
    let mut i = 0;
    g.bench_function("random_get_100k", |b| {
        b.iter(|| {
            i = (i + 7919) % ks.len();
            black_box(get(&store, &desc, &ks[i]).unwrap())
        })
    });
    let fresh = keys(1_000_000);
    g.bench_function("random_insert_1k", |b| {
        b.iter_batched(
            || (store.clone(), desc),
            |(mut s, mut d)| {
                for k in &fresh[..1000] {
                    insert(&mut s, &mut d, k, &[1; 100]).unwrap();
                }
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("sequential_insert_1k", |b| {
        b.iter_batched(
            || (MemStore::new(4096), TreeDesc::default()),
            |(mut s, mut d)| {
                for n in 0..1000u64 {
                    insert(&mut s, &mut d, &n.to_be_bytes(), &[1; 100]).unwrap();
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("range_scan_100", |b| {
        b.iter(|| {
            i = (i + 7919) % ks.len();
            Range::new(&store, &desc, Bound::Included(&ks[i][..]), Bound::Unbounded)
                .unwrap()
                .take(100)
                .count()
        })
    });
    g.finish();
}

fn db(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = nevar::Options::new()
        .durability(nevar::Durability::NoSync)
        .open(dir.path().join("micro.nevar"))
        .unwrap();
    let ks = keys(100_000);
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for k in &ks {
            t.insert(k, &[3; 100]).unwrap();
        }
    }
    w.commit().unwrap();
    let mut g = c.benchmark_group("db");
    let r = db.begin_read().unwrap();
    let t = r.open_tree("t").unwrap();
    let mut i = 0;
    g.bench_function("point_get", |b| {
        b.iter(|| {
            i = (i + 7919) % ks.len();
            black_box(t.get(&ks[i]).unwrap())
        })
    });
    let mut it = t.iter().unwrap();
    g.bench_function("cursor_step", |b| {
        b.iter(|| match it.next() {
            Some(e) => black_box(e.unwrap()),
            None => {
                it = t.iter().unwrap();
                black_box(it.next().unwrap().unwrap())
            }
        })
    });
    drop(it);
    drop(r);
    let more = keys(2_000_000);
    let mut w = db.begin_write().unwrap();
    let mut n = 100_000;
    g.bench_function("insert_warm_txn", |b| {
        let mut t = w.open_tree("t").unwrap();
        b.iter(|| {
            n = (n + 1) % more.len();
            t.insert(&more[n], &[5; 100]).unwrap()
        })
    });
    drop(w);
    g.bench_function("commit_small_nosync", |b| {
        b.iter(|| {
            let mut w = db.begin_write().unwrap();
            i = (i + 7919) % ks.len();
            w.open_tree("t").unwrap().insert(&ks[i], &[9; 100]).unwrap();
            w.commit().unwrap()
        })
    });
    g.finish();
}

fn range_removal(c: &mut Criterion) {
    const N: u64 = 1_000_000;
    let mut store = MemStore::new(4096);
    let mut desc = TreeDesc::default();
    for i in 0..N {
        insert(&mut store, &mut desc, &i.to_be_bytes(), &[7; 100]).unwrap();
    }
    store.commit();
    // Keys 50,000 to 950,000: 90% of the tree, leaving both ends.
    let (lo, hi) = ((N / 20).to_be_bytes(), (N - N / 20).to_be_bytes());
    let mut g = c.benchmark_group("remove_range");
    g.sample_size(10);
    g.bench_function("remove_range_90pct_of_1m", |b| {
        b.iter_batched(
            || (store.clone(), desc),
            |(mut s, mut d)| {
                let range = (Bound::Included(&lo[..]), Bound::Excluded(&hi[..]));
                black_box(remove_range(&mut s, &mut d, range.0, range.1).unwrap())
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("remove_one_by_one_90pct_of_1m", |b| {
        b.iter_batched(
            || (store.clone(), desc),
            |(mut s, mut d)| {
                for i in N / 20..N - N / 20 {
                    remove(&mut s, &mut d, &i.to_be_bytes()).unwrap();
                }
                black_box(d.entries)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Typed `u64` keys against the raw API with the same bytes (big-endian), on one tree.
fn typed(c: &mut Criterion) {
    const N: u64 = 100_000;
    const TYPED: nevar::TreeDef<u64, &[u8]> = nevar::TreeDef::new("u64");
    let dir = tempfile::tempdir().unwrap();
    let db = nevar::Options::new()
        .durability(nevar::Durability::NoSync)
        .open(dir.path().join("typed.nevar"))
        .unwrap();
    // Spread keys, so gets and inserts land all over the tree.
    let spread = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree(TYPED).unwrap();
        for i in 0..N {
            t.insert(spread(i), &[3; 100]).unwrap();
        }
    }
    w.commit().unwrap();
    let mut g = c.benchmark_group("typed");
    {
        let r = db.begin_read().unwrap();
        let typed = r.open_tree(TYPED).unwrap();
        let raw = r.open_tree("u64").unwrap();
        let mut i = 0;
        g.bench_function("get_u64_typed", |b| {
            b.iter(|| {
                i = (i + 7919) % N;
                black_box(typed.get(spread(i)).unwrap())
            })
        });
        g.bench_function("get_u64_raw", |b| {
            b.iter(|| {
                i = (i + 7919) % N;
                black_box(raw.get(&spread(i).to_be_bytes()).unwrap())
            })
        });
    }
    // Each in its own transaction (aborted after), inserting the same new keys.
    g.bench_function("insert_u64_typed", |b| {
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree(TYPED).unwrap();
        let mut n = N;
        b.iter(|| {
            n += 1;
            t.insert(spread(n), &[5; 100]).unwrap()
        })
    });
    g.bench_function("insert_u64_raw", |b| {
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("u64").unwrap();
        let mut n = N;
        b.iter(|| {
            n += 1;
            t.insert(&spread(n).to_be_bytes(), &[5; 100]).unwrap()
        })
    });
    g.finish();
}

/// `savepoint()` after many changes (it must not depend on how many), and `rollback_to`
/// after some (it must follow the pages they allocated).
fn savepoints(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let db = nevar::Options::new()
        .durability(nevar::Durability::NoSync)
        .open(dir.path().join("savepoints.nevar"))
        .unwrap();
    let ks = keys(200_000);
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for k in &ks[..100_000] {
            t.insert(k, &[1; 100]).unwrap();
        }
    }
    w.commit().unwrap();
    let mut g = c.benchmark_group("savepoint");
    for changed in [1_000usize, 100_000] {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for k in &ks[100_000..100_000 + changed] {
                t.insert(k, &[2; 100]).unwrap();
            }
        }
        // Rolling back to `base` now and then (untimed, nothing changed since) keeps the
        // stack of live savepoints short.
        let base = w.savepoint().unwrap();
        g.bench_function(format!("savepoint_after_{changed}_changes"), |b| {
            b.iter_custom(|iters| {
                let mut timed = std::time::Duration::ZERO;
                for i in 0..iters {
                    let start = std::time::Instant::now();
                    black_box(w.savepoint().unwrap());
                    timed += start.elapsed();
                    if i % 1024 == 1023 {
                        w.rollback_to(&base).unwrap();
                    }
                }
                timed
            })
        });
    }
    for later in [1_000usize, 10_000] {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for k in &ks[100_000..150_000] {
                t.insert(k, &[2; 100]).unwrap();
            }
        }
        let sp = w.savepoint().unwrap();
        // Only the rollback is timed; the changes before it are redone each iteration.
        g.bench_function(format!("rollback_after_{later}_changes"), |b| {
            b.iter_custom(|iters| {
                let mut timed = std::time::Duration::ZERO;
                for _ in 0..iters {
                    let mut t = w.open_tree("t").unwrap();
                    for k in &ks[150_000..150_000 + later] {
                        t.insert(k, &[3; 100]).unwrap();
                    }
                    let start = std::time::Instant::now();
                    w.rollback_to(&sp).unwrap();
                    timed += start.elapsed();
                }
                timed
            })
        });
    }
    g.finish();
}

fn config() -> Criterion {
    use std::time::Duration;
    Criterion::default()
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
}

criterion_group! {
    name = benches;
    config = config();
    targets = checksum, btree, range_removal, db, typed, savepoints
}
criterion_main!(benches);
