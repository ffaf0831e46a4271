//! The backend trait under the pager.

use crate::error::Result;

/// A block of memory mapped over a byte range of the storage.
///
/// # Safety
/// The pager turns `as_ptr()..as_ptr() + len()` into slices, so an implementation promises:
/// the range is one allocation (or mapping) valid for reads and writes, it never moves and
/// stays valid until the region is dropped, and nothing but the pager's slices accesses it
/// while the region lives (other regions of the same storage may share it, as two maps of
/// one file share the page cache).
pub unsafe trait Region: Send + Sync {
    /// Start of the mapped memory.
    fn as_ptr(&self) -> *mut u8;
    /// Length of the mapping in bytes.
    fn len(&self) -> usize;
    /// Whether the mapping is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Advice: the `len` bytes at `offset` (inside the storage's length when it was given) are
    /// about to be written, so their page-table entries may be set up now, in one call, instead
    /// of one fault per page. The pager gives it from a thread of its own, while the writer may
    /// already store to the same bytes and the storage may have shrunk since: it must change no
    /// byte and must not fault past the storage's end. Regions without such a facility ignore
    /// it.
    fn prefault_writable(&self, _offset: usize, _len: usize) {}
    /// Whether [`prefault_writable`](Region::prefault_writable) does anything, so that the
    /// pager starts no thread for a region that ignores it.
    fn prefaults(&self) -> bool {
        false
    }
}

/// Where a database's bytes live: a real file or a simulated disk.
pub trait Storage: Send + Sync {
    /// Current length in bytes.
    fn len(&self) -> Result<u64>;
    /// Whether the storage holds no bytes.
    fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Extends the storage to `len` bytes with space really reserved, so that running out of
    /// disk is reported here and not as a fault on a later store through a map.
    fn grow(&self, len: u64) -> Result<()>;
    /// Shrinks the storage to `len` bytes.
    fn truncate(&self, len: u64) -> Result<()>;
    /// Maps `len` bytes starting at `offset`. The range may extend past the current length;
    /// only bytes below the length may be touched.
    fn map(&self, offset: u64, len: usize) -> Result<Box<dyn Region>>;
    /// Reads bytes without a map (used before the page size is known).
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize>;
    /// Makes every write done so far through any region durable.
    fn sync(&self) -> Result<()>;
    /// Whether regions may be written. A read-only backend maps without write permission,
    /// so the pager must never hand out a mutable page over it.
    fn writable(&self) -> bool {
        true
    }
}
