//! Opening the store: the database, its writer thread, the snapshot directory, the format.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use nevar::{Database, TreeDef};
use openraft::{ErrorSubject, ErrorVerb, StorageError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Malformed, OpenError, storage_error};
use crate::log_store::LogStore;
use crate::state_machine::StateMachineStore;
use crate::writer::Writer;

/// The format of what this crate writes (openraft's serde encoding included). Bump it when
/// openraft or the layout changes what the bytes mean.
pub const FORMAT: u32 = 1;

/// Log entries by index.
pub(crate) const LOG: TreeDef<u64, &[u8]> = TreeDef::new("raft/log");
/// The vote, the committed and last purged log ids, the current snapshot's meta, the format.
pub(crate) const RAFT_META: TreeDef<&str, &[u8]> = TreeDef::new("raft/meta");
/// The state machine's applied log id and membership.
pub(crate) const SM_META: TreeDef<&str, &[u8]> = TreeDef::new("sm/meta");
/// The application's keys and values.
pub(crate) const SM_DATA: TreeDef<&str, &str> = TreeDef::new("sm/data");
/// Trees whose names start with this are the state machine: what snapshots hold.
pub(crate) const SM_PREFIX: &str = "sm/";

pub(crate) mod keys {
    pub const FORMAT: &str = "format";
    pub const VOTE: &str = "vote";
    pub const COMMITTED: &str = "committed";
    pub const LAST_PURGED: &str = "last_purged";
    pub const SNAPSHOT: &str = "snapshot";
    pub const APPLIED: &str = "applied";
    pub const MEMBERSHIP: &str = "membership";
}

/// What the log store and the state machine share.
pub(crate) struct Inner {
    pub db: Arc<Database>,
    pub writer: Writer,
    /// Where snapshot files live: `<file>.snapshots/`.
    pub snapshots: PathBuf,
    /// Numbers snapshot files, so no two builds share a name.
    pub snapshot_seq: AtomicU64,
}

/// Opens (or creates) the raft store in the nevar file at `path`: the log store and the state
/// machine openraft runs on, sharing one database and one writer thread.
///
/// ```
/// # fn main() -> Result<(), nevar_raft::OpenError> {
/// # let dir = tempfile::tempdir().unwrap();
/// let (log_store, state_machine) = nevar_raft::open(dir.path().join("node-1.nevar"))?;
/// # drop((log_store, state_machine));
/// # Ok(())
/// # }
/// ```
pub fn open(path: impl AsRef<Path>) -> Result<(LogStore, StateMachineStore), OpenError> {
    let path = path.as_ref();
    let db = Arc::new(Database::open(path)?);
    check_format(&db)?;
    let mut snapshots = path.as_os_str().to_owned();
    snapshots.push(".snapshots");
    let snapshots = PathBuf::from(snapshots);
    std::fs::create_dir_all(&snapshots)?;
    let inner = Arc::new(Inner {
        writer: Writer::spawn(Arc::clone(&db)),
        db,
        snapshots,
        snapshot_seq: AtomicU64::new(0),
    });
    crate::snapshot::remove_stale(&inner).map_err(OpenError::Io)?;
    Ok((
        LogStore {
            inner: Arc::clone(&inner),
        },
        StateMachineStore { inner },
    ))
}

/// Records [`FORMAT`] in a new file; refuses a file of another format.
fn check_format(db: &Database) -> Result<(), OpenError> {
    let found = {
        let r = db.begin_read()?;
        match existing(&r, RAFT_META)? {
            Some(meta) => meta
                .get(keys::FORMAT)?
                .map(decode::<u32>)
                .transpose()
                .map_err(|e| OpenError::Malformed {
                    what: e.what,
                    why: e.why,
                })?,
            None => None,
        }
    };
    match found {
        Some(FORMAT) => Ok(()),
        Some(found) => Err(OpenError::Format {
            found,
            supported: FORMAT,
        }),
        None => {
            let mut w = db.begin_write()?;
            w.open_tree(RAFT_META)?
                .insert(keys::FORMAT, &encode(&FORMAT))?;
            w.commit()?;
            Ok(())
        }
    }
}

/// A record's bytes.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("openraft's types and ours serialize to JSON")
}

/// A record from its bytes.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Malformed> {
    serde_json::from_slice(bytes).map_err(|e| Malformed {
        what: std::any::type_name::<T>(),
        why: e.to_string(),
    })
}

/// Tree `def` in `read`, or `None` while nothing has created it yet.
pub(crate) fn existing<'r, K: nevar::Key, V: nevar::Value>(
    read: &'r nevar::ReadTxn,
    def: TreeDef<K, V>,
) -> nevar::Result<Option<nevar::TypedTree<'r, K, V>>> {
    match read.open_tree(def) {
        Ok(tree) => Ok(Some(tree)),
        Err(nevar::Error::TreeNotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `change` as one durable transaction; any failure is a write error on `subject`.
pub(crate) fn commit<R>(
    db: &Database,
    subject: ErrorSubject<u64>,
    change: impl FnOnce(&mut nevar::WriteTxn<'_>) -> nevar::Result<R>,
) -> Result<R, StorageError<u64>> {
    let fail = |e: nevar::Error| storage_error(subject.clone(), ErrorVerb::Write, &e);
    let mut w = db.begin_write().map_err(fail)?;
    let result = change(&mut w).map_err(fail)?;
    w.commit().map_err(fail)?;
    Ok(result)
}

/// Reads record `key` of `tree` in a fresh read transaction.
pub(crate) fn read_record<T: DeserializeOwned>(
    db: &Database,
    tree: TreeDef<&'static str, &'static [u8]>,
    key: &str,
    subject: ErrorSubject<u64>,
) -> Result<Option<T>, StorageError<u64>> {
    let fail = |e: &dyn std::error::Error| {
        storage_error(subject.clone(), ErrorVerb::Read, &Described(e.to_string()))
    };
    let r = db.begin_read().map_err(|e| fail(&e))?;
    let Some(t) = existing(&r, tree).map_err(|e| fail(&e))? else {
        return Ok(None);
    };
    match t.get(key).map_err(|e| fail(&e))? {
        Some(bytes) => decode(bytes).map(Some).map_err(|e| fail(&e)),
        None => Ok(None),
    }
}

/// An error known only by its message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Described(pub String);
