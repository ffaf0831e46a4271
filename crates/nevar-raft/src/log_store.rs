//! The raft log and vote: openraft's `RaftLogStorage` and `RaftLogReader`.
//!
//! Every change is one durable nevar commit on the writer thread: `save_vote` returns once
//! the vote is on stable storage; `append` commits the entries (readable from then on) and
//! only then reports them flushed; `truncate` and `purge` are one transaction each, and purge
//! moves `last_purged` and removes the range in the same commit.

use std::fmt::Debug;
use std::ops::RangeBounds;
use std::sync::Arc;

use openraft::storage::{LogFlushed, LogState, RaftLogStorage};
use openraft::{
    Entry, ErrorSubject, ErrorVerb, LogId, OptionalSend, RaftLogReader, StorageError, Vote,
};

use crate::TypeConfig;
use crate::error::storage_error;
use crate::store::{
    Described, Inner, LOG, RAFT_META, commit, decode, encode, existing, keys, read_record,
};

/// The log half of the store. Cloning it is cheap; clones share the database.
#[derive(Clone)]
pub struct LogStore {
    pub(crate) inner: Arc<Inner>,
}

type Error = StorageError<u64>;

fn logs_error(verb: ErrorVerb, e: &dyn std::error::Error) -> Error {
    storage_error(ErrorSubject::Logs, verb, &Described(e.to_string()))
}

impl LogStore {
    /// Appends `entries` in one durable commit and returns once they are on stable storage:
    /// what [`RaftLogStorage::append`] does before it reports them flushed. For tools that
    /// load a log, and for tests (openraft's flush callback cannot be made outside it).
    pub async fn append_entries(&self, entries: Vec<Entry<TypeConfig>>) -> Result<(), Error> {
        let records: Vec<(u64, Vec<u8>)> = entries
            .iter()
            .map(|e| (e.log_id.index, encode(e)))
            .collect();
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::Logs, |w| {
                    let mut log = w.open_tree(LOG)?;
                    for (index, bytes) in &records {
                        log.insert(*index, bytes)?;
                    }
                    Ok(())
                })
            })
            .await
    }

    /// The log entries with indexes in `range`, from a fresh snapshot.
    fn entries(&self, range: impl RangeBounds<u64>) -> Result<Vec<Entry<TypeConfig>>, Error> {
        let fail = |e: &dyn std::error::Error| logs_error(ErrorVerb::Read, e);
        let r = self.inner.db.begin_read().map_err(|e| fail(&e))?;
        let Some(log) = existing(&r, LOG).map_err(|e| fail(&e))? else {
            return Ok(Vec::new());
        };
        let bounds = (range.start_bound().cloned(), range.end_bound().cloned());
        log.range(bounds)
            .map_err(|e| fail(&e))?
            .map(|item| {
                let (_, bytes) = item.map_err(|e| fail(&e))?;
                decode(bytes).map_err(|e| fail(&e))
            })
            .collect()
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry<TypeConfig>>, Error> {
        self.entries(range)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, Error> {
        let last_purged_log_id: Option<LogId<u64>> = read_record(
            &self.inner.db,
            RAFT_META,
            keys::LAST_PURGED,
            ErrorSubject::Logs,
        )?;
        let last_entry = {
            let fail = |e: &dyn std::error::Error| logs_error(ErrorVerb::Read, e);
            let r = self.inner.db.begin_read().map_err(|e| fail(&e))?;
            match existing(&r, LOG).map_err(|e| fail(&e))? {
                Some(log) => match log.last().map_err(|e| fail(&e))? {
                    Some((_, bytes)) => {
                        Some(decode::<Entry<TypeConfig>>(bytes).map_err(|e| fail(&e))?)
                    }
                    None => None,
                },
                None => None,
            }
        };
        let last_log_id = last_entry.map(|e| e.log_id).or(last_purged_log_id);
        Ok(LogState {
            last_purged_log_id,
            last_log_id,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<u64>) -> Result<(), Error> {
        let bytes = encode(vote);
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::Vote, |w| {
                    w.open_tree(RAFT_META)?.insert(keys::VOTE, &bytes)?;
                    Ok(())
                })
            })
            .await
    }

    async fn read_vote(&mut self) -> Result<Option<Vote<u64>>, Error> {
        read_record(&self.inner.db, RAFT_META, keys::VOTE, ErrorSubject::Vote)
    }

    async fn save_committed(&mut self, committed: Option<LogId<u64>>) -> Result<(), Error> {
        let bytes = encode(&committed);
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::Logs, |w| {
                    w.open_tree(RAFT_META)?.insert(keys::COMMITTED, &bytes)?;
                    Ok(())
                })
            })
            .await
    }

    async fn read_committed(&mut self) -> Result<Option<LogId<u64>>, Error> {
        Ok(read_record::<Option<LogId<u64>>>(
            &self.inner.db,
            RAFT_META,
            keys::COMMITTED,
            ErrorSubject::Logs,
        )?
        .flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), Error>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let result = self.append_entries(entries.into_iter().collect()).await;
        // The commit was durable when it returned: only now are the entries flushed.
        match &result {
            Ok(()) => callback.log_io_completed(Ok(())),
            Err(e) => callback.log_io_completed(Err(std::io::Error::other(e.to_string()))),
        }
        result
    }

    async fn truncate(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::Logs, |w| {
                    w.open_tree(LOG)?.remove_range(log_id.index..)?;
                    Ok(())
                })
            })
            .await
    }

    async fn purge(&mut self, log_id: LogId<u64>) -> Result<(), Error> {
        let bytes = encode(&log_id);
        self.inner
            .writer
            .run(move |db| {
                commit(db, ErrorSubject::Logs, |w| {
                    w.open_tree(RAFT_META)?.insert(keys::LAST_PURGED, &bytes)?;
                    w.open_tree(LOG)?.remove_range(..=log_id.index)?;
                    Ok(())
                })
            })
            .await
    }
}
