//! I/O errors: every grow, truncate, map, read and sync call of a workload is made to fail in
//! turn, once and forever. Each failure must come back as a typed error (never a panic); a
//! handle whose file state is unknown must refuse writes until reopened; readers keep seeing
//! the last commit; and a reopen (from any crash image of the disk) holds the last
//! acknowledged commit or the one that failed.

use std::collections::BTreeMap;

use nevar::testing::{CrashMode, Fault, FaultyStorage, SimulatedDisk, StorageCall};
use nevar::{Database, Error, Options};
use nevar_testkit::contents;

type Model = nevar_testkit::Trees;

fn options() -> Options {
    Options::new().segment_size(1 << 20)
}

/// Transaction `i` of the workload: it grows the file across segments with big values in
/// `big`, deletes `big` every eighth transaction (the file then shrinks) and keeps a small
/// tree changing throughout.
fn transaction(i: u64) -> Vec<(&'static str, Option<(u64, usize)>)> {
    if i % 8 == 7 {
        return vec![("big", None)];
    }
    let mut ops = vec![("small", Some((i % 37, 100)))];
    for j in 0..6 {
        ops.push(("big", Some((i * 10 + j, 60_000))));
    }
    ops
}

const TRANSACTIONS: u64 = 24;
/// The workload closes and reopens the database between sessions.
const SESSIONS: u64 = 3;

fn value(key: u64, len: usize) -> Vec<u8> {
    (0..len).map(|b| (key as usize * 7 + b) as u8).collect()
}

fn applied(model: &Model, i: u64) -> Model {
    let mut next = model.clone();
    for (tree, op) in transaction(i) {
        match op {
            None => {
                next.remove(tree);
            }
            Some((key, len)) => {
                next.entry(tree.to_owned())
                    .or_default()
                    .insert(key.to_be_bytes().to_vec(), value(key, len));
            }
        }
    }
    next
}

/// Runs transaction `i`; the first error ends it (the transaction is then dropped).
fn run(db: &Database, i: u64) -> nevar::Result<()> {
    let mut w = db.begin_write()?;
    for (tree, op) in transaction(i) {
        match op {
            None => {
                w.delete_tree(tree)?;
            }
            Some((key, len)) => {
                w.open_tree(tree)?
                    .insert(&key.to_be_bytes(), &value(key, len))?;
            }
        }
    }
    w.commit()
}

/// What one run with a fault saw.
struct Outcome {
    failures: u64,
    broken: bool,
    /// Whether a transaction (not an open or a close) returned the error.
    txn_failed: bool,
    acked_after_failure: bool,
}

/// The workload on a disk with `fault`, in three sessions (open, transactions, close), then
/// every check of the module doc.
fn exercise(fault: Fault) -> Outcome {
    let what = format!("{fault:?}");
    let disk = SimulatedDisk::new();
    let faulty = FaultyStorage::new(disk.clone(), fault);
    let mut outcome = Outcome {
        failures: 0,
        broken: false,
        txn_failed: false,
        acked_after_failure: false,
    };
    let (mut acked, mut inflight) = (Model::new(), None);
    let mut i = 0;
    for session in 0..SESSIONS {
        let db = match options().open_storage(Box::new(faulty.clone())) {
            Ok(db) => db,
            Err(e) => {
                assert!(matches!(e, Error::Io { .. }), "{what}: open gave {e:?}");
                continue;
            }
        };
        // A reopen shows the last acknowledged commit, or the failed one if it made it.
        let now = contents(&db);
        if inflight.as_ref() == Some(&now) {
            acked = now;
        } else {
            assert_eq!(now, acked, "{what}: reopened in session {session}");
        }
        inflight = None;
        while i < TRANSACTIONS * (session + 1) / SESSIONS {
            let next = applied(&acked, i);
            match run(&db, i) {
                Ok(()) => {
                    outcome.acked_after_failure |= faulty.failures() > 0;
                    acked = next;
                    inflight = None;
                }
                Err(e) => {
                    assert!(
                        matches!(e, Error::Io { .. } | Error::NeedsReopen),
                        "{what}: transaction {i} gave {e:?}"
                    );
                    inflight = Some(next);
                    outcome.txn_failed = true;
                }
            }
            i += 1;
            // Readers see the last acknowledged commit whatever happened.
            assert_eq!(contents(&db), acked, "{what}: after transaction {i}");
            if matches!(db.begin_write(), Err(Error::NeedsReopen)) {
                outcome.broken = true;
                break;
            }
        }
    }
    outcome.failures = faulty.failures();
    // Reopen from what the disk may hold after a crash now; every image has the last
    // acknowledged commit or the failed one.
    let mut allowed = vec![&acked];
    allowed.extend(inflight.as_ref());
    for seed in 0..6u64 {
        let mode = [CrashMode::Mixed, CrashMode::DropAll, CrashMode::KeepAll][seed as usize % 3];
        let image = disk.crash_image(seed, mode);
        if image.iter().all(|&b| b == 0) {
            continue; // creation itself failed: nothing was ever acknowledged
        }
        let db = options()
            .open_storage(Box::new(SimulatedDisk::from_image(image)))
            .unwrap_or_else(|e| panic!("{what}: image {seed} does not open: {e}"));
        let report = db.check().unwrap();
        assert!(report.is_clean(), "{what}: {:?}", report.problems);
        let got = contents(&db);
        assert!(
            allowed.contains(&&got),
            "{what}: image {seed} ({mode:?}) holds neither the acknowledged nor the failed commit"
        );
    }
    outcome
}

/// How many calls of each kind the workload makes without faults.
fn baseline() -> BTreeMap<String, u64> {
    let disk = SimulatedDisk::new();
    let never = Fault {
        call: StorageCall::Sync,
        nth: u64::MAX,
        forever: false,
    };
    let faulty = FaultyStorage::new(disk, never);
    for session in 0..SESSIONS {
        let db = options().open_storage(Box::new(faulty.clone())).unwrap();
        for i in TRANSACTIONS * session / SESSIONS..TRANSACTIONS * (session + 1) / SESSIONS {
            run(&db, i).unwrap();
        }
    }
    StorageCall::ALL
        .iter()
        .map(|&c| (format!("{c:?}"), faulty.calls(c)))
        .collect()
}

#[test]
fn the_workload_exercises_every_call_kind() {
    let calls = baseline();
    for (call, n) in &calls {
        assert!(*n >= 1, "{call} never called: {calls:?}");
    }
    assert!(
        calls["Grow"] >= 5 && calls["Map"] >= 3 && calls["Truncate"] >= 2,
        "{calls:?}"
    );
}

#[test]
fn every_failing_call_gives_a_typed_error_and_loses_nothing_acknowledged() {
    let calls = baseline();
    let long = std::env::var("NEVAR_LONG").is_ok();
    let mut runs = 0;
    for call in StorageCall::ALL {
        let total = calls[&format!("{call:?}")];
        // Every call in long mode; in CI the first eight and the last of each kind.
        let nths: Vec<u64> = if long {
            (1..=total).collect()
        } else {
            (1..=total.min(8)).chain([total]).collect()
        };
        for &nth in &nths {
            for forever in [false, true] {
                let fault = Fault { call, nth, forever };
                let outcome = exercise(fault);
                assert!(outcome.failures >= 1, "{fault:?} never fired");
                // A sync that fails leaves the file unknown: the handle must refuse writes.
                if call == StorageCall::Sync && outcome.txn_failed {
                    assert!(
                        outcome.broken,
                        "{fault:?}: handle still writable after a failed sync"
                    );
                }
                // A full disk while growing is not fatal: once space is back, commits go on.
                if call == StorageCall::Grow && !forever && nth > 1 {
                    assert!(!outcome.broken, "{fault:?}");
                    assert!(
                        outcome.acked_after_failure,
                        "{fault:?}: no commit after ENOSPC"
                    );
                }
                runs += 1;
            }
        }
    }
    eprintln!("{runs} fault runs over {calls:?}");
}
