//! A real three-node cluster on 127.0.0.1: each node a child process with its own nevar file
//! and HTTP server. Write through the leader, kill the leader's process, watch a new leader
//! take over with every acknowledged write, restart the killed node and watch it catch up
//! (by snapshot, since the leader purged its log), then check its file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use nevar_raft::Request;
use nevar_raft::http::{Client, Node, NodeOptions};

const NODE_ENV: &str = "NEVAR_RAFT_NODE";

/// openraft settings for the test: fast elections, and snapshots often enough that the
/// leader purges the log a restarted node missed.
fn config() -> openraft::Config {
    openraft::Config {
        cluster_name: "nevar-test".into(),
        heartbeat_interval: 50,
        election_timeout_min: 300,
        election_timeout_max: 600,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(200),
        max_in_snapshot_log_to_keep: 20,
        purge_batch_size: 1,
        ..Default::default()
    }
}

/// Child half: runs node `id,addr,db` from `NEVAR_RAFT_NODE` until killed.
#[test]
#[ignore = "a node process of the cluster test; run by it"]
fn cluster_node() {
    let spec = std::env::var(NODE_ENV).expect("started by the cluster test");
    let mut parts = spec.splitn(3, ',');
    let (id, addr, db) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let _node = Node::start(NodeOptions {
            id: id.parse().unwrap(),
            addr: addr.to_owned(),
            db: db.into(),
            config: config(),
        })
        .await
        .unwrap();
        std::future::pending::<()>().await;
    });
}

/// A node process, killed when dropped (so a failing test leaves none behind).
struct NodeProcess(Child);

impl NodeProcess {
    fn start(id: u64, addr: &str, db: &Path) -> NodeProcess {
        let child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "cluster_node",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(NODE_ENV, format!("{id},{addr},{}", db.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        NodeProcess(child)
    }

    fn kill(mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Polls `probe` every 20 ms until it returns `Some`, for at most `limit`.
async fn wait_for<T, F: std::future::Future<Output = Option<T>>>(
    limit: Duration,
    mut probe: impl FnMut() -> F,
) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(found) = probe().await {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}

async fn write_keys(client: &Arc<Client>, range: std::ops::Range<u32>) {
    let mut tasks = Vec::new();
    for lane in 0..16u32 {
        let client = Arc::clone(client);
        let range = range.clone();
        tasks.push(tokio::spawn(async move {
            for i in range.filter(|i| i % 16 == lane) {
                let request = Request::Set {
                    key: format!("key-{i:05}"),
                    value: format!("value-{i}"),
                };
                client
                    .write(&request)
                    .await
                    .unwrap_or_else(|e| panic!("write {i}: {e}"));
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

async fn leader_of(client: &Client, ids: &[u64]) -> Option<u64> {
    for &id in ids {
        if let Ok(m) = client.metrics(id).await
            && let Some(leader) = m.current_leader
            && ids.contains(&leader)
        {
            return Some(leader);
        }
    }
    None
}

#[test]
fn three_nodes_fail_over_and_a_restarted_node_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [1u64, 2, 3];
    let addrs: BTreeMap<u64, String> = ids
        .iter()
        .map(|&id| (id, format!("127.0.0.1:{}", free_port())))
        .collect();
    let db = |id: u64| dir.path().join(format!("node-{id}.nevar"));
    let mut processes: BTreeMap<u64, NodeProcess> = ids
        .iter()
        .map(|&id| (id, NodeProcess::start(id, &addrs[&id], &db(id))))
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let client = Arc::new(Client::new(addrs.clone()));
        for &id in &ids {
            let up = wait_for(Duration::from_secs(20), || async {
                client.metrics(id).await.ok()
            })
            .await;
            assert!(up.is_some(), "node {id} did not come up");
        }
        client.init(1).await.unwrap();
        let leader = wait_for(Duration::from_secs(10), || leader_of(&client, &ids))
            .await
            .expect("a first leader");

        let start = Instant::now();
        write_keys(&client, 0..1000).await;
        eprintln!(
            "1,000 writes through leader {leader} in {:?}",
            start.elapsed()
        );

        // Kill the leader's process; a new leader must take over.
        let killed_log = client
            .metrics(leader)
            .await
            .unwrap()
            .last_log_index
            .unwrap();
        processes.remove(&leader).unwrap().kill();
        let killed_at = Instant::now();
        let survivors: Vec<u64> = ids.iter().copied().filter(|&id| id != leader).collect();
        let new_leader = wait_for(Duration::from_secs(10), || async {
            leader_of(&client, &survivors)
                .await
                .filter(|&l| l != leader)
        })
        .await
        .expect("a new leader after the old one was killed");
        let failover = killed_at.elapsed();
        eprintln!("leader {leader} killed; node {new_leader} leads after {failover:?}");

        // Every acknowledged write is there: a linearizable read, then the new leader's state.
        let survivors_client = Arc::new(Client::new(
            survivors
                .iter()
                .map(|&id| (id, addrs[&id].clone()))
                .collect(),
        ));
        assert_eq!(
            survivors_client
                .linearizable_read("key-00999")
                .await
                .unwrap()
                .as_deref(),
            Some("value-999")
        );
        for i in 0..1000u32 {
            let got = survivors_client
                .read_from(new_leader, &format!("key-{i:05}"))
                .await
                .unwrap();
            assert_eq!(
                got,
                Some(format!("value-{i}")),
                "write {i} lost in the failover"
            );
        }
        // More writes while the old leader is down: the leader snapshots and purges its log.
        write_keys(&survivors_client, 1000..1500).await;

        // The leader purged past the killed node's log, so only a snapshot can catch it up.
        let purged = wait_for(Duration::from_secs(10), || async {
            let m = survivors_client.metrics(new_leader).await.ok()?;
            m.purged.filter(|p| p.index > killed_log)
        })
        .await
        .expect("the new leader purged the log past the killed node's last entry");
        eprintln!(
            "killed node's log ends at {killed_log}; the leader purged up to {}",
            purged.index
        );
        // Restart the killed node; it catches up from a snapshot and the rest of the log.
        processes.insert(
            leader,
            NodeProcess::start(leader, &addrs[&leader], &db(leader)),
        );
        let target = survivors_client
            .metrics(new_leader)
            .await
            .unwrap()
            .last_applied;
        let caught_up = wait_for(Duration::from_secs(30), || async {
            let m = client.metrics(leader).await.ok()?;
            (m.last_applied >= target).then_some(m)
        })
        .await
        .expect("the restarted node caught up");
        eprintln!(
            "node {leader} caught up to {:?}; its snapshot: {:?}; purged up to {:?}",
            caught_up.last_applied, caught_up.snapshot, caught_up.purged
        );
        assert_eq!(
            client
                .read_from(leader, "key-01499")
                .await
                .unwrap()
                .as_deref(),
            Some("value-1499")
        );
    });
    // Stop everything, then check the restarted node's file.
    for (_, process) in std::mem::take(&mut processes) {
        process.kill();
    }
    for &id in &ids {
        let file = nevar::Database::open(db(id)).unwrap();
        let report = file.check().unwrap();
        assert!(report.is_clean(), "node {id}: {:?}", report.problems);
    }
}
