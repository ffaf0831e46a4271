//! `cargo xtask bench`: the same workload through nevar, LMDB (heed) and redb in one process,
//! each in a fresh temporary directory, every phase on all engines before the next phase.
//!
//! Workload after redb's published comparison: N records of 24-byte random keys and 150-byte
//! random values from a seeded generator. Prints a table (ms per phase, sizes in MiB, and the
//! ratios nevar/LMDB and nevar/redb), writes JSON and an SVG chart under `target/bench/`.

mod engines;
mod report;

use std::time::Instant;

use engines::{Engine, Lmdb, Nevar, Pairs, Redb};
use report::{Measure, Results};

/// How keys are drawn.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Keys {
    /// 24 random bytes.
    Random,
    /// 24 bytes shaped like an application's composite keys, `org-0421/user-01234567/p`:
    /// a long shared prefix, then digits (what prefix compression and key heads are for).
    Composite,
}

struct Args {
    n: usize,
    keys: Keys,
    /// Whole runs, each in fresh directories with the first engine rotated; the table shows
    /// medians and the ratios' ranges.
    repeat: usize,
    engines: Vec<String>,
    phases: Option<Vec<String>>,
    out: std::path::PathBuf,
}

fn parse_args() -> Args {
    let mut args = Args {
        n: 1_000_000,
        keys: Keys::Random,
        repeat: 1,
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
            "--keys" => {
                args.keys = match it.next().as_deref() {
                    Some("random") => Keys::Random,
                    Some("composite") => Keys::Composite,
                    _ => panic!("--keys takes random or composite"),
                }
            }
            "--repeat" => {
                args.repeat = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r| r >= 1)
                    .expect("--repeat takes a count of at least 1")
            }
            "--engines" => args.engines = list(it.next()),
            "--phases" => args.phases = Some(list(it.next())),
            "--out" => args.out = it.next().expect("--out takes a directory").into(),
            "--help" | "-h" => {
                eprintln!(
                    "usage: cargo xtask bench [--n N] [--keys random|composite] [--repeat R] [--engines nevar,lmdb,redb] [--phases p1,p2,...] [--out DIR]\n\
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
    "durable writes 4 threads",
    "durable writes 16 threads",
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

/// `n` records; composite keys are numbered from `first` so that no two calls' keys collide.
fn pairs(rng: &mut Rng, n: usize, keys: Keys, first: u64) -> Vec<(Vec<u8>, Vec<u8>)> {
    (first..first + n as u64)
        .map(|i| {
            let key = match keys {
                Keys::Random => rng.bytes(24),
                // The user id is `i` scrambled by a bijection of 0..10^8 (multiplying by a
                // number coprime to 10^8), so keys are unique and arrive in no order.
                Keys::Composite => format!(
                    "org-{:04}/user-{:08}/p",
                    rng.next() % 1000,
                    i.wrapping_mul(2_654_435_761) % 100_000_000
                )
                .into_bytes(),
            };
            (key, rng.bytes(150))
        })
        .collect()
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

/// `pairs` as one durable commit each, split over `threads` threads committing at once.
fn threaded_commits(engine: &dyn Engine, pairs: &Pairs, threads: usize) -> Measure {
    time(|| {
        std::thread::scope(|s| {
            for part in pairs.chunks(pairs.len().div_ceil(threads)) {
                s.spawn(move || engine.commit_each(part));
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

/// One engine under test, in its own scratch directory.
struct Subject {
    name: String,
    dir: tempfile::TempDir,
    engine: Box<dyn Engine>,
}

/// Runs each phase on every engine back to back before the next phase. On a shared machine
/// the background load changes from minute to minute; run one engine after another and each
/// engine meets a different machine, and the ratios measure the neighbours as much as the
/// engines. Interleaved, the engines of one phase run seconds apart. The engine that goes
/// first rotates from phase to phase, so none always runs right after another's writes.
struct Runner {
    subjects: Vec<Subject>,
    turn: usize,
    results: Results,
}

impl Runner {
    fn phase(&mut self, phase: &str, mut run: impl FnMut(&mut Subject) -> Measure) {
        let count = self.subjects.len();
        for j in 0..count {
            let subject = &mut self.subjects[(self.turn + j) % count];
            let m = run(subject);
            eprintln!("  {:>6} {phase:<24} {m}", subject.name);
            self.results.add(phase, &subject.name, m);
        }
        self.turn += 1;
    }
}

/// One whole run; `first_turn` picks the engine that goes first in the first phase.
fn run(args: &Args, data: &Pairs, first_turn: usize) -> Results {
    let wanted = |p: &str| {
        args.phases
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|x| x == p))
    };
    // Scratch space on the build's disk (not tmpfs, which would hide sync costs).
    let base =
        std::env::var_os("NEVAR_BENCH_DIR").map_or_else(|| args.out.join("scratch"), Into::into);
    std::fs::create_dir_all(&base).unwrap();
    let subjects = args
        .engines
        .iter()
        .map(|name| {
            let dir = tempfile::tempdir_in(&base).unwrap();
            let engine = open_engine(name, dir.path());
            Subject {
                name: name.clone(),
                dir,
                engine,
            }
        })
        .collect();
    let mut runner = Runner {
        subjects,
        turn: first_turn,
        results: Results::default(),
    };
    let n = data.len();
    let mut rng = Rng(0xBE7C_4A11);
    // The base data is always loaded; later phases need it.
    runner.phase("bulk load", |s| time(|| s.engine.write(data, n, true)));
    let extra_len = COMMITS + BATCH_ENTRIES + COMMITS;
    let extra = pairs(&mut rng, extra_len, args.keys, n as u64);
    let concurrent = pairs(&mut rng, 2 * COMMITS, args.keys, (n + extra_len) as u64);
    if wanted("individual writes") {
        runner.phase("individual writes", |s| {
            time(|| s.engine.write(&extra[..COMMITS], 1, true))
        });
    }
    for (threads, part) in [(4, &concurrent[..COMMITS]), (16, &concurrent[COMMITS..])] {
        let phase = format!("durable writes {threads} threads");
        if wanted(&phase) {
            runner.phase(&phase, |s| threaded_commits(&*s.engine, part, threads));
        }
    }
    if wanted("batch writes") {
        runner.phase("batch writes", |s| {
            let batches = &extra[COMMITS..COMMITS + BATCH_ENTRIES];
            time(|| s.engine.write(batches, BATCH, true))
        });
    }
    if wanted("nosync writes") {
        runner.phase("nosync writes", |s| {
            time(|| s.engine.write(&extra[COMMITS + BATCH_ENTRIES..], 1, false))
        });
    }
    if wanted("len()") {
        runner.phase("len()", |s| time(|| assert!(s.engine.len() >= n as u64)));
    }
    let mut keys: Vec<&[u8]> = data.iter().map(|(k, _)| k.as_slice()).collect();
    rng.shuffle(&mut keys);
    if wanted("random reads") {
        for phase in ["random reads", "random reads (2nd)"] {
            runner.phase(phase, |s| {
                time(|| assert_eq!(s.engine.get_all(&keys), 150 * n as u64))
            });
        }
    }
    if wanted("range reads") {
        runner.phase("range reads", |s| {
            time(|| assert!(s.engine.scan(&keys[..n / 10], 10) >= (n / 10) as u64 * 9))
        });
    }
    for threads in [1, 2, 4] {
        let phase = format!(
            "random reads {threads} thread{}",
            if threads == 1 { "" } else { "s" }
        );
        if wanted(&phase) {
            runner.phase(&phase, |s| threaded_reads(&*s.engine, &keys, threads));
        }
    }
    if wanted("removals") {
        runner.phase("removals", |s| time(|| s.engine.remove(&keys[..n / 2])));
    }
    runner.phase("file size", |s| Measure::Bytes(s.engine.file_size()));
    if wanted("compaction") {
        let mut sizes = Vec::new();
        runner.phase("compaction", |s| {
            let mut size = 0;
            let m = time(|| size = s.engine.compact(s.dir.path()));
            sizes.push((s.name.clone(), size));
            m
        });
        runner.phase("compacted size", |s| {
            let size = sizes.iter().find(|(name, _)| *name == s.name).unwrap().1;
            Measure::Bytes(size)
        });
    }
    if wanted("sorted bulk load") {
        let mut sorted = data.to_vec();
        sorted.sort_unstable();
        runner.phase("sorted bulk load", |s| {
            let fresh = s.dir.path().join("sorted");
            std::fs::create_dir_all(&fresh).unwrap();
            // The earlier engine's files stay; only the new one is loaded and measured.
            s.engine = open_engine(&s.name, &fresh);
            time(|| s.engine.append(&sorted))
        });
    }
    runner.results
}

/// Single-insert commits in each of the individual, threaded and NoSync write phases.
const COMMITS: usize = 1000;
/// Entries the batch phase writes, and entries per batch commit.
const BATCH_ENTRIES: usize = 100_000;
const BATCH: usize = 1000;

/// The phases that time a fixed number of commits, with that number (see `run`).
const COMMIT_PHASES: [(&str, u64); 5] = [
    ("individual writes", COMMITS as u64),
    ("durable writes 4 threads", COMMITS as u64),
    ("durable writes 16 threads", COMMITS as u64),
    ("batch writes", (BATCH_ENTRIES / BATCH) as u64),
    ("nosync writes", COMMITS as u64),
];

fn main() {
    let args = parse_args();
    eprintln!(
        "generating {} records (24-byte {:?} keys, 150-byte values)",
        args.n, args.keys
    );
    let data = pairs(&mut Rng(0x5EED_1234_ABCD_0001), args.n, args.keys, 0);
    let runs: Vec<Results> = (0..args.repeat)
        .map(|r| {
            if args.repeat > 1 {
                eprintln!("run {} of {}", r + 1, args.repeat);
            }
            run(&args, &data, r)
        })
        .collect();
    let results = Results::median(&runs);
    print!("{}", results.table(&args.engines));
    print!("{}", results.commit_rates(&args.engines, &COMMIT_PHASES));
    if runs.len() > 1 {
        print!("{}", Results::spread(&runs));
    }
    std::fs::create_dir_all(&args.out).unwrap();
    let json = args.out.join("results.json");
    std::fs::write(&json, results.json(args.n)).unwrap();
    let svg = args.out.join("results.svg");
    results.chart(&svg, &args.engines);
    println!("\nresults: {}\nchart:   {}", json.display(), svg.display());
}
