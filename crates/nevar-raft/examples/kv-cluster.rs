//! One node of a replicated key-value service: nevar under openraft, HTTP on `--addr`.
//!
//! ```sh
//! cargo run --release -p nevar-raft --example kv-cluster -- --id 1 --addr 127.0.0.1:21001 --db /tmp/n1.nevar
//! ```
//! The routes are listed in `nevar_raft::http`; the README shows a three-node session with
//! curl. Stop a node with Ctrl-C (or kill it: every acknowledged write is durable).

use std::time::Duration;

use nevar_raft::http::{Node, NodeOptions};

fn usage() -> ! {
    eprintln!("usage: kv-cluster --id <u64> --addr <host:port> --db <file>");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (mut id, mut addr, mut db) = (None, None, None);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--id" => id = Some(value.parse::<u64>().unwrap_or_else(|_| usage())),
            "--addr" => addr = Some(value),
            "--db" => db = Some(value),
            _ => usage(),
        }
    }
    let (Some(id), Some(addr), Some(db)) = (id, addr, db) else {
        usage()
    };
    let config = openraft::Config {
        cluster_name: "nevar-kv".into(),
        heartbeat_interval: 100,
        election_timeout_min: 500,
        election_timeout_max: 1000,
        snapshot_policy: openraft::SnapshotPolicy::LogsSinceLast(10_000),
        ..Default::default()
    };
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(async move {
        let node = Node::start(NodeOptions {
            id,
            addr,
            db: db.into(),
            config,
        })
        .await
        .unwrap_or_else(|e| {
            eprintln!("node {id}: {e}");
            std::process::exit(1)
        });
        println!("node {id} serving on http://{}", node.addr);
        tokio::signal::ctrl_c().await.expect("waiting for Ctrl-C");
        println!("node {id} stopping");
        tokio::time::timeout(Duration::from_secs(5), node.shutdown())
            .await
            .ok();
    });
}
