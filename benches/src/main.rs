//! `cargo xtask bench`: the same workload through nevar, LMDB (heed) and redb, one engine
//! after another in one process, each in a fresh temporary directory.
//!
//! Workload after redb's published comparison: N records of 24-byte random keys and 150-byte
//! random values from a seeded generator. Prints a table (ms per phase, sizes in MiB, and the
//! ratios nevar/LMDB and nevar/redb), writes JSON and an SVG chart under `target/bench/`.

mod engines;
mod report;

use std::time::Instant;

use engines::{Engine, Lmdb, Nevar, Pairs, Redb};
use report::{Measure, Results};

struct Args {
    n: usize,
    engines: Vec<String>,
    phases: Option<Vec<String>>,
    out: std::path::PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        n: 1_000_000,
        engines: vec!["nevar".into(), "lmdb".into(), "redb".into()],
        phases: None,
        out: std::path::PathBuf::from("target/bench"),
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let list = |v: Option<String>| {
            v.unwrap_or_default()
                .split(',')
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        match a.as_str() {
            "--n" => {
                args.n = it
                    .next()
                    .and_then(|v| v.replace('_', "").parse().ok())
                    .expect("--n takes a number")
            }
            "--engines" => args.engines = list(it.next()),
            "--phases" => args.phases = Some(list(it.next())),
            "--out" => args.out = it.next().expect("--out takes a directory").into(),
            "--help" | "-h" => {
                eprintln!(
                    "usage: cargo xtask bench [--n N] [--engines nevar,lmdb,redb] [--phases p1,p2,...] [--out DIR]\n\
                     phases: {}",
                    PHASES.join(",")
                );
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}; try --help"),
        }
    }
    args
}

const PHASES: &[&str] = &[
    "bulk load",
    "individual writes",
    "batch writes",
    "nosync writes",
    "len()",
    "random reads",
    "random reads (2nd)",
    "range reads",
    "random reads 1 thread",
    "random reads 2 threads",
    "random reads 4 threads",
    "removals",
    "file size",
    "compaction",
    "compacted size",
    "sorted bulk load",
];

/// A seeded xorshift generator: same data for every engine and every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

fn pairs(rng: &mut Rng, n: usize) -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..n).map(|_| (rng.bytes(24), rng.bytes(150))).collect()
}

fn time(f: impl FnOnce()) -> Measure {
    let start = Instant::now();
    f();
    Measure::Ms(start.elapsed().as_secs_f64() * 1000.0)
}

fn threaded_reads(engine: &dyn Engine, keys: &[&[u8]], threads: usize) -> Measure {
    time(|| {
        std::thread::scope(|s| {
            for part in keys.chunks(keys.len().div_ceil(threads)) {
                s.spawn(move || std::hint::black_box(engine.get_all(part)));
            }
        })
    })
}

fn open_engine(name: &str, dir: &std::path::Path) -> Box<dyn Engine> {
    match name {
        "nevar" => Box::new(Nevar::open(dir)),
        "lmdb" => Box::new(Lmdb::open(dir)),
        "redb" => Box::new(Redb::open(dir)),
        other => panic!("unknown engine {other}"),
    }
}

fn run_engine(name: &str, args: &Args, data: &Pairs, results: &mut Results) {
    let wanted = |p: &str| {
        args.phases
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|x| x == p))
    };
    // Scratch space on the build's disk (not tmpfs, which would hide sync costs).
    let base =
        std::env::var_os("NEVAR_BENCH_DIR").map_or_else(|| args.out.join("scratch"), Into::into);
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(base).unwrap();
    let mut engine = open_engine(name, dir.path());
    let n = data.len();
    let mut rng = Rng(0xBE7C_4A11);
    let mut record = |phase: &str, m: Measure| {
        eprintln!("  {name:>6} {phase:<24} {m}");
        results.add(phase, name, m);
    };
    // The base data is always loaded; later phases need it.
    record("bulk load", time(|| engine.write(data, n, true)));
    let extra = pairs(&mut rng, 1000 + 100_000 + 1000);
    if wanted("individual writes") {
        record(
            "individual writes",
            time(|| engine.write(&extra[..1000], 1, true)),
        );
    }
    if wanted("batch writes") {
        record(
            "batch writes",
            time(|| engine.write(&extra[1000..101_000], 1000, true)),
        );
    }
    if wanted("nosync writes") {
        record(
            "nosync writes",
            time(|| engine.write(&extra[101_000..], 1, false)),
        );
    }
    if wanted("len()") {
        record("len()", time(|| assert!(engine.len() >= n as u64)));
    }
    let mut keys: Vec<&[u8]> = data.iter().map(|(k, _)| k.as_slice()).collect();
    rng.shuffle(&mut keys);
    if wanted("random reads") {
        record(
            "random reads",
            time(|| assert_eq!(engine.get_all(&keys), 150 * n as u64)),
        );
        record(
            "random reads (2nd)",
            time(|| assert_eq!(engine.get_all(&keys), 150 * n as u64)),
        );
    }
    if wanted("range reads") {
        record(
            "range reads",
            time(|| assert!(engine.scan(&keys[..n / 10], 10) >= (n / 10) as u64 * 9)),
        );
    }
    for threads in [1, 2, 4] {
        let phase = format!(
            "random reads {threads} thread{}",
            if threads == 1 { "" } else { "s" }
        );
        if wanted(&phase) {
            record(&phase, threaded_reads(&*engine, &keys, threads));
        }
    }
    if wanted("removals") {
        record("removals", time(|| engine.remove(&keys[..n / 2])));
    }
    record("file size", Measure::Bytes(engine.file_size()));
    if wanted("compaction") {
        let mut size = 0;
        record("compaction", time(|| size = engine.compact(dir.path())));
        record("compacted size", Measure::Bytes(size));
    }
    drop(engine);
    if wanted("sorted bulk load") {
        let fresh = tempfile::tempdir_in(dir.path()).unwrap();
        let mut sorted = data.to_vec();
        sorted.sort_unstable();
        let mut engine = open_engine(name, fresh.path());
        record("sorted bulk load", time(|| engine.append(&sorted)));
    }
}

fn main() {
    let args = parse_args();
    eprintln!(
        "generating {} records (24-byte keys, 150-byte values)",
        args.n
    );
    let data = pairs(&mut Rng(0x5EED_1234_ABCD_0001), args.n);
    let mut results = Results::default();
    for name in &args.engines {
        eprintln!("running {name}");
        run_engine(name, &args, &data, &mut results);
    }
    print!("{}", results.table(&args.engines));
    std::fs::create_dir_all(&args.out).unwrap();
    let json = args.out.join("results.json");
    std::fs::write(&json, results.json(args.n)).unwrap();
    let svg = args.out.join("results.svg");
    results.chart(&svg, &args.engines);
    println!("\nresults: {}\nchart:   {}", json.display(), svg.display());
}
