//! What openraft's suite does not cover: a reopen after each kind of write shows exactly what
//! was acknowledged, and a child killed with SIGKILL while appending, voting, applying and
//! purging loses nothing it acknowledged, leaves no hole, and never leaves the state machine
//! behind the purge point.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use nevar_raft::{LogStore, Request, StateMachineStore, TypeConfig};
use openraft::storage::{RaftLogStorage, RaftStateMachine};
use openraft::testing::log_id;
use openraft::{Entry, EntryPayload, RaftLogReader, Vote};

fn entry(term: u64, index: u64) -> Entry<TypeConfig> {
    Entry {
        log_id: log_id(term, 1, index),
        payload: EntryPayload::Normal(Request::Set {
            key: format!("k{}", index % 50),
            value: format!("v{index}"),
        }),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Opens with `open`, retrying `AlreadyOpen` for up to two seconds: the kill -9 test in this
/// binary spawns children, and a child between fork and exec briefly holds a copy of every
/// descriptor, so a lock just released can look taken for a moment (`flock` belongs to the
/// open file, which the copy keeps alive).
fn retry_locked<T, E: std::fmt::Debug>(
    mut open: impl FnMut() -> Result<T, E>,
    locked: impl Fn(&E) -> bool,
) -> T {
    for _ in 0..100 {
        match open() {
            Err(e) if locked(&e) => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => return other.expect("open"),
        }
    }
    panic!("the file stayed locked")
}

fn reopen(path: &Path) -> (LogStore, StateMachineStore) {
    retry_locked(
        || nevar_raft::open(path),
        |e| matches!(e, nevar_raft::OpenError::Nevar(nevar::Error::AlreadyOpen)),
    )
}

fn open_db(path: &Path) -> nevar::Database {
    retry_locked(
        || nevar::Database::open(path),
        |e| matches!(e, nevar::Error::AlreadyOpen),
    )
}

#[test]
fn a_reopen_after_each_write_shows_exactly_what_was_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raft.nevar");
    runtime().block_on(async {
        let (mut log, _) = reopen(&path);
        let vote = Vote::new(3, 1);
        log.save_vote(&vote).await.unwrap();
        drop(log);
        let (mut log, _) = reopen(&path);
        assert_eq!(log.read_vote().await.unwrap(), Some(vote));

        log.append_entries((1..=20).map(|i| entry(1, i)).collect())
            .await
            .unwrap();
        drop(log);
        let (mut log, _) = reopen(&path);
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_log_id, Some(log_id(1, 1, 20)));
        assert_eq!(log.try_get_log_entries(1..=20).await.unwrap().len(), 20);

        log.truncate(log_id(1, 1, 16)).await.unwrap();
        drop(log);
        let (mut log, mut sm) = reopen(&path);
        assert_eq!(
            log.get_log_state().await.unwrap().last_log_id,
            Some(log_id(1, 1, 15))
        );
        assert!(log.try_get_log_entries(16..).await.unwrap().is_empty());

        let applied = log.try_get_log_entries(1..=10).await.unwrap();
        sm.apply(applied).await.unwrap();
        drop((log, sm));
        let (mut log, mut sm) = reopen(&path);
        assert_eq!(sm.applied_state().await.unwrap().0, Some(log_id(1, 1, 10)));
        assert_eq!(sm.get("k10").unwrap().as_deref(), Some("v10"));
        assert_eq!(sm.get("k11").unwrap(), None);

        log.purge(log_id(1, 1, 8)).await.unwrap();
        drop((log, sm));
        let (mut log, sm) = reopen(&path);
        let state = log.get_log_state().await.unwrap();
        assert_eq!(state.last_purged_log_id, Some(log_id(1, 1, 8)));
        assert_eq!(state.last_log_id, Some(log_id(1, 1, 15)));
        let left = log.try_get_log_entries(0..).await.unwrap();
        assert_eq!(left.first().map(|e| e.log_id.index), Some(9));
        assert!(sm.database().check().unwrap().is_clean());
    });
}

const CHILD_ENV: &str = "NEVAR_RAFT_KILL9_CHILD";

/// Child half: appends, votes, applies and purges forever on the store in
/// `NEVAR_RAFT_KILL9_CHILD`, printing each acknowledged step. Run by the parent below.
#[test]
#[ignore = "the child process of raft_writes_survive_kill_9; run by it"]
fn raft_kill9_child() {
    let path = std::env::var(CHILD_ENV).expect("started by the kill -9 parent test");
    runtime().block_on(async {
        let (mut log, mut sm) = reopen(Path::new(&path));
        let state = log.get_log_state().await.unwrap();
        let mut next = state.last_log_id.map_or(1, |l| l.index + 1);
        let mut out = std::io::stdout();
        loop {
            log.append_entries(vec![entry(next / 10 + 1, next)])
                .await
                .unwrap();
            writeln!(out, "entry {next}").unwrap();
            if next % 5 == 0 {
                let vote = Vote::new(next / 5, 1);
                log.save_vote(&vote).await.unwrap();
                writeln!(out, "vote {}", next / 5).unwrap();
            }
            if next % 7 == 0 {
                let applied = sm.applied_state().await.unwrap().0.map_or(0, |l| l.index);
                let batch = log.try_get_log_entries(applied + 1..=next).await.unwrap();
                sm.apply(batch).await.unwrap();
                writeln!(out, "applied {next}").unwrap();
            }
            if next % 20 == 0 {
                let applied = sm.applied_state().await.unwrap().0.unwrap();
                let upto = applied.index.saturating_sub(5);
                if upto > 0 {
                    let at = log.try_get_log_entries(upto..=upto).await.unwrap();
                    log.purge(at[0].log_id).await.unwrap();
                    writeln!(out, "purged {upto}").unwrap();
                }
            }
            out.flush().unwrap();
            next += 1;
        }
    });
}

fn last(out: &str, what: &str) -> Option<u64> {
    out.lines()
        .filter_map(|l| l.strip_prefix(what).and_then(|n| n.trim().parse().ok()))
        .next_back()
}

#[test]
fn raft_writes_survive_kill_9() {
    let rounds = if std::env::var("NEVAR_LONG").is_ok() {
        500
    } else {
        40
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raft.nevar");
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut acked_rounds = 0;
    for round in 0..rounds {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "raft_kill9_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50 + seed % 300));
        child.kill().unwrap();
        let mut out = String::new();
        let _ = child.stdout.take().unwrap().read_to_string(&mut out);
        child.wait().unwrap();
        out.truncate(out.rfind('\n').map_or(0, |i| i + 1));

        runtime().block_on(async {
            let (mut log, mut sm) = reopen(&path);
            assert!(sm.database().check().unwrap().is_clean(), "round {round}");
            let state = log.get_log_state().await.unwrap();
            let purged = state.last_purged_log_id.map_or(0, |l| l.index);
            let last_index = state.last_log_id.map_or(0, |l| l.index);
            // No hole: every index after the purge point up to the last is there, in order.
            let entries = log.try_get_log_entries(purged + 1..).await.unwrap();
            let indexes: Vec<u64> = entries.iter().map(|e| e.log_id.index).collect();
            assert_eq!(
                indexes,
                (purged + 1..=last_index).collect::<Vec<_>>(),
                "round {round}: hole"
            );
            if let Some(entry) = last(&out, "entry ") {
                assert!(last_index >= entry, "round {round}: entry {entry} lost");
                acked_rounds += 1;
            }
            if let Some(term) = last(&out, "vote ") {
                let vote = log
                    .read_vote()
                    .await
                    .unwrap()
                    .expect("a vote was acknowledged");
                assert!(
                    vote.leader_id().term >= term,
                    "round {round}: vote {term} lost"
                );
            }
            let applied = sm.applied_state().await.unwrap().0.map_or(0, |l| l.index);
            if let Some(acked) = last(&out, "applied ") {
                assert!(applied >= acked, "round {round}: apply {acked} lost");
            }
            if let Some(acked) = last(&out, "purged ") {
                assert!(purged >= acked, "round {round}: purge {acked} lost");
            }
            assert!(
                applied >= purged,
                "round {round}: state machine at {applied}, behind purge {purged}"
            );
        });
    }
    eprintln!("{rounds} kill -9 rounds, {acked_rounds} with acknowledged entries");
    assert!(acked_rounds > rounds / 2, "the child acknowledged entries");
}

#[test]
fn a_file_of_another_format_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raft.nevar");
    drop(reopen(&path));
    // What a later format of this crate would have recorded.
    {
        let db = open_db(&path);
        let mut w = db.begin_write().unwrap();
        w.open_tree("raft/meta")
            .unwrap()
            .insert(b"format", b"2")
            .unwrap();
        w.commit().unwrap();
    }
    let refused = retry_locked(
        || match nevar_raft::open(&path) {
            Err(nevar_raft::OpenError::Nevar(nevar::Error::AlreadyOpen)) => Err(()),
            other => Ok(other),
        },
        |_| true,
    );
    match refused {
        Err(nevar_raft::OpenError::Format { found, supported }) => {
            assert_eq!((found, supported), (2, nevar_raft::FORMAT));
        }
        other => panic!("{:?}", other.map(drop)),
    }
    let db = open_db(&path);
    let r = db.begin_read().unwrap();
    assert_eq!(
        r.open_tree("raft/meta").unwrap().get(b"format").unwrap(),
        Some(&b"2"[..])
    );
}
