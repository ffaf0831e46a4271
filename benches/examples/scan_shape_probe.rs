//! Where a short range scan spends its time, against LMDB: the same 100,000 random start keys
//! scanned for 1, 2, 5, 10 and 20 entries, so the seek (the intercept) and each further step
//! (the slope) can be told apart, with point reads of the same keys beside them.
//!
//! `cargo run --release -p nevar-bench --example scan_shape_probe -- [entries] [reopen]`
//! (default 1000000). Both engines load the same random 24/150-byte entries in one
//! transaction. With `reopen`, both files are synced, their cached pages dropped
//! (`POSIX_FADV_DONTNEED`) and both reopened (nevar read-only), so both caches are refilled
//! through readahead by a first pass of gets: the folio sizes are then the kernel's choice for
//! both files, not the write path's. Before timing, it reports how a 10-entry scan's keys lie
//! in memory for each engine (cache lines, pages, cell order). Three rounds, the engine that
//! goes first alternating.

use std::ops::Bound;
use std::path::Path;
use std::time::Instant;

use heed::types::Bytes;
use nevar_testkit::Rng;

const STARTS: usize = 100_000;
const LENGTHS: [usize; 5] = [1, 2, 5, 10, 20];

/// The two engines over the same entries.
struct Engines {
    nevar: nevar::Database,
    env: heed::Env,
    lmdb: heed::Database<Bytes, Bytes>,
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Nevar,
    Lmdb,
}

impl Engines {
    /// For each start, the addresses of the first `count` keys from it, passed to `visit`.
    fn scan(
        &self,
        which: Which,
        starts: &[[u8; 24]],
        count: usize,
        visit: &mut dyn FnMut(&[usize]),
    ) {
        let mut keys = Vec::with_capacity(count);
        match which {
            Which::Nevar => {
                let r = self.nevar.begin_read().unwrap();
                let t = r.open_tree("probe").unwrap();
                for s in starts {
                    keys.clear();
                    for e in t.range(&s[..]..).unwrap().take(count) {
                        let (k, v) = e.unwrap();
                        assert!(!v.is_empty());
                        keys.push(k.as_ptr() as usize);
                    }
                    visit(&keys);
                }
            }
            Which::Lmdb => {
                let r = self.env.read_txn().unwrap();
                for s in starts {
                    keys.clear();
                    let bounds = (Bound::Included(&s[..]), Bound::Unbounded);
                    for e in self.lmdb.range(&r, &bounds).unwrap().take(count) {
                        let (k, v) = e.unwrap();
                        assert!(!v.is_empty());
                        keys.push(k.as_ptr() as usize);
                    }
                    visit(&keys);
                }
            }
        }
    }

    /// Milliseconds for point reads of `keys`.
    fn gets(&self, which: Which, keys: &[[u8; 24]]) -> u128 {
        let start = Instant::now();
        let found: usize = match which {
            Which::Nevar => {
                let r = self.nevar.begin_read().unwrap();
                let t = r.open_tree("probe").unwrap();
                keys.iter().map(|k| t.get(k).unwrap().unwrap().len()).sum()
            }
            Which::Lmdb => {
                let r = self.env.read_txn().unwrap();
                keys.iter()
                    .map(|k| self.lmdb.get(&r, k).unwrap().unwrap().len())
                    .sum()
            }
        };
        assert_eq!(found, 150 * keys.len());
        start.elapsed().as_millis()
    }
}

fn open_lmdb(dir: &Path) -> heed::Env {
    // SAFETY: heed's open is unsafe because another opener of the same environment could
    // break LMDB's rules; this directory is the probe's own and nothing else opens it.
    unsafe { heed::EnvOpenOptions::new().map_size(2 << 30).open(dir) }.unwrap()
}

fn drop_cached(path: &Path) {
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
}

fn build(dir: &Path, keys: &[[u8; 24]], reopen: bool) -> Engines {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("lmdb")).unwrap();
    let value = [7u8; 150];
    let nevar_path = dir.join("probe.nevar");
    let nevar = nevar::Database::open(&nevar_path).unwrap();
    let mut w = nevar.begin_write().unwrap();
    {
        let mut t = w.open_tree("probe").unwrap();
        for k in keys {
            t.insert(k, &value).unwrap();
        }
    }
    w.commit().unwrap();
    let env = open_lmdb(&dir.join("lmdb"));
    let mut w = env.write_txn().unwrap();
    let lmdb: heed::Database<Bytes, Bytes> = env.create_database(&mut w, None).unwrap();
    for k in keys {
        lmdb.put(&mut w, k, &value).unwrap();
    }
    w.commit().unwrap();
    if !reopen {
        return Engines { nevar, env, lmdb };
    }
    drop(nevar);
    env.prepare_for_closing().wait();
    drop_cached(&nevar_path);
    drop_cached(&dir.join("lmdb/data.mdb"));
    let nevar = nevar::Options::new()
        .read_only(true)
        .open(&nevar_path)
        .unwrap();
    let env = open_lmdb(&dir.join("lmdb"));
    let r = env.read_txn().unwrap();
    let lmdb = env.open_database(&r, None).unwrap().unwrap();
    r.commit().unwrap();
    let engines = Engines { nevar, env, lmdb };
    println!(
        "first pass after the drop: nevar {} ms, lmdb {} ms",
        engines.gets(Which::Nevar, keys),
        engines.gets(Which::Lmdb, keys)
    );
    engines
}

/// How the keys of 10-entry scans lie in memory.
fn layout(engines: &Engines, which: Which, starts: &[[u8; 24]]) -> String {
    let (mut lines, mut pages, mut steps, mut before, mut after) = (0, 0, 0, 0, 0);
    engines.scan(which, starts, 10, &mut |keys| {
        let distinct = |unit: usize| {
            let mut v: Vec<usize> = keys.iter().map(|p| p / unit).collect();
            v.sort_unstable();
            v.dedup();
            v.len()
        };
        lines += distinct(64);
        pages += distinct(4096);
        for w in keys.windows(2) {
            let d = w[1] as isize - w[0] as isize;
            steps += 1;
            before += usize::from((-256..0).contains(&d));
            after += usize::from((1..256).contains(&d));
        }
    });
    let per_scan = |x: usize| x as f64 / starts.len() as f64;
    let share = |x: usize| 100.0 * x as f64 / steps as f64;
    format!(
        "{:.2} key lines and {:.2} pages per scan; next key within 256 bytes before: {:.1}%, after: {:.1}%",
        per_scan(lines),
        per_scan(pages),
        share(before),
        share(after)
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let entries: usize = args
        .first()
        .map_or(1_000_000, |a| a.parse().expect("a number"));
    let reopen = args.iter().any(|a| a == "reopen");
    let mut rng = Rng(0x5EED_0000_4A6E_0004);
    let mut keys: Vec<[u8; 24]> = (0..entries)
        .map(|_| std::array::from_fn(|_| rng.next() as u8))
        .collect();
    let engines = build(Path::new("target/bench/scan_shape_probe"), &keys, reopen);
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let starts: Vec<[u8; 24]> = (0..STARTS).map(|i| keys[i % entries]).collect();
    for which in [Which::Nevar, Which::Lmdb] {
        let name = if which == Which::Nevar {
            "nevar"
        } else {
            "lmdb"
        };
        println!("{name}: {}", layout(&engines, which, &starts[..20_000]));
    }
    println!("ms for {STARTS} scans (or gets) from random keys, {entries} entries");
    for round in 0..3 {
        let order = if round % 2 == 0 {
            [Which::Nevar, Which::Lmdb]
        } else {
            [Which::Lmdb, Which::Nevar]
        };
        for count in LENGTHS {
            let mut ms = [0u128; 2];
            for which in order {
                let start = Instant::now();
                engines.scan(which, &starts, count, &mut |_| {});
                ms[which as usize] = start.elapsed().as_millis();
            }
            println!(
                "round {round} take {count:>2}: nevar {:>4}  lmdb {:>4}",
                ms[0], ms[1]
            );
        }
        let mut ms = [0u128; 2];
        for which in order {
            ms[which as usize] = engines.gets(which, &starts);
        }
        println!(
            "round {round} gets   : nevar {:>4}  lmdb {:>4}",
            ms[0], ms[1]
        );
    }
}
