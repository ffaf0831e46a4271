//! What a durable single-insert commit costs the disk: write requests and syncs per commit,
//! read from `/proc/diskstats` (the device holding the temp dir; other programs' writes count
//! too, so take the smallest of several runs) and `Database::stats`, whose runs of adjacent
//! pages per commit are exact (a sync sends about one write per run, plus the meta).
//!
//! `cargo run --release -p nevar-bench --example commit_probe -- [entries] [commits] [threads...]`
//! loads `entries` random 24/150-byte entries, then makes `commits` durable single-insert
//! commits spread over each thread count in turn (default 100000 1000 1 4 16). Last, the sync
//! floor: `pwrite` of 1 or 6 pages (scattered or adjacent), or of a commit group's 16 to 37
//! scattered (or 37 adjacent) pages and its meta, into a 64 MiB file and one
//! `fdatasync`, median of 300, the physical cost a commit of that shape cannot go below.

use std::os::unix::fs::{FileExt, MetadataExt};
use std::time::Instant;

/// Writes completed on device `major:minor` so far (the fifth field after the name).
fn writes_completed(major: u64, minor: u64) -> u64 {
    let stats = std::fs::read_to_string("/proc/diskstats").expect("/proc/diskstats");
    for line in stats.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() > 7 && f[0].parse() == Ok(major) && f[1].parse() == Ok(minor) {
            return f[7].parse().expect("a count");
        }
    }
    // A partition's own line may be missing (a whole-disk device): fall back to minor 0.
    if minor != 0 {
        return writes_completed(major, 0);
    }
    panic!("device {major}:{minor} not in /proc/diskstats")
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let entries = args.first().copied().unwrap_or(100_000);
    let commits = args.get(1).copied().unwrap_or(1000);
    let thread_counts = if args.len() > 2 {
        args[2..].to_vec()
    } else {
        vec![1, 4, 16]
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("probe.nevar");
    let db = nevar::Database::open(&path).unwrap();
    let dev = std::fs::metadata(&path).unwrap().dev();
    let (major, minor) = (((dev >> 8) & 0xfff) as u64, (dev & 0xff) as u64);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng as u8
            })
            .collect()
    };
    {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("probe").unwrap();
            for _ in 0..entries {
                t.insert(&bytes(24), &bytes(150)).unwrap();
            }
        }
        w.commit().unwrap();
    }
    println!(
        "threads  commits  ms      us/commit  writes/commit  syncs/commit  pages/commit  runs/commit"
    );
    for threads in thread_counts {
        let pairs: Vec<(Vec<u8>, Vec<u8>)> =
            (0..commits).map(|_| (bytes(24), bytes(150))).collect();
        let before = db.stats().unwrap();
        let writes_before = writes_completed(major, minor);
        let started = Instant::now();
        std::thread::scope(|s| {
            for part in pairs.chunks(pairs.len().div_ceil(threads as usize)) {
                let db = &db;
                s.spawn(move || {
                    for (k, v) in part {
                        let mut w = db.begin_write().unwrap();
                        w.open_tree("probe").unwrap().insert(k, v).unwrap();
                        w.commit().unwrap();
                    }
                });
            }
        });
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let writes = writes_completed(major, minor) - writes_before;
        let after = db.stats().unwrap();
        let per_commit = |n: u64| n as f64 / commits as f64;
        println!(
            "{threads:>7}  {commits:>7}  {ms:>6.0}  {:>9.0}  {:>13.2}  {:>12.2}  {:>12.2}  {:>11.2}",
            ms * 1000.0 / commits as f64,
            per_commit(writes),
            per_commit(after.syncs - before.syncs),
            per_commit(after.pages_written - before.pages_written),
            per_commit(after.page_runs_written - before.page_runs_written),
        );
    }
    sync_floor(dir.path());
}

/// Median microseconds of `pwrite` of the pages at `offsets` (page numbers) plus one
/// `fdatasync`, over 300 rounds, for a few commit shapes.
fn sync_floor(dir: &std::path::Path) {
    const PAGE: u64 = 4096;
    const PAGES: u64 = 16384; // 64 MiB
    let path = dir.join("sync-floor");
    let file = std::fs::File::options()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let zeros = vec![0u8; 1 << 20];
    for mib in 0..(PAGES * PAGE) >> 20 {
        file.write_all_at(&zeros, mib << 20).unwrap();
    }
    file.sync_all().unwrap();
    let page = vec![0xA5u8; PAGE as usize];
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut random_page = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        2 + x % (PAGES - 2)
    };
    println!("sync floor (pwrite + fdatasync, median of 300):");
    /// A commit shape: the pages it writes, drawing random ones from the generator.
    type Shape = fn(&mut dyn FnMut() -> u64) -> Vec<u64>;
    // A group commit of n single-insert commits writes at least each commit's leaf and its
    // parent branch (random keys: scattered) plus the meta; the last shapes are that floor for
    // groups of 8 and 16, and a group of 8 as it is written today (about 4.7 runs a commit).
    let shapes: [(&str, Shape); 7] = [
        ("1 page (meta only)", |_| vec![0]),
        ("6 pages, 5 scattered + meta", |r| {
            vec![0, r(), r(), r(), r(), r()]
        }),
        ("6 pages adjacent to the meta", |_| (0..6).collect()),
        ("17 pages, 16 scattered + meta", |r| {
            std::iter::once(0).chain((0..16).map(|_| r())).collect()
        }),
        ("33 pages, 32 scattered + meta", |r| {
            std::iter::once(0).chain((0..32).map(|_| r())).collect()
        }),
        ("38 pages, 37 scattered + meta", |r| {
            std::iter::once(0).chain((0..37).map(|_| r())).collect()
        }),
        ("38 pages adjacent to the meta", |_| (0..38).collect()),
    ];
    for (name, shape) in shapes {
        let mut times: Vec<f64> = (0..300)
            .map(|_| {
                let pages = shape(&mut random_page);
                let started = Instant::now();
                for p in pages {
                    file.write_all_at(&page, p * PAGE).unwrap();
                }
                file.sync_data().unwrap();
                started.elapsed().as_secs_f64() * 1e6
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!("  {name:<30} {:>6.0} us", times[times.len() / 2]);
    }
}
