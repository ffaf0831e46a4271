//! `FaultyStorage`: any backend, with one storage call made to fail, for I/O-error tests.
//!
//! Writes go through maps, so a failed write cannot surface at the store itself: the kernel
//! reports it at the next sync (`EIO` from `fdatasync`). A failed sync therefore stands for
//! both; what reached the disk is then whatever a crash image of the inner disk says.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{PagerError, Result};
use crate::storage::{Region, Storage};

/// The storage calls a fault can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageCall {
    /// `grow`: fails with `ENOSPC`, as a full disk does.
    Grow,
    /// `truncate`: fails with `EIO`.
    Truncate,
    /// `map`: fails with `ENOMEM`, as an exhausted address space does.
    Map,
    /// `read_at`: fails with `EIO`.
    Read,
    /// `sync`: fails with `EIO`, as a lost write does.
    Sync,
}

impl StorageCall {
    /// Every call kind.
    pub const ALL: [StorageCall; 5] = [
        StorageCall::Grow,
        StorageCall::Truncate,
        StorageCall::Map,
        StorageCall::Read,
        StorageCall::Sync,
    ];

    fn errno(self) -> i32 {
        match self {
            StorageCall::Grow => 28, // ENOSPC
            StorageCall::Map => 12,  // ENOMEM
            _ => 5,                  // EIO
        }
    }
}

/// Which call fails: the `nth` (1-based) call of kind `call`, and, when `forever`, every
/// later one of that kind too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fault {
    /// The kind of call.
    pub call: StorageCall,
    /// Which call of that kind fails first (1 = the first).
    pub nth: u64,
    /// Whether every later call of that kind fails as well.
    pub forever: bool,
}

/// Wraps a storage and fails the calls its [`Fault`] names. Clones share the counters.
#[derive(Clone)]
pub struct FaultyStorage {
    inner: Arc<dyn Storage>,
    fault: Fault,
    calls: Arc<[AtomicU64; 5]>,
    failures: Arc<AtomicU64>,
}

impl FaultyStorage {
    /// `inner` with `fault` armed.
    pub fn new(inner: impl Storage + 'static, fault: Fault) -> FaultyStorage {
        FaultyStorage {
            inner: Arc::new(inner),
            fault,
            calls: Arc::new(std::array::from_fn(|_| AtomicU64::new(0))),
            failures: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many calls failed so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::SeqCst)
    }

    /// Calls of kind `call` so far (failed ones included).
    pub fn calls(&self, call: StorageCall) -> u64 {
        self.calls[call as usize].load(Ordering::SeqCst)
    }

    /// Counts a call of kind `call` and fails it if the fault says so.
    fn enter(&self, call: StorageCall, op: &'static str) -> Result<()> {
        let n = self.calls[call as usize].fetch_add(1, Ordering::SeqCst) + 1;
        let hit = call == self.fault.call
            && (n == self.fault.nth || (self.fault.forever && n > self.fault.nth));
        if !hit {
            return Ok(());
        }
        self.failures.fetch_add(1, Ordering::SeqCst);
        Err(PagerError::Io {
            op,
            source: std::io::Error::from_raw_os_error(call.errno()),
        })
    }
}

impl Storage for FaultyStorage {
    fn len(&self) -> Result<u64> {
        self.inner.len()
    }

    fn grow(&self, len: u64) -> Result<()> {
        self.enter(StorageCall::Grow, "grow")?;
        self.inner.grow(len)
    }

    fn truncate(&self, len: u64) -> Result<()> {
        self.enter(StorageCall::Truncate, "truncate")?;
        self.inner.truncate(len)
    }

    fn map(&self, offset: u64, len: usize) -> Result<Box<dyn Region>> {
        self.enter(StorageCall::Map, "map")?;
        self.inner.map(offset, len)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.enter(StorageCall::Read, "read")?;
        self.inner.read_at(offset, buf)
    }

    fn sync(&self) -> Result<()> {
        self.enter(StorageCall::Sync, "sync")?;
        self.inner.sync()
    }

    fn writable(&self) -> bool {
        self.inner.writable()
    }
}
