//! A node whose state machine cannot be read answers reads with that error, never with "no
//! such key". One node on 127.0.0.1, stopped at the end.

use std::collections::BTreeMap;

use nevar_raft::Request;
use nevar_raft::http::{Client, ClientError, KvRead, Node, NodeOptions};

/// A state machine view whose every read fails, as one on a failed disk would.
#[derive(Clone)]
struct FailingReads;

impl KvRead for FailingReads {
    fn get(&self, _key: &str) -> Result<Option<String>, String> {
        Err("the state machine's file is unreadable".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_read_is_an_error_not_a_missing_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n1.nevar");
    let (log, sm) = nevar_raft::open(&db).unwrap();
    let options = NodeOptions {
        id: 1,
        addr: "127.0.0.1:0".into(),
        db,
        config: openraft::Config {
            cluster_name: "reads".into(),
            heartbeat_interval: 50,
            election_timeout_min: 150,
            election_timeout_max: 300,
            ..Default::default()
        },
    };
    let node = Node::start_with(options, log, sm, FailingReads)
        .await
        .unwrap();
    let client = Client::new(BTreeMap::from([(1, node.addr.to_string())]));
    let answers = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        client.init(1).await.unwrap();
        let set = Request::Set {
            key: "k".into(),
            value: "v".into(),
        };
        client.write(&set).await.unwrap();
        (
            client.linearizable_read("k").await,
            client.read_from(1, "k").await,
        )
    })
    .await;
    node.shutdown().await;
    let (linearizable, local) = answers.expect("the node answered within 30 s");
    for (what, answer) in [("linearizable", linearizable), ("local", local)] {
        match answer {
            Err(ClientError::Raft(why)) => {
                assert!(why.contains("unreadable"), "{what} read: {why}")
            }
            other => panic!("{what} read: {other:?}"),
        }
    }
}
