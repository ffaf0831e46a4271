//! Random reads through read-only maps with and without `Options::huge_pages`, each from a
//! cold page cache: the file's cached pages are dropped (`POSIX_FADV_DONTNEED`) before every
//! open, so the first pass faults the file in through readahead (which is where the folio
//! size is decided) and the second pass reads it from memory.
//!
//! `cargo run --release -p nevar-bench --example huge_pages_probe -- [entries] [rounds]`
//! (default 1000000 3) builds `entries` random 24/150-byte entries under `target/bench/`,
//! then alternates the two modes `rounds` times, first mode rotating, and prints each pass's
//! time and how much of the map the kernel mapped with 2 MiB entries (`FilePmdMapped` in
//! `/proc/self/smaps_rollup`).

use std::time::Instant;

use nevar::{Database, Options};
use nevar_testkit::Rng;

/// Drops the file's clean pages from the page cache.
fn evict(path: &std::path::Path) {
    let file = std::fs::File::open(path).expect("the database file");
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).expect("fadvise");
}

/// `FilePmdMapped` of this process, in KiB.
fn pmd_mapped_kib() -> u64 {
    let rollup = std::fs::read_to_string("/proc/self/smaps_rollup").unwrap_or_default();
    rollup
        .lines()
        .find_map(|l| l.strip_prefix("FilePmdMapped:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let entries = args.first().copied().unwrap_or(1_000_000);
    let rounds = args.get(1).copied().unwrap_or(3);
    let dir = std::path::PathBuf::from("target/bench/huge_pages_probe");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.nevar");
    let _ = std::fs::remove_file(&path);

    let mut rng = Rng(0x5EED_0000_4A6E_0001);
    let mut keys: Vec<[u8; 24]> = (0..entries)
        .map(|_| {
            let mut k = [0u8; 24];
            k.iter_mut().for_each(|b| *b = rng.next() as u8);
            k
        })
        .collect();
    {
        let db = Database::open(&path).unwrap();
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("probe").unwrap();
        let value = [7u8; 150];
        for k in &keys {
            t.insert(k, &value).unwrap();
        }
        w.commit().unwrap();
    }
    for i in (1..keys.len()).rev() {
        keys.swap(i, rng.below(i as u64 + 1) as usize);
    }
    println!(
        "{entries} entries, file {:.1} MiB",
        std::fs::metadata(&path).unwrap().len() as f64 / (1 << 20) as f64
    );
    println!("mode        cold pass   warm pass   FilePmdMapped");
    for round in 0..rounds {
        for turn in 0..2 {
            let huge = (round + turn) % 2 == 1;
            evict(&path);
            let db = Options::new()
                .read_only(true)
                .huge_pages(huge)
                .open(&path)
                .unwrap();
            let r = db.begin_read().unwrap();
            let t = r.open_tree("probe").unwrap();
            let pass = || {
                let start = Instant::now();
                let found: usize = keys
                    .iter()
                    .map(|k| t.get(k).unwrap().map_or(0, <[u8]>::len))
                    .sum();
                assert_eq!(found, 150 * keys.len());
                start.elapsed().as_secs_f64() * 1000.0
            };
            let (cold, warm) = (pass(), pass());
            println!(
                "{:<10} {cold:>8.0} ms {warm:>8.0} ms {:>10} KiB",
                if huge { "huge" } else { "plain" },
                pmd_mapped_kib()
            );
        }
    }
    let _ = std::fs::remove_file(&path);
}
