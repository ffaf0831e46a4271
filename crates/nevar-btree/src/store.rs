//! The page-store traits the tree is generic over.

use nevar_page::{PageNo, TxnId};

use crate::error::Result;

/// Read access to pages.
pub trait PageStore {
    /// Page size in bytes.
    fn page_size(&self) -> usize;
    /// The bytes of page `no`.
    fn page(&self, no: PageNo) -> Result<&[u8]>;
    /// The bytes of the `count` contiguous pages at `no`.
    fn run(&self, no: PageNo, count: u64) -> Result<&[u8]>;
    /// A hint that `bytes`, part of a page this store lent, will be read soon: a store over
    /// memory that may not be in the CPU's caches starts loading it. Changes nothing.
    #[inline]
    fn prefetch(&self, _bytes: &[u8]) {}
}

/// Write access for the current write transaction.
pub trait PageStoreMut: PageStore {
    /// The id pages written now carry.
    fn txn_id(&self) -> TxnId;
    /// Whether `no` was allocated by the current transaction (and may be edited in place).
    fn is_dirty(&self, no: PageNo) -> bool;
    /// Allocates `count` contiguous pages (one slice: never across a segment boundary).
    fn alloc(&mut self, count: u64) -> Result<PageNo>;
    /// A dirty page for writing.
    fn page_mut(&mut self, no: PageNo) -> Result<&mut [u8]>;
    /// A dirty run for writing.
    fn run_mut(&mut self, no: PageNo, count: u64) -> Result<&mut [u8]>;
    /// Copies page `from` into the dirty page `to`.
    fn copy_page(&mut self, from: PageNo, to: PageNo) -> Result<()>;
    /// Gives back `count` pages at `no`, which the tree no longer references.
    fn free(&mut self, no: PageNo, count: u64) -> Result<()>;
}
