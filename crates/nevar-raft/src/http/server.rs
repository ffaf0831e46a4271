//! One node: the store, openraft, and the HTTP server in front of them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use openraft::error::{
    CheckIsLeaderError, ClientWriteError, Fatal, InitializeError, InstallSnapshotError, RaftError,
};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, ClientWriteResponse, InstallSnapshotRequest,
    InstallSnapshotResponse, VoteRequest, VoteResponse,
};
use openraft::{BasicNode, ErrorSubject, ErrorVerb, Raft, RaftMetrics};

use crate::error::storage_error;
use crate::http::HttpNetwork;
use crate::store::Described;
use crate::{KvReader, Request, TypeConfig};

/// What a node needs to start.
pub struct NodeOptions {
    /// Its raft id.
    pub id: u64,
    /// Where it listens (and what other nodes are told to call), as `127.0.0.1:21001`.
    pub addr: String,
    /// Its nevar file.
    pub db: PathBuf,
    /// openraft's timing and snapshot settings.
    pub config: openraft::Config,
}

/// Reads the applied state for `/read` and `/linearizable_read`.
pub trait KvRead: Clone + Send + Sync + 'static {
    /// The value of `key`.
    fn get(&self, key: &str) -> Result<Option<String>, String>;
}

impl KvRead for KvReader {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        KvReader::get(self, key).map_err(|e| e.to_string())
    }
}

/// A running node; [`Node::shutdown`] stops it.
pub struct Node<R = KvReader> {
    /// The raft instance, for metrics and direct calls.
    pub raft: Raft<TypeConfig>,
    /// The applied state.
    pub reader: R,
    /// Where the HTTP server listens.
    pub addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

#[derive(Clone)]
struct App<R> {
    raft: Raft<TypeConfig>,
    reader: R,
}

type Answer<T, E> = Json<Result<T, E>>;

/// Why a node did not start.
pub type StartError = Box<dyn std::error::Error + Send + Sync>;

impl Node {
    /// Opens the nevar store, starts openraft on it and serves the routes of [`crate::http`].
    pub async fn start(options: NodeOptions) -> Result<Node, StartError> {
        let (log, sm) = crate::open(&options.db)?;
        let reader = sm.reader();
        Node::start_with(options, log, sm, reader).await
    }
}

impl<R: KvRead> Node<R> {
    /// Starts openraft on any store of this crate's [`TypeConfig`] (`options.db` unused) and
    /// serves the same routes: how `bench_raft` runs the cluster on an in-memory store.
    pub async fn start_with<LS, SM>(
        options: NodeOptions,
        log: LS,
        sm: SM,
        reader: R,
    ) -> Result<Node<R>, StartError>
    where
        LS: openraft::storage::RaftLogStorage<TypeConfig>,
        SM: openraft::storage::RaftStateMachine<TypeConfig>,
    {
        let config = Arc::new(options.config.validate()?);
        let raft = Raft::new(options.id, config, HttpNetwork::default(), log, sm).await?;
        let listener = tokio::net::TcpListener::bind(&options.addr).await?;
        let addr = listener.local_addr()?;
        let app = App {
            raft: raft.clone(),
            reader: reader.clone(),
        };
        let router = Router::new()
            .route("/raft/vote", post(vote::<R>))
            .route("/raft/append", post(append::<R>))
            .route("/raft/snapshot", post(snapshot::<R>))
            .route("/write", post(write::<R>))
            .route("/read", post(read::<R>))
            .route("/linearizable_read", post(linearizable_read::<R>))
            .route("/init", post(init::<R>))
            .route("/add-learner", post(add_learner::<R>))
            .route("/change-membership", post(change_membership::<R>))
            .route("/metrics", get(metrics::<R>))
            .with_state(app);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Node {
            raft,
            reader,
            addr,
            stop,
            server,
        })
    }

    /// Stops openraft and the server.
    pub async fn shutdown(self) {
        let _ = self.raft.shutdown().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

async fn vote<R: KvRead>(
    State(app): State<App<R>>,
    Json(rpc): Json<VoteRequest<u64>>,
) -> Answer<VoteResponse<u64>, RaftError<u64>> {
    Json(app.raft.vote(rpc).await)
}

async fn append<R: KvRead>(
    State(app): State<App<R>>,
    Json(rpc): Json<AppendEntriesRequest<TypeConfig>>,
) -> Answer<AppendEntriesResponse<u64>, RaftError<u64>> {
    Json(app.raft.append_entries(rpc).await)
}

async fn snapshot<R: KvRead>(
    State(app): State<App<R>>,
    Json(rpc): Json<InstallSnapshotRequest<TypeConfig>>,
) -> Answer<InstallSnapshotResponse<u64>, RaftError<u64, InstallSnapshotError>> {
    Json(app.raft.install_snapshot(rpc).await)
}

async fn write<R: KvRead>(
    State(app): State<App<R>>,
    Json(request): Json<Request>,
) -> Answer<ClientWriteResponse<TypeConfig>, RaftError<u64, ClientWriteError<u64, BasicNode>>> {
    Json(app.raft.client_write(request).await)
}

async fn read<R: KvRead>(
    State(app): State<App<R>>,
    Json(key): Json<String>,
) -> Answer<Option<String>, String> {
    Json(app.reader.get(&key))
}

/// The answer of a linearizable read: the value, or why this node cannot serve one.
async fn linearizable_read<R: KvRead>(
    State(app): State<App<R>>,
    Json(key): Json<String>,
) -> Answer<Option<String>, RaftError<u64, CheckIsLeaderError<u64, BasicNode>>> {
    match app.raft.ensure_linearizable().await {
        // Applied up to the read point: the local state machine answers. A failed read is a
        // storage error of the state machine, never a missing key.
        Ok(_) => Json(app.reader.get(&key).map_err(|e| {
            RaftError::Fatal(Fatal::StorageError(storage_error(
                ErrorSubject::StateMachine,
                ErrorVerb::Read,
                &Described(e),
            )))
        })),
        Err(e) => Json(Err(e)),
    }
}

async fn init<R: KvRead>(
    State(app): State<App<R>>,
    Json(nodes): Json<BTreeMap<u64, String>>,
) -> Answer<(), RaftError<u64, InitializeError<u64, BasicNode>>> {
    let members: BTreeMap<u64, BasicNode> = nodes
        .into_iter()
        .map(|(id, addr)| (id, BasicNode { addr }))
        .collect();
    Json(app.raft.initialize(members).await)
}

async fn add_learner<R: KvRead>(
    State(app): State<App<R>>,
    Json((id, addr)): Json<(u64, String)>,
) -> Answer<ClientWriteResponse<TypeConfig>, RaftError<u64, ClientWriteError<u64, BasicNode>>> {
    Json(app.raft.add_learner(id, BasicNode { addr }, true).await)
}

async fn change_membership<R: KvRead>(
    State(app): State<App<R>>,
    Json(voters): Json<BTreeSet<u64>>,
) -> Answer<ClientWriteResponse<TypeConfig>, RaftError<u64, ClientWriteError<u64, BasicNode>>> {
    Json(app.raft.change_membership(voters, false).await)
}

async fn metrics<R: KvRead>(State(app): State<App<R>>) -> Json<RaftMetrics<u64, BasicNode>> {
    Json(app.raft.metrics().borrow().clone())
}
