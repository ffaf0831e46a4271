//! Errors: opening the store, and the mapping of every storage failure to openraft's
//! `StorageError` with the subject and verb of what failed.

use openraft::{AnyError, ErrorSubject, ErrorVerb, StorageError, StorageIOError};

/// Why [`open`](crate::open) failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The database refused.
    #[error("nevar: {0}")]
    Nevar(#[from] nevar::Error),
    /// The snapshot directory could not be prepared.
    #[error("snapshot directory: {0}")]
    Io(#[from] std::io::Error),
    /// The file was written by another format of this crate.
    #[error("the raft data has format {found}; this build reads format {supported}")]
    Format {
        /// The file's format.
        found: u32,
        /// [`FORMAT`](crate::FORMAT).
        supported: u32,
    },
    /// A record in the file does not decode.
    #[error("malformed raft record {what}: {why}")]
    Malformed {
        /// Which record.
        what: &'static str,
        /// The decoder's complaint.
        why: String,
    },
}

/// Turns any error into the storage error openraft expects, naming what was done to what.
pub(crate) fn storage_error<E: std::error::Error + 'static>(
    subject: ErrorSubject<u64>,
    verb: ErrorVerb,
    e: &E,
) -> StorageError<u64> {
    StorageIOError::new(subject, verb, AnyError::new(e)).into()
}

/// A failure of the writer thread itself (it stopped): the store can no longer write.
#[derive(Debug, thiserror::Error)]
#[error("the nevar writer thread has stopped")]
pub(crate) struct WriterGone;

/// A record that does not decode.
#[derive(Debug, thiserror::Error)]
#[error("record {what} does not decode: {why}")]
pub(crate) struct Malformed {
    pub what: &'static str,
    pub why: String,
}
