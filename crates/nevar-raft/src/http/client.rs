//! A client of the cluster: finds the leader (following `ForwardToLeader` answers) and
//! retries while an election is under way.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::Duration;

use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use openraft::raft::ClientWriteResponse;
use openraft::{BasicNode, RaftMetrics};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{Request, Response, TypeConfig};

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node could not be reached or answered garbage.
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The cluster refused.
    #[error("raft: {0}")]
    Raft(String),
    /// No node named a leader within the retry budget.
    #[error("no leader found after {0} attempts")]
    NoLeader(u32),
}

/// Talks to the nodes it knows by id and address.
pub struct Client {
    http: reqwest::Client,
    nodes: BTreeMap<u64, String>,
    leader: Mutex<Option<u64>>,
}

/// A node's refusal of `/write`.
type WriteError = RaftError<u64, ClientWriteError<u64, BasicNode>>;
/// A node's refusal of `/linearizable_read`.
type ReadError = RaftError<u64, CheckIsLeaderError<u64, BasicNode>>;

/// The leader a refused write names, if the refusal is `ForwardToLeader`.
fn forward_write(e: &WriteError) -> Option<Option<u64>> {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(to)) => Some(to.leader_id),
        _ => None,
    }
}

/// Attempts before giving up on finding a leader (each waits 50 ms after a failure): over 10
/// s, several election timeouts.
const ATTEMPTS: u32 = 200;

impl Client {
    /// A client of the nodes `id -> "host:port"`.
    pub fn new(nodes: BTreeMap<u64, String>) -> Client {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .expect("an HTTP client without TLS builds"),
            nodes,
            leader: Mutex::new(None),
        }
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        addr: &str,
        route: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        Ok(self
            .http
            .post(format!("http://{addr}/{route}"))
            .json(body)
            .send()
            .await?
            .json()
            .await?)
    }

    /// The node to try next: the known leader, else each node in turn.
    fn target(&self, attempt: u32) -> (u64, String) {
        let leader = *self.leader.lock().unwrap();
        let id = leader.unwrap_or_else(|| {
            let ids: Vec<u64> = self.nodes.keys().copied().collect();
            ids[attempt as usize % ids.len()]
        });
        (id, self.nodes[&id].clone())
    }

    fn follow(&self, leader: Option<u64>) {
        *self.leader.lock().unwrap() = leader.filter(|id| self.nodes.contains_key(id));
    }

    /// Sends `body` to `route` on the leader, following `ForwardToLeader` answers (which
    /// `redirect` picks out of the error) and retrying while no leader is known.
    async fn on_leader<
        B: Serialize,
        T: DeserializeOwned,
        E: DeserializeOwned + std::fmt::Display,
    >(
        &self,
        route: &str,
        body: &B,
        redirect: impl Fn(&E) -> Option<Option<u64>>,
    ) -> Result<T, ClientError> {
        for attempt in 0..ATTEMPTS {
            let (_, addr) = self.target(attempt);
            let answer: Result<Result<T, E>, _> = self.post(&addr, route, body).await;
            let leader = match answer {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(e)) => match redirect(&e) {
                    Some(leader) => leader,
                    None => return Err(ClientError::Raft(e.to_string())),
                },
                Err(_) => None,
            };
            self.follow(leader);
            if leader.is_none() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        Err(ClientError::NoLeader(ATTEMPTS))
    }

    /// Writes through the leader; returns once the write is committed and applied there.
    pub async fn write(&self, request: &Request) -> Result<Response, ClientError> {
        let written: ClientWriteResponse<TypeConfig> =
            self.on_leader("write", request, forward_write).await?;
        Ok(written.data)
    }

    /// A linearizable read through the leader.
    pub async fn linearizable_read(&self, key: &str) -> Result<Option<String>, ClientError> {
        self.on_leader("linearizable_read", &key, |e: &ReadError| match e {
            RaftError::APIError(CheckIsLeaderError::ForwardToLeader(to)) => Some(to.leader_id),
            _ => None,
        })
        .await
    }

    /// The value of `key` on node `id`'s state machine (possibly stale).
    pub async fn read_from(&self, id: u64, key: &str) -> Result<Option<String>, ClientError> {
        let answer: Result<Option<String>, String> =
            self.post(&self.nodes[&id], "read", &key).await?;
        answer.map_err(ClientError::Raft)
    }

    /// Initializes the cluster through node `id` with every known node as a voter.
    pub async fn init(&self, id: u64) -> Result<(), ClientError> {
        let answer: Result<(), RaftError<u64, openraft::error::InitializeError<u64, BasicNode>>> =
            self.post(&self.nodes[&id], "init", &self.nodes).await?;
        answer.map_err(|e| ClientError::Raft(e.to_string()))
    }

    /// Adds node `id` at `addr` as a learner, through the leader, and waits until it has
    /// caught up.
    pub async fn add_learner(&self, id: u64, addr: &str) -> Result<(), ClientError> {
        let _: ClientWriteResponse<TypeConfig> = self
            .on_leader("add-learner", &(id, addr), forward_write)
            .await?;
        Ok(())
    }

    /// Makes `voters` the voting members, through the leader.
    pub async fn change_membership(&self, voters: &BTreeSet<u64>) -> Result<(), ClientError> {
        let _: ClientWriteResponse<TypeConfig> = self
            .on_leader("change-membership", voters, forward_write)
            .await?;
        Ok(())
    }

    /// Node `id`'s metrics.
    pub async fn metrics(&self, id: u64) -> Result<RaftMetrics<u64, BasicNode>, ClientError> {
        Ok(self
            .http
            .get(format!("http://{}/metrics", self.nodes[&id]))
            .send()
            .await?
            .json()
            .await?)
    }
}
