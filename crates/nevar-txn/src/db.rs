//! The database handle.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use arc_swap::ArcSwap;
use nevar_freelist::{FreeList, Horizons};
use nevar_page::{PageNo, TxnId};
use nevar_pager::Dirty;

use crate::error::{Error, Result};
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
    /// Meta slot holding the last durable commit; never overwritten until a newer commit is
    /// durable.
    pub durable_slot: PageNo,
}

/// Everything a database handle and its transactions share.
pub(crate) struct Shared {
    pub store: ReadStore,
    pub current: ArcSwap<Snapshot>,
    /// `current`'s txn id, stored after `current` (see `readers.rs` for why).
    pub current_txn: AtomicU64,
    /// Newest commit known to be on stable storage. Written only by the writer (under its
    /// lock) after a sync; read without the lock, so `stats()` never waits for the writer.
    pub durable_txn: AtomicU64,
    pub readers: Readers,
    pub writer: Mutex<Writer>,
    pub options: Options,
    /// Set when a failed write or sync left the file in an unknown state.
    pub broken: AtomicBool,
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
    pub fn horizons(&self, base: TxnId) -> Horizons {
        Horizons {
            readers: self.readers.oldest().unwrap_or(TxnId::MAX).min(base),
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
            durable_slot: opened.slot,
        };
        let shared = Shared {
            store: opened.store,
            current_txn: AtomicU64::new(opened.snapshot.txn),
            durable_txn: AtomicU64::new(opened.snapshot.txn),
            current: ArcSwap::from_pointee(opened.snapshot),
            readers: Readers::new(),
            writer: Mutex::new(writer),
            options,
            broken: AtomicBool::new(false),
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
        if let Ok(mut w) = self.begin_write() {
            w.set_durability(Durability::Immediate);
            if let Err(e) = w.commit_clean() {
                tracing::warn!(error = %e, "clean shutdown failed; the next open will verify the last commit");
            }
        }
    }
}
