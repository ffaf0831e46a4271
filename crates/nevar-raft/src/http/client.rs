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

/// A node's answer to `/write`.
type WriteAnswer =
    Result<ClientWriteResponse<TypeConfig>, RaftError<u64, ClientWriteError<u64, BasicNode>>>;
/// A node's answer to `/linearizable_read`.
type ReadAnswer = Result<Option<String>, RaftError<u64, CheckIsLeaderError<u64, BasicNode>>>;

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

    /// Writes through the leader; returns once the write is committed and applied there.
    pub async fn write(&self, request: &Request) -> Result<Response, ClientError> {
        for attempt in 0..ATTEMPTS {
            let (_, addr) = self.target(attempt);
            let answer: Result<WriteAnswer, _> = self.post(&addr, "write", request).await;
            match answer {
                Ok(Ok(written)) => return Ok(written.data),
                Ok(Err(RaftError::APIError(ClientWriteError::ForwardToLeader(to)))) => {
                    self.follow(to.leader_id);
                    if to.leader_id.is_none() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                Ok(Err(e)) => return Err(ClientError::Raft(e.to_string())),
                Err(_) => {
                    self.follow(None);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Err(ClientError::NoLeader(ATTEMPTS))
    }

    /// A linearizable read through the leader.
    pub async fn linearizable_read(&self, key: &str) -> Result<Option<String>, ClientError> {
        for attempt in 0..ATTEMPTS {
            let (_, addr) = self.target(attempt);
            let answer: Result<ReadAnswer, _> = self.post(&addr, "linearizable_read", &key).await;
            match answer {
                Ok(Ok(value)) => return Ok(value),
                Ok(Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(to)))) => {
                    self.follow(to.leader_id);
                    if to.leader_id.is_none() {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
                Ok(Err(e)) => return Err(ClientError::Raft(e.to_string())),
                Err(_) => {
                    self.follow(None);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Err(ClientError::NoLeader(ATTEMPTS))
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

    /// Adds node `id` at `addr` as a learner, through the leader.
    pub async fn add_learner(&self, id: u64, addr: &str) -> Result<(), ClientError> {
        let (_, leader) = self.target(0);
        let answer: Result<
            ClientWriteResponse<TypeConfig>,
            RaftError<u64, ClientWriteError<u64, BasicNode>>,
        > = self.post(&leader, "add-learner", &(id, addr)).await?;
        answer
            .map(drop)
            .map_err(|e| ClientError::Raft(e.to_string()))
    }

    /// Makes `voters` the voting members, through the leader.
    pub async fn change_membership(&self, voters: &BTreeSet<u64>) -> Result<(), ClientError> {
        let (_, leader) = self.target(0);
        let answer: Result<
            ClientWriteResponse<TypeConfig>,
            RaftError<u64, ClientWriteError<u64, BasicNode>>,
        > = self.post(&leader, "change-membership", voters).await?;
        answer
            .map(drop)
            .map_err(|e| ClientError::Raft(e.to_string()))
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
