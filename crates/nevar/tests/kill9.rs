//! kill -9: a child commits in a loop and prints each acknowledged commit; the parent kills it
//! at a random moment, reopens, and checks every acknowledged commit is there.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use nevar::Database;
use nevar_testkit::Rng;

const CHILD_ENV: &str = "NEVAR_KILL9_CHILD";
/// Writer threads of the child (1 when unset).
const THREADS_ENV: &str = "NEVAR_KILL9_THREADS";

fn value(i: u64, tree: u64) -> Vec<u8> {
    let len = [10usize, 200, 3000, 20_000][(i % 4) as usize];
    (0..len)
        .map(|b| (i.wrapping_mul(31) ^ tree ^ b as u64) as u8)
        .collect()
}

/// Starts the ignored test `child` of this binary on `path` (with `threads` writer threads,
/// if given), kills it with SIGKILL after a random time under 250 ms, and returns what it
/// printed.
fn run_and_kill(child: &str, path: &Path, threads: Option<u64>, rng: &mut Rng) -> String {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            child,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(threads) = threads {
        command.env(THREADS_ENV, threads.to_string());
    }
    let mut child = command.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(rng.below(250)));
    child.kill().unwrap();
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    child.wait().unwrap();
    // The kill can cut the last line short: keep whole lines only.
    out.truncate(out.rfind('\n').map_or(0, |i| i + 1));
    out
}

/// Child half: commits forever, printing "acked N" after each commit returns. Ignored, so
/// it never runs as a test on its own: the parent below starts it with `--ignored` and the
/// file to write in `NEVAR_KILL9_CHILD`.
#[test]
#[ignore = "the child process of acknowledged_commits_survive_kill_9; run by it"]
fn kill9_child() {
    let path = std::env::var(CHILD_ENV).expect("started by the kill -9 parent test");
    let db = Database::open(&path).unwrap();
    let mut next = db
        .begin_read()
        .unwrap()
        .open_tree("t0")
        .map(|t| t.len().unwrap())
        .unwrap_or(0);
    let mut out = std::io::stdout();
    loop {
        let mut w = db.begin_write().unwrap();
        for tree in 0..3u64 {
            let mut t = w.open_tree(&format!("t{tree}")).unwrap();
            t.insert(&next.to_be_bytes(), &value(next, tree)).unwrap();
            if next >= 10 && next.is_multiple_of(3) {
                t.remove(&(next - 10).to_be_bytes()).unwrap();
                t.insert(&(next - 10).to_be_bytes(), &value(next - 10, tree))
                    .unwrap();
            }
        }
        w.commit().unwrap();
        writeln!(out, "acked {next}").unwrap();
        out.flush().unwrap();
        next += 1;
    }
}

#[test]
fn acknowledged_commits_survive_kill_9() {
    let rounds = if nevar_testkit::long() { 10_000 } else { 200 };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(nevar_testkit::seed(99) | 1);
    let (mut acked_total, mut acked_rounds) = (0u64, 0u64);
    for round in 0..rounds {
        // A fresh file every 50 rounds keeps each file (and its check) small.
        let path = dir.path().join(format!("kill9-{}.nevar", round / 50));
        let stdout = run_and_kill("kill9_child", &path, None, &mut rng);
        let acked: Option<u64> = stdout
            .lines()
            .filter_map(|l| l.strip_prefix("acked ").and_then(|n| n.parse().ok()))
            .next_back();
        let db =
            Database::open(&path).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let report = db.check().unwrap();
        assert!(report.is_clean(), "round {round}: {:?}", report.problems);
        if let Some(acked) = acked {
            let r = db.begin_read().unwrap();
            for tree in 0..3u64 {
                let t = r.open_tree(&format!("t{tree}")).unwrap();
                assert!(
                    t.len().unwrap() > acked,
                    "round {round}: commit {acked} lost"
                );
                for i in [0, acked / 2, acked] {
                    assert_eq!(
                        t.get(&i.to_be_bytes()).unwrap(),
                        Some(&value(i, tree)[..]),
                        "round {round} key {i}"
                    );
                }
            }
            acked_total += acked;
            acked_rounds += 1;
        }
    }
    eprintln!("{rounds} rounds, {acked_rounds} with acknowledged commits");
    assert!(
        acked_total > 0 && acked_rounds > rounds / 2,
        "the child acknowledged commits"
    );
}

/// Child half of the multi-writer test: `NEVAR_KILL9_THREADS` threads commit at once, each
/// into its own tree `w{thread}` with keys 0, 1, 2, ..., printing "acked THREAD N" after each
/// commit returns. Concurrent durable commits share syncs (group commit); each is
/// acknowledged only once its own data is durable.
#[test]
#[ignore = "the child process of acknowledged_commits_of_concurrent_writers_survive_kill_9"]
fn kill9_threads_child() {
    let path = std::env::var(CHILD_ENV).expect("started by the kill -9 parent test");
    let threads: u64 = std::env::var(THREADS_ENV).unwrap().parse().unwrap();
    let db = Database::open(&path).unwrap();
    std::thread::scope(|s| {
        for thread in 0..threads {
            let db = &db;
            s.spawn(move || {
                let tree = format!("w{thread}");
                let mut next = db
                    .begin_read()
                    .unwrap()
                    .open_tree(&tree)
                    .map(|t| t.len().unwrap())
                    .unwrap_or(0);
                loop {
                    let mut w = db.begin_write().unwrap();
                    w.open_tree(&tree)
                        .unwrap()
                        .insert(&next.to_be_bytes(), &value(next, thread))
                        .unwrap();
                    w.commit().unwrap();
                    // One write per line: lines of different threads never interleave.
                    let line = format!("acked {thread} {next}\n");
                    std::io::stdout().lock().write_all(line.as_bytes()).unwrap();
                    next += 1;
                }
            });
        }
    });
}

#[test]
fn acknowledged_commits_of_concurrent_writers_survive_kill_9() {
    const THREADS: u64 = 4;
    let rounds = if nevar_testkit::long() { 2_000 } else { 60 };
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(nevar_testkit::seed(7) | 1);
    let mut acked_rounds = 0;
    for round in 0..rounds {
        let path = dir.path().join(format!("threads-{}.nevar", round / 20));
        let stdout = run_and_kill("kill9_threads_child", &path, Some(THREADS), &mut rng);
        let mut acked = [None::<u64>; THREADS as usize];
        for line in stdout.lines() {
            let mut words = line.split(' ');
            if let (Some("acked"), Some(t), Some(n)) = (words.next(), words.next(), words.next())
                && let (Ok(t), Ok(n)) = (t.parse::<usize>(), n.parse::<u64>())
            {
                acked[t] = Some(n);
            }
        }
        let db =
            Database::open(&path).unwrap_or_else(|e| panic!("round {round}: reopen failed: {e}"));
        let report = db.check().unwrap();
        assert!(report.is_clean(), "round {round}: {:?}", report.problems);
        let r = db.begin_read().unwrap();
        for (thread, acked) in acked.iter().enumerate() {
            let Some(acked) = *acked else { continue };
            let t = r.open_tree(&format!("w{thread}")).unwrap();
            assert!(
                t.len().unwrap() > acked,
                "round {round}: thread {thread} commit {acked} lost"
            );
            for i in [0, acked / 2, acked] {
                assert_eq!(
                    t.get(&i.to_be_bytes()).unwrap(),
                    Some(&value(i, thread as u64)[..]),
                    "round {round} thread {thread} key {i}"
                );
            }
        }
        acked_rounds += u64::from(acked.iter().any(Option::is_some));
    }
    eprintln!("{rounds} rounds, {acked_rounds} with acknowledged commits");
    assert!(acked_rounds > rounds / 2, "the child acknowledged commits");
}
