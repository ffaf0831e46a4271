//! Hostile files: the checked-in corpus of mutation programs (`fuzz/corpus/hostile_file/`,
//! also the seed corpus of the cargo-fuzz target) replayed deterministically, each file under
//! a watchdog, plus the classic structural attacks by name. 0 panics, 0 hangs.
//!
//! `NEVAR_WRITE_CORPUS=1 cargo test --release -p nevar --test hostile_files` regenerates the
//! seed corpus (fixed seed, so the same files).

mod hostile;

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use nevar::testing::SimulatedDisk;
use nevar_testkit::Rng;

/// Generous: a file takes milliseconds; this only turns a hang into a failure.
const WATCHDOG: Duration = Duration::from_secs(60);
const CORPUS_FILES: usize = 600;

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/hostile_file")
}

/// The classic attacks as programs: (name, program bytes).
fn classics() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    for base in [0u8, 1] {
        out.push(("branch-points-to-itself", vec![base, 5, 0, 0, 0, 0]));
        out.push(("child-past-the-end", vec![base, 6, 0, 0, 1, 0, 7, 0, 0, 0]));
        out.push((
            "free-record-names-a-live-page",
            vec![base, 8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        ));
        out.push(("wrong-kind-for-the-free-tree-root", vec![base, 9, 4]));
        out.push((
            "slot-head-one-too-high",
            vec![base, 15, 0, 0, 3, 0, 1, 0, 0, 0, 0],
        ));
        out.push(("prefix-length-one-too-long", vec![base, 16, 0, 0, 1, 0, 0]));
        out.push(("head-gap-one-too-long", vec![base, 17, 0, 0, 1, 0]));
        out.push(("head-gap-lead-alone", vec![base, 17, 0, 0, 2, 0]));
    }
    out
}

/// Seeded programs: a base, then 1 to 6 operations with random arguments.
fn generated(count: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_f11e);
    (0..count)
        .map(|_| {
            let mut program = vec![rng.next() as u8 & 1];
            for _ in 0..1 + rng.next() % 6 {
                program.push((rng.next() % 19) as u8);
                program.extend((0..12).map(|_| rng.next() as u8));
            }
            program
        })
        .collect()
}

/// The seed corpus as the generator makes it: (file name, program).
fn seed_corpus() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = generated(CORPUS_FILES)
        .into_iter()
        .enumerate()
        .map(|(i, program)| (format!("seed-{i:04}"), program))
        .collect();
    for (name, program) in classics() {
        let base = if program[0] == 0 { "unclean" } else { "clean" };
        files.push((format!("classic-{name}-{base}"), program));
    }
    files
}

/// Writes the seed corpus with `NEVAR_WRITE_CORPUS=1`; otherwise checks that the checked-in
/// one holds every generated file unchanged (a fuzzing session may add more files).
#[test]
fn the_checked_in_corpus_is_the_generated_one() {
    let dir = corpus_dir();
    if std::env::var("NEVAR_WRITE_CORPUS").is_ok() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, program) in seed_corpus() {
            std::fs::write(dir.join(name), program).unwrap();
        }
    }
    for (name, program) in seed_corpus() {
        let found = std::fs::read(dir.join(&name))
            .unwrap_or_else(|e| panic!("{name}: {e}; regenerate with NEVAR_WRITE_CORPUS=1"));
        assert_eq!(
            found, program,
            "{name} differs from what the generator makes"
        );
    }
}

/// Runs one program on a worker thread; `Err` with a reason on panic or hang.
fn run_guarded(program: Vec<u8>) -> Result<hostile::Reach, String> {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| hostile::exercise(hostile::mutate(&program)));
        let _ = tx.send(outcome);
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(Ok(reach)) => {
            worker.join().unwrap();
            Ok(reach)
        }
        Ok(Err(panic)) => {
            let _ = worker.join();
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(format!("panicked: {why}"))
        }
        Err(_) => Err(format!("no result within {WATCHDOG:?} (hang)")),
    }
}

#[test]
fn the_seed_corpus_replays_without_a_panic_or_a_hang() {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("fuzz/corpus/hostile_file is checked in")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 500, "{} corpus files", files.len());
    let mut failures = Vec::new();
    let (mut opened, mut committed, mut clean, mut entries) = (0, 0, 0, 0);
    for file in &files {
        let program = std::fs::read(file).unwrap();
        match run_guarded(program) {
            Ok(reach) => {
                opened += usize::from(reach.opened);
                committed += usize::from(reach.committed);
                clean += usize::from(reach.clean);
                entries += reach.entries_read;
            }
            Err(why) => failures.push(format!("{}: {why}", file.display())),
        }
    }
    eprintln!(
        "{} files: {opened} opened, {committed} committed a write, {clean} checked clean, \
         {entries} entries read",
        files.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    // The corpus reaches past open, into writes, and includes both detected and clean cases.
    assert!(opened > files.len() / 3 && committed > 0 && clean > 0 && clean < opened);
}

#[test]
fn the_classic_attacks_are_detected_not_crashed_on() {
    for (name, program) in classics() {
        let image = hostile::mutate(&program);
        assert_ne!(
            &image,
            &hostile::bases()[program[0] as usize],
            "{name} changed nothing"
        );
        // Detected: open refuses the file, or recovery falls back to the commit before the
        // damaged one, or check() reports the damage.
        let open = |image: Vec<u8>| {
            hostile::options().open_storage(Box::new(SimulatedDisk::from_image(image)))
        };
        let base_txn = open(hostile::bases()[program[0] as usize].clone())
            .unwrap()
            .last_txn();
        let what = format!("{name} (base {})", program[0]);
        match open(image) {
            Err(e) => eprintln!("{what}: open refused: {e}"),
            Ok(db) if db.last_txn() < base_txn => {
                assert!(db.check().unwrap().is_clean(), "{what}");
                eprintln!("{what}: recovery fell back to txn {}", db.last_txn());
            }
            Ok(db) => {
                let report = db.check().unwrap();
                assert!(!report.is_clean(), "{what}: check found nothing");
                let first = &report.problems[0];
                eprintln!(
                    "{what}: check found {} problems, first: page {} {}",
                    report.problems.len(),
                    first.page,
                    first.what
                );
            }
        }
        run_guarded(program).unwrap_or_else(|why| panic!("{name}: {why}"));
    }
}

/// Regression: a free-page record whose extent claims 4 billion pages made `check()` loop
/// (and record a problem) once per page beyond the high-water mark: billions of iterations
/// and strings. It now reports the range once.
#[test]
fn check_reports_a_huge_free_extent_once() {
    let program = [1u8, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
    let image = hostile::mutate(&program);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let db = hostile::options()
            .open_storage(Box::new(SimulatedDisk::from_image(image)))
            .unwrap();
        let _ = tx.send(db.check().unwrap());
    });
    let report = rx
        .recv_timeout(WATCHDOG)
        .expect("check() hung on a huge free extent");
    let beyond: Vec<_> = report
        .problems
        .iter()
        .filter(|p| p.what.contains("beyond the high-water mark"))
        .collect();
    assert_eq!(
        beyond.len(),
        1,
        "{:?}",
        &report.problems[..report.problems.len().min(5)]
    );
    assert!(
        report.problems.len() < 1000,
        "{} problems",
        report.problems.len()
    );
}

/// Regression (found by the fuzzer with debug assertions): a free-page record naming a live
/// page made the allocator hand that page out to copy-on-write *itself*, and the copy ran
/// with the same page as source and destination: aliasing slices, undefined behaviour. Now
/// the write fails with `Corrupted` and the committed data is untouched.
#[test]
fn a_free_record_naming_a_live_page_fails_the_write_not_the_process() {
    let program = [1u8, 8, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0];
    let db = hostile::options()
        .open_storage(Box::new(SimulatedDisk::from_image(hostile::mutate(
            &program,
        ))))
        .unwrap();
    let lens = |db: &nevar::Database| -> Vec<u64> {
        let read = db.begin_read().unwrap();
        ["a", "b", "c"]
            .iter()
            .map(|t| read.open_tree(t).unwrap().len().unwrap())
            .collect()
    };
    let before = lens(&db);
    let mut refused = 0;
    for tree in ["a", "b", "c"] {
        let mut w = db.begin_write().unwrap();
        let mut result = Ok(());
        for i in 0..50u32 {
            result = w
                .open_tree(tree)
                .and_then(|mut t| t.insert(&i.to_be_bytes(), b"v").map(drop));
            if result.is_err() {
                break;
            }
        }
        match result {
            Err(nevar::Error::Corrupted { what, .. }) => {
                assert_eq!(what, "the free list handed out a page still in use");
                refused += 1;
            }
            Err(e) => panic!("{tree}: {e}"),
            Ok(()) => {}
        }
        // Dropped, not committed.
    }
    assert!(refused >= 1, "no write reached the live page");
    let after = lens(&db);
    assert_eq!(before, after);
}
