//! An in-memory page store for tests and benchmarks.

use std::collections::{BTreeSet, HashMap};

use nevar_page::{PageNo, TxnId};

use crate::error::{BtreeError, Result};
use crate::store::{PageStore, PageStoreMut};

/// Byte written over freed pages, so a read after free shows up as corruption.
pub const POISON: u8 = 0xDB;

#[derive(Debug, thiserror::Error)]
enum MemError {
    #[error("page {0} is out of range")]
    OutOfRange(PageNo),
    #[error("page {0} is not writable in this transaction")]
    NotWritable(PageNo),
}

/// Pages in one growable buffer. Page 0 is reserved (a tree root of 0 means empty).
///
/// Models a transaction: pages allocated since the last [`MemStore::commit`] are dirty;
/// committed pages freed in the current transaction become reusable at the next commit, dirty
/// ones at once. Clone the store to keep a snapshot; restore the clone to abort.
#[derive(Clone)]
pub struct MemStore {
    page_size: usize,
    data: Vec<u8>,
    txn: TxnId,
    dirty: HashMap<PageNo, u64>,
    free: BTreeSet<PageNo>,
    pending: Vec<(PageNo, u64)>,
    in_use: u64,
}

impl MemStore {
    /// An empty store with pages of `page_size` bytes, in transaction 1.
    pub fn new(page_size: usize) -> MemStore {
        MemStore {
            page_size,
            data: vec![0; page_size],
            txn: 1,
            dirty: HashMap::new(),
            free: BTreeSet::new(),
            pending: Vec::new(),
            in_use: 0,
        }
    }

    /// Ends the current transaction: dirty pages become committed, pages freed in it reusable.
    pub fn commit(&mut self) {
        self.txn += 1;
        self.dirty.clear();
        for (no, count) in self.pending.drain(..) {
            self.free.extend(no..no + count);
        }
    }

    /// Pages allocated and not freed.
    pub fn pages_in_use(&self) -> u64 {
        self.in_use
    }

    /// Raw bytes of the whole store (to damage them in tests).
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    fn range(&self, no: PageNo, count: u64) -> Result<std::ops::Range<usize>> {
        let start = no
            .checked_mul(self.page_size as u64)
            .ok_or(store_err(MemError::OutOfRange(no)))?;
        let len = count
            .checked_mul(self.page_size as u64)
            .ok_or(store_err(MemError::OutOfRange(no)))?;
        match start.checked_add(len) {
            Some(end) if no > 0 && end <= self.data.len() as u64 => {
                Ok(start as usize..end as usize)
            }
            _ => Err(store_err(MemError::OutOfRange(no))),
        }
    }
}

fn store_err(e: MemError) -> BtreeError {
    BtreeError::Store(Box::new(e))
}

impl PageStore for MemStore {
    fn page_size(&self) -> usize {
        self.page_size
    }

    fn page(&self, no: PageNo) -> Result<&[u8]> {
        Ok(&self.data[self.range(no, 1)?])
    }

    fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
        Ok(&self.data[self.range(no, count)?])
    }
}

impl PageStoreMut for MemStore {
    fn txn_id(&self) -> TxnId {
        self.txn
    }

    fn is_dirty(&self, no: PageNo) -> bool {
        self.dirty.contains_key(&no)
    }

    fn alloc(&mut self, count: u64) -> Result<PageNo> {
        let no = match self.free.first().copied() {
            Some(no) if count == 1 => {
                self.free.remove(&no);
                no
            }
            _ => {
                let no = (self.data.len() / self.page_size) as PageNo;
                self.data
                    .resize(self.data.len() + count as usize * self.page_size, 0);
                no
            }
        };
        self.dirty.insert(no, count);
        self.in_use += count;
        Ok(no)
    }

    fn page_mut(&mut self, no: PageNo) -> Result<&mut [u8]> {
        self.run_mut(no, 1)
    }

    fn run_mut(&mut self, no: PageNo, count: u64) -> Result<&mut [u8]> {
        if self.dirty.get(&no).is_none_or(|&n| n < count) {
            return Err(store_err(MemError::NotWritable(no)));
        }
        let range = self.range(no, count)?;
        Ok(&mut self.data[range])
    }

    fn copy_page(&mut self, from: PageNo, to: PageNo) -> Result<()> {
        let src = self.range(from, 1)?;
        self.run_mut(to, 1)?;
        let dst = self.range(to, 1)?.start;
        self.data.copy_within(src, dst);
        Ok(())
    }

    fn free(&mut self, no: PageNo, count: u64) -> Result<()> {
        let range = self.range(no, count)?;
        self.data[range].fill(POISON);
        self.in_use -= count;
        if self.dirty.remove(&no).is_some() {
            self.free.extend(no..no + count);
        } else {
            self.pending.push((no, count));
        }
        Ok(())
    }
}
