//! The database handle.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use arc_swap::ArcSwap;
use nevar_freelist::{FreeList, Horizons};
use nevar_page::TxnId;
use nevar_pager::Dirty;

use crate::error::{Error, Result};
use crate::group::SyncGroup;
use crate::options::{Durability, Options};
use crate::read::ReadTxn;
use crate::readers::Readers;
use crate::recovery::Opened;
use crate::snapshot::Snapshot;
use crate::store::ReadStore;
use crate::write::WriteTxn;

/// State only the writer touches, behind the writer lock.
pub(crate) struct Writer {
    /// The free-page index as the last commit left it, kept between transactions so the next
    /// one need not reload it; `None` after an abort (the next begin reloads it). A live
    /// write transaction owns it (see [`WriteTxn`]).
    pub cached_freelist: Option<FreeList>,
    /// Pages of the live write transaction.
    pub dirty: Dirty,
    /// The newest commit, which the next transaction starts from. It may not be durable or
    /// published yet (its group is syncing).
    pub head: Arc<Snapshot>,
}

/// Everything a database handle and its transactions share.
pub(crate) struct Shared {
    pub store: ReadStore,
    pub current: ArcSwap<Snapshot>,
    /// `current`'s txn id, stored after `current` (see `readers.rs` for why).
    pub current_txn: AtomicU64,
    /// Newest commit known to be on stable storage. Written only by a sync's leader (see
    /// `group.rs`); read without any lock, so `stats()` never waits for the writer.
    pub durable_txn: AtomicU64,
    pub readers: Readers,
    pub writer: Mutex<Writer>,
    /// Meta writes, syncs and publication (group commit).
    pub group: SyncGroup,
    pub options: Options,
    /// Set when a failed write or sync left the file in an unknown state.
    pub broken: AtomicBool,
    /// What commits wrote, for [`crate::Stats`].
    pub written: WriteCounters,
}

/// Pages commits wrote since open, and in how many runs of adjacent pages.
#[derive(Default)]
pub(crate) struct WriteCounters {
    pub pages: AtomicU64,
    pub runs: AtomicU64,
}

impl Shared {
    /// Takes the writer lock. A panic in user code while a write transaction was live poisons
    /// the mutex after the transaction's drop has rolled it back, so the state is sound.
    pub fn lock_writer(&self) -> MutexGuard<'_, Writer> {
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What may still see pages freed after snapshot `base`: the oldest reader's snapshot and
    /// the last durable commit (no reader's snapshot and not the durable commit may lose pages).
    /// `base` may be newer than what readers see (its group is still syncing); a reader may be
    /// registering for the published snapshot right now, so that one bounds the readers'
    /// horizon too. It is read before the reader slots (see `readers.rs`).
    pub fn horizons(&self, base: TxnId) -> Horizons {
        let published = self.current_txn.load(Ordering::SeqCst);
        Horizons {
            readers: self
                .readers
                .oldest()
                .unwrap_or(TxnId::MAX)
                .min(published)
                .min(base),
            durable: self.durable_txn().min(base),
        }
    }

    /// Newest commit known to be on stable storage.
    pub fn durable_txn(&self) -> TxnId {
        self.durable_txn.load(Ordering::SeqCst)
    }
}

/// An open database: one file of named B+trees. `Send + Sync`; share it across threads.
pub struct Database {
    pub(crate) shared: Arc<Shared>,
}

impl Database {
    /// Opens the database at `path`, creating it if missing, with default [`Options`].
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Database> {
        Options::new().open(path)
    }

    pub(crate) fn open_with(opened: Opened, options: Options) -> Result<Database> {
        let writer = Writer {
            cached_freelist: None,
            dirty: Dirty::new(),
            head: Arc::new(opened.snapshot),
        };
        let shared = Shared {
            store: opened.store,
            current_txn: AtomicU64::new(opened.snapshot.txn),
            durable_txn: AtomicU64::new(opened.snapshot.txn),
            current: ArcSwap::from_pointee(opened.snapshot),
            readers: Readers::new(),
            writer: Mutex::new(writer),
            group: SyncGroup::new(opened.snapshot.txn, opened.slot),
            options,
            broken: AtomicBool::new(false),
            written: WriteCounters::default(),
        };
        Ok(Database {
            shared: Arc::new(shared),
        })
    }

    /// Starts a read transaction: a snapshot of the last commit. Never blocks.
    pub fn begin_read(&self) -> Result<ReadTxn> {
        Ok(ReadTxn::new(Arc::clone(&self.shared)))
    }

    /// Starts the write transaction, waiting while another one is live.
    pub fn begin_write(&self) -> Result<WriteTxn<'_>> {
        if self.shared.options.read_only {
            return Err(Error::ReadOnly);
        }
        if self.shared.broken.load(Ordering::SeqCst) {
            return Err(Error::NeedsReopen);
        }
        WriteTxn::begin(&self.shared)
    }

    /// Starts the write transaction if none is live; `None` (at once, without waiting) while
    /// another one is, on this thread or any other.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let w = db.begin_write()?;
    /// assert!(db.try_begin_write()?.is_none());
    /// drop(w);
    /// assert!(db.try_begin_write()?.is_some());
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_begin_write(&self) -> Result<Option<WriteTxn<'_>>> {
        if self.shared.options.read_only {
            return Err(Error::ReadOnly);
        }
        if self.shared.broken.load(Ordering::SeqCst) {
            return Err(Error::NeedsReopen);
        }
        let writer = match self.shared.writer.try_lock() {
            Ok(writer) => writer,
            Err(TryLockError::WouldBlock) => return Ok(None),
            // See `Shared::lock_writer`: the rolled-back state behind a poisoned lock is sound.
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        };
        WriteTxn::begin_locked(&self.shared, writer).map(Some)
    }

    /// The page size of the file.
    pub fn page_size(&self) -> usize {
        self.shared.store.0.page_size()
    }

    /// Id of the last committed transaction.
    pub fn last_txn(&self) -> TxnId {
        self.shared.current.load().txn
    }
}

impl Drop for Database {
    /// Closes cleanly: a final durable commit flags the file as cleanly shut down, so the
    /// next open skips recovery's verification walk.
    fn drop(&mut self) {
        if self.shared.options.read_only || self.shared.broken.load(Ordering::SeqCst) {
            return;
        }
        // The first commit makes everything durable; the clean flag needs a commit that
        // writes no page on top of a durable one (see `commit_clean`), which the second or
        // third is (settling the free list may write pages once more).
        for _ in 0..3 {
            let Ok(mut w) = self.begin_write() else {
                return;
            };
            w.set_durability(Durability::Immediate);
            match w.commit_clean() {
                Ok(true) => return,
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(error = %e, "clean shutdown failed; the next open will verify the last commit");
                    return;
                }
            }
        }
        tracing::debug!("no page-free commit after three tries; the next open verifies");
    }
}
