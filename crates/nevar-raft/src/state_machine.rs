//! The key-value state machine: openraft's `RaftStateMachine` and `RaftSnapshotBuilder`.
//!
//! `apply` commits a batch's data, its last log id and any membership change in one durable
//! transaction, so after a crash the state machine is exactly at some applied log id, never
//! between two.

use std::sync::Arc;

use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    Entry, EntryPayload, ErrorSubject, LogId, OptionalSend, RaftSnapshotBuilder, SnapshotMeta,
    StorageError, StoredMembership,
};

use crate::snapshot;
use crate::store::{Inner, SM_DATA, SM_META, commit, encode, existing, keys, read_record};
use crate::{Request, Response, TypeConfig};

type Error = StorageError<u64>;

/// The state-machine half of the store.
pub struct StateMachineStore {
    pub(crate) inner: Arc<Inner>,
}

/// Builds snapshots of the state machine (a compact nevar file of its trees).
pub struct SnapshotBuilder {
    inner: Arc<Inner>,
}

/// Reads the applied state while openraft owns the state machine. Cloning is cheap.
#[derive(Clone)]
pub struct KvReader {
    inner: Arc<Inner>,
}

impl KvReader {
    /// The value of `key` in the last applied state (a fresh read transaction).
    pub fn get(&self, key: &str) -> Result<Option<String>, nevar::Error> {
        let r = self.inner.db.begin_read()?;
        match existing(&r, SM_DATA)? {
            Some(data) => Ok(data.get(key)?.map(str::to_owned)),
            None => Ok(None),
        }
    }

    /// The database underneath, for inspection (`check()`, `stats()`).
    pub fn database(&self) -> &nevar::Database {
        &self.inner.db
    }
}

impl StateMachineStore {
    /// A reader of the applied state, to keep when the state machine moves into openraft.
    pub fn reader(&self) -> KvReader {
        KvReader {
            inner: Arc::clone(&self.inner),
        }
    }

    /// The value of `key` in the last applied state (a fresh read transaction).
    pub fn get(&self, key: &str) -> Result<Option<String>, nevar::Error> {
        self.reader().get(key)
    }

    /// The database underneath, for inspection (`check()`, `stats()`).
    pub fn database(&self) -> &nevar::Database {
        &self.inner.db
    }
}

impl RaftStateMachine<TypeConfig> for StateMachineStore {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(
        &mut self,
    ) -> Result<
        (
            Option<LogId<u64>>,
            StoredMembership<u64, openraft::BasicNode>,
        ),
        Error,
    > {
        let db = &self.inner.db;
        let applied: Option<LogId<u64>> =
            read_record(db, SM_META, keys::APPLIED, ErrorSubject::StateMachine)?;
        let membership = read_record(db, SM_META, keys::MEMBERSHIP, ErrorSubject::StateMachine)?;
        Ok((applied, membership.unwrap_or_default()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Response>, Error>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry<TypeConfig>> = entries.into_iter().collect();
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::StateMachine, |w| {
                    let mut responses = Vec::with_capacity(entries.len());
                    let mut membership = None;
                    {
                        let mut data = w.open_tree(SM_DATA)?;
                        for entry in &entries {
                            let response = match &entry.payload {
                                EntryPayload::Blank => Response::default(),
                                EntryPayload::Normal(Request::Set { key, value }) => {
                                    let previous = data.get(key)?.map(str::to_owned);
                                    data.insert(key, value)?;
                                    Response { previous }
                                }
                                EntryPayload::Normal(Request::Delete { key }) => Response {
                                    previous: data.take(key)?,
                                },
                                EntryPayload::Membership(m) => {
                                    membership =
                                        Some(StoredMembership::new(Some(entry.log_id), m.clone()));
                                    Response::default()
                                }
                            };
                            responses.push(response);
                        }
                    }
                    let last = entries.last().map(|e| e.log_id);
                    let mut meta = w.open_tree(SM_META)?;
                    meta.insert(keys::APPLIED, &encode(&last))?;
                    if let Some(membership) = membership {
                        meta.insert(keys::MEMBERSHIP, &encode(&membership))?;
                    }
                    Ok(responses)
                })
            })
            .await
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        SnapshotBuilder {
            inner: Arc::clone(&self.inner),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<tokio::fs::File>, Error> {
        snapshot::begin_receiving(&self.inner).await
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta<u64, openraft::BasicNode>,
        snapshot: Box<tokio::fs::File>,
    ) -> Result<(), Error> {
        snapshot::install(&self.inner, meta.clone(), *snapshot).await
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, Error> {
        snapshot::current(&self.inner).await
    }
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, Error> {
        snapshot::build(&self.inner).await
    }
}
