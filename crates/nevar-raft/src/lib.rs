//! nevar as the storage engine under [openraft](https://docs.rs/openraft/0.9.25): the raft
//! log, the vote and a key-value state machine in one nevar file, every write a durable
//! commit.
//!
//! ```text
//! one nevar file:
//!   raft/log    u64 index (big-endian)  -> entry (JSON)
//!   raft/meta   "format" "vote" "committed" "last_purged" "snapshot" -> JSON
//!   sm/meta     "applied" "membership"  -> JSON          } the state machine: what a
//!   sm/data     key                     -> value         } snapshot holds
//! <file>.snapshots/<snapshot id>.nevar: the current snapshot, a compact nevar file of the
//!   sm/* trees (ReadTxn::write_trees_to)
//! ```
//!
//! [`open`] gives the two halves openraft wants, [`LogStore`] (`RaftLogStorage`) and
//! [`StateMachineStore`] (`RaftStateMachine`). They share one database and one writer
//! thread (see `writer.rs`): every write IO is a job on that thread, run in the order openraft
//! issued it, and no `WriteTxn` ever lives across an `.await`. Readers open a fresh read
//! transaction per call.
//!
//! openraft's serde encoding of its types is not promised stable across its versions, so the
//! file records [`FORMAT`]; opening a file of another format is an error.
#![forbid(unsafe_code)]
// openraft's traits return its `StorageError` (224 bytes); every helper here returns it too.
#![allow(clippy::result_large_err)]

mod error;
pub mod http;
mod log_store;
mod snapshot;
mod state_machine;
mod store;
mod writer;

use serde::{Deserialize, Serialize};

pub use error::OpenError;
pub use log_store::LogStore;
pub use state_machine::{KvReader, SnapshotBuilder, StateMachineStore};
pub use store::{FORMAT, open};

/// A write to the replicated key-value state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Sets `key` to `value`.
    Set {
        /// The key.
        key: String,
        /// The new value.
        value: String,
    },
    /// Removes `key`.
    Delete {
        /// The key.
        key: String,
    },
}

/// What applying a [`Request`] returned: the key's previous value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The value before the request, if any.
    pub previous: Option<String>,
}

openraft::declare_raft_types!(
    /// openraft's types for a nevar-backed key-value store.
    pub TypeConfig:
        D = Request,
        R = Response,
        NodeId = u64,
        Node = openraft::BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = tokio::fs::File,
);
