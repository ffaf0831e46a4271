//! `cargo xtask bench-raft`: replicated writes on a three-node loopback cluster (HTTP, one
//! process), with one client and with 16 concurrent clients, on nevar and on an in-memory
//! store, so the cost of durability is visible. Each write returns once a majority has it
//! durably in its log (nevar) or in memory (baseline) and the leader applied it.
//!
//! The in-memory store follows the design of openraft's own in-memory examples (`mem-log`
//! and `raft-kv-memstore`: a map behind a lock, nothing synced). The published
//! `openraft-memstore` 0.9.25 implements the v1 `RaftStorage` API, which the `storage-v2`
//! feature this crate uses compiles out, so it cannot run in the same build.
//!
//! Options: `--writes N` (per run, default 2000), `--repeat N` (default 3; stores rotate).

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nevar_raft::http::{Client, KvRead, Node, NodeOptions};
use nevar_raft::{Request, Response, TypeConfig};
use openraft::storage::{LogFlushed, LogState, RaftLogStorage, RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, OptionalSend, RaftLogReader, RaftSnapshotBuilder,
    SnapshotMeta, StorageError, StoredMembership, Vote,
};

type Error = StorageError<u64>;

/// The in-memory log: entries, vote, committed and purged ids behind one lock.
#[derive(Clone, Default)]
struct MemLog(Arc<Mutex<MemLogState>>);

#[derive(Default)]
struct MemLogState {
    entries: BTreeMap<u64, Entry<TypeConfig>>,
    vote: Option<Vote<u64>>,
    committed: Option<LogId<u64>>,
    purged: Option<LogId<u64>>,
}

impl RaftLogReader<TypeConfig> for MemLog {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, Error> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .entries
            .range(range)
            .map(|(_, e)| e.clone())
            .collect())
    }
}

impl RaftLogStorage<TypeConfig> for MemLog {
    type LogReader = MemLog;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, Error> {
        let state = self.0.lock().unwrap();
        let last = state.entries.values().next_back().map(|e| e.log_id);
        Ok(LogState {
            last_purged_log_id: state.purged,
            last_log_id: last.or(state.purged),
        })
    }
    async fn get_log_reader(&mut self) -> MemLog {
        self.clone()
    }
    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Error> {
        self.0.lock().unwrap().vote = Some(*vote);
        Ok(())
    }
    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Error> {
        Ok(self.0.lock().unwrap().vote)
    }
    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), Error> {
        self.0.lock().unwrap().committed = committed;
        Ok(())
    }
    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, Error> {
        Ok(self.0.lock().unwrap().committed)
    }
    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), Error>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut state = self.0.lock().unwrap();
        for e in entries {
            state.entries.insert(e.log_id.index, e);
        }
        callback.log_io_completed(Ok(()));
        Ok(())
    }
    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        self.0.lock().unwrap().entries.split_off(&log_id.index);
        Ok(())
    }
    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        let mut state = self.0.lock().unwrap();
        state.purged = Some(log_id);
        state.entries = state.entries.split_off(&(log_id.index + 1));
        Ok(())
    }
}

/// The in-memory state machine.
#[derive(Clone, Default)]
struct MemSm(Arc<Mutex<MemSmState>>);

#[derive(Default)]
struct MemSmState {
    data: BTreeMap<String, String>,
    applied: Option<LogId<u64>>,
    membership: StoredMembership<u64, BasicNode>,
}

impl KvRead for MemSm {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(self.0.lock().unwrap().data.get(key).cloned())
    }
}

impl RaftSnapshotBuilder<TypeConfig> for MemSm {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, Error> {
        unreachable!("the benchmark's snapshot policy never builds one")
    }
}

impl RaftStateMachine<TypeConfig> for MemSm {
    type SnapshotBuilder = MemSm;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogId<u64>>, StoredMembership<u64, BasicNode>), Error> {
        let state = self.0.lock().unwrap();
        Ok((state.applied, state.membership.clone()))
    }
    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, Error>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut state = self.0.lock().unwrap();
        let mut out = Vec::new();
        for e in entries {
            state.applied = Some(e.log_id);
            out.push(match e.payload {
                EntryPayload::Blank => Response::default(),
                EntryPayload::Normal(Request::Set { key, value }) => Response {
                    previous: state.data.insert(key, value),
                },
                EntryPayload::Normal(Request::Delete { key }) => Response {
                    previous: state.data.remove(&key),
                },
                EntryPayload::Membership(m) => {
                    state.membership = StoredMembership::new(Some(e.log_id), m);
                    Response::default()
                }
            });
        }
        Ok(out)
    }
    async fn get_snapshot_builder(&mut self) -> MemSm {
        self.clone()
    }
    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, Error> {
        unreachable!("no node falls behind a purge in the benchmark")
    }
    async fn install_snapshot(
        &mut self,
        _: &SnapshotMeta<u64, BasicNode>,
        _: Box<tokio::fs::File>,
    ) -> Result<(), Error> {
        unreachable!("no node falls behind a purge in the benchmark")
    }
    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, Error> {
        Ok(None)
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Store {
    Nevar,
    Memory,
}

fn config() -> openraft::Config {
    openraft::Config {
        cluster_name: "bench".into(),
        heartbeat_interval: 100,
        election_timeout_min: 500,
        election_timeout_max: 1000,
        snapshot_policy: openraft::SnapshotPolicy::Never,
        ..Default::default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Latencies of one phase.
struct Phase {
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
    }
}

async fn run_writes(client: &Arc<Client>, clients: u64, writes: u64, tag: &str) -> Phase {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for lane in 0..clients {
        let client = Arc::clone(client);
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for i in (0..writes).filter(|i| i % clients == lane) {
                let request = Request::Set {
                    key: format!("{tag}-{i:08}"),
                    value: "x".repeat(100),
                };
                let t = Instant::now();
                client.write(&request).await.expect("a replicated write");
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    Phase {
        elapsed: start.elapsed(),
        latencies,
    }
}

/// One cluster of three nodes on `store`: (1 client, 16 clients).
async fn cluster(store: Store, writes: u64) -> (Phase, Phase) {
    let dir = tempfile::tempdir().unwrap();
    let addrs: BTreeMap<u64, String> = (1..=3)
        .map(|id| (id, format!("127.0.0.1:{}", free_port())))
        .collect();
    let mut nodes = Vec::new();
    for (&id, addr) in &addrs {
        let options = NodeOptions {
            id,
            addr: addr.clone(),
            db: dir.path().join(format!("n{id}.nevar")),
            config: config(),
        };
        match store {
            Store::Nevar => {
                nodes.push(Box::new(Node::start(options).await.unwrap()) as Box<dyn std::any::Any>)
            }
            Store::Memory => {
                let sm = MemSm::default();
                let node = Node::start_with(options, MemLog::default(), sm.clone(), sm)
                    .await
                    .unwrap();
                nodes.push(Box::new(node));
            }
        }
    }
    let client = Arc::new(Client::new(addrs));
    client.init(1).await.unwrap();
    run_writes(&client, 1, 50, "warm").await;
    let one = run_writes(&client, 1, writes / 4, "one").await;
    let many = run_writes(&client, 16, writes, "many").await;
    drop(nodes);
    (one, many)
}

/// One run of one phase: writes per second, p50 and p99 in milliseconds.
type Summary = (f64, f64, f64);

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut writes, mut repeat) = (2000u64, 3usize);
    while let Some(flag) = args.next() {
        let value: u64 = args
            .next()
            .and_then(|v| v.parse().ok())
            .expect("a number after the flag");
        match flag.as_str() {
            "--writes" => writes = value,
            "--repeat" => repeat = value as usize,
            other => panic!("unknown option {other}"),
        }
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // (clients, store) -> each run's (writes/s, p50 ms, p99 ms).
    let mut results: BTreeMap<(&str, &str), Vec<Summary>> = BTreeMap::new();
    for round in 0..repeat {
        let order = if round % 2 == 0 {
            [Store::Nevar, Store::Memory]
        } else {
            [Store::Memory, Store::Nevar]
        };
        for store in order {
            let (one, many) = runtime.block_on(cluster(store, writes));
            let name = if store == Store::Nevar {
                "nevar"
            } else {
                "in-memory"
            };
            for (clients, phase) in [("1 client", &one), ("16 clients", &many)] {
                let ms = |d: Duration| d.as_secs_f64() * 1e3;
                eprintln!(
                    "run {} {name:>9} {clients:>10}: {:>7.0} writes/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
                    round + 1,
                    phase.per_second(),
                    ms(phase.percentile(0.5)),
                    ms(phase.percentile(0.99))
                );
                results.entry((clients, name)).or_default().push((
                    phase.per_second(),
                    ms(phase.percentile(0.5)),
                    ms(phase.percentile(0.99)),
                ));
            }
        }
    }
    println!(
        "\nmedian of {repeat} runs, 3 nodes on 127.0.0.1 over HTTP, {writes} writes with 16 clients and {} with 1",
        writes / 4
    );
    println!(
        "{:<11} {:<10} {:>10} {:>9} {:>9}",
        "clients", "store", "writes/s", "p50 ms", "p99 ms"
    );
    for ((clients, store), runs) in &results {
        println!(
            "{clients:<11} {store:<10} {:>10.0} {:>9.2} {:>9.2}",
            median(runs.iter().map(|r| r.0).collect()),
            median(runs.iter().map(|r| r.1).collect()),
            median(runs.iter().map(|r| r.2).collect())
        );
    }
}
