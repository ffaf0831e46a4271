//! A replicated key-value service over HTTP on loopback or a LAN: openraft's RPCs and the
//! client API as JSON over HTTP/1 (axum serves, reqwest calls).
//!
//! | method | path | body | answer |
//! | --- | --- | --- | --- |
//! | POST | `/raft/vote`, `/raft/append`, `/raft/snapshot` | openraft's RPC | its response |
//! | POST | `/write` | a [`Request`](crate::Request) | `Result<ClientWriteResponse, RaftError>` (a follower answers `ForwardToLeader`) |
//! | POST | `/read` | `"key"` | the value on this node, maybe stale |
//! | POST | `/linearizable_read` | `"key"` | the value, after the leader confirmed it still leads |
//! | POST | `/init` | `{"1": "127.0.0.1:21001", ...}` | initializes the cluster with these voters |
//! | POST | `/add-learner` | `[id, "addr"]` | adds a learner and waits for it to catch up |
//! | POST | `/change-membership` | `[id, ...]` | makes these the voters |
//! | GET | `/metrics` | | openraft's metrics of this node |

mod client;
mod network;
mod server;

pub use client::{Client, ClientError};
pub use network::HttpNetwork;
pub use server::{KvRead, Node, NodeOptions, StartError};
