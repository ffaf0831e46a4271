//! The page stores the B+tree runs on: read-only over the pager, and the writer's.

use nevar_btree::{BtreeError, PageStore, PageStoreMut, Result};
use nevar_freelist::{FreeList, FreeStore};
use nevar_page::{PageNo, TxnId, header};
use nevar_pager::{Dirty, Pager, PagerError};

use crate::error::pager_corruption;
use crate::savepoint::UndoLog;

/// Byte written over pages as they are allocated in debug builds, so that a page reused while
/// a reader could still see it shows up as garbage in that reader.
#[cfg(debug_assertions)]
const POISON: u8 = 0xDB;

fn store_err(e: PagerError) -> BtreeError {
    match pager_corruption(&e) {
        Some((page, what)) => BtreeError::Corrupted { page, what },
        None => BtreeError::Store(Box::new(e)),
    }
}

/// The pager seen as a read-only page store. Owned by the database, so a `&'r ReadStore`
/// lends pages for `'r`: values read in a transaction live as long as the transaction.
pub(crate) struct ReadStore(pub Pager);

impl PageStore for ReadStore {
    fn page_size(&self) -> usize {
        self.0.page_size()
    }

    #[inline]
    fn page(&self, no: PageNo) -> Result<&[u8]> {
        self.0.page(no).map_err(store_err)
    }

    fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
        self.0.run(no, count).map_err(store_err)
    }

    #[inline]
    fn prefetch(&self, bytes: &[u8]) {
        nevar_pager::prefetch(bytes);
    }
}

/// The writer's store: allocations from the free list, writes only to its dirty pages.
pub(crate) struct WriteStore<'a> {
    pub pager: &'a Pager,
    pub dirty: &'a mut Dirty,
    pub freelist: &'a mut FreeList,
    pub txn: TxnId,
    /// Records allocations and frozen frees while a savepoint lives.
    pub undo: &'a mut UndoLog,
}

impl PageStore for WriteStore<'_> {
    fn page_size(&self) -> usize {
        self.pager.page_size()
    }

    #[inline]
    fn page(&self, no: PageNo) -> Result<&[u8]> {
        self.pager.page(no).map_err(store_err)
    }

    fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
        self.pager.run(no, count).map_err(store_err)
    }

    #[inline]
    fn prefetch(&self, bytes: &[u8]) {
        nevar_pager::prefetch(bytes);
    }
}

impl PageStoreMut for WriteStore<'_> {
    fn txn_id(&self) -> TxnId {
        self.txn
    }

    /// Dirty and not frozen by a savepoint: only such pages change in place.
    #[inline]
    fn is_dirty(&self, no: PageNo) -> bool {
        self.dirty.changeable(no)
    }

    fn alloc(&mut self, count: u64) -> Result<PageNo> {
        let pager = self.pager;
        let grown_from = self.freelist.high_water();
        let no = self.freelist.alloc(count, |p| pager.segment_end(p));
        self.pager
            .grow_to(self.freelist.high_water())
            .map_err(store_err)?;
        if no >= grown_from {
            self.dirty.insert_grown(no, count as u32);
        } else {
            self.dirty.insert(no, count as u32);
        }
        if self.undo.active {
            self.undo.allocated.push((no, count as u32));
        }
        #[cfg(debug_assertions)]
        self.pager
            .run_mut(self.dirty, no, count)
            .map_err(store_err)?
            .fill(POISON);
        Ok(no)
    }

    #[inline]
    fn page_mut(&mut self, no: PageNo) -> Result<&mut [u8]> {
        self.pager.page_mut(self.dirty, no).map_err(store_err)
    }

    fn run_mut(&mut self, no: PageNo, count: u64) -> Result<&mut [u8]> {
        self.pager.run_mut(self.dirty, no, count).map_err(store_err)
    }

    fn copy_page(&mut self, from: PageNo, to: PageNo) -> Result<()> {
        // Only a damaged free list hands out a page still in use; copying a page onto itself
        // would also alias the source and destination slices.
        if from == to {
            return Err(BtreeError::Corrupted {
                page: to,
                what: "the free list handed out a page still in use",
            });
        }
        let src = self.pager.page(from).map_err(store_err)?;
        let dst = self.pager.page_mut(self.dirty, to).map_err(store_err)?;
        dst.copy_from_slice(src);
        Ok(())
    }

    fn free(&mut self, no: PageNo, count: u64) -> Result<()> {
        let run = self.dirty.remove_run(no);
        if let Some(run) = run
            && !self.dirty.is_changeable(&run)
        {
            // Frozen: the trees a savepoint saved may still hold it.
            self.undo.frozen_freed.push((no, run));
            return Ok(());
        }
        let dirty = run.is_some();
        // The transaction that wrote the page decides whether the durable commit can reach it.
        // The tree checked this header against its parent's record before freeing the page;
        // an unreadable one counts as written long ago, which only delays reuse.
        let written = (!dirty)
            .then(|| self.pager.page(no).ok())
            .flatten()
            .and_then(|page| header(page, no).ok())
            .map_or(0, |h| h.txn_id.get());
        self.freelist.free(no, count, dirty, written);
        Ok(())
    }
}

impl FreeStore for WriteStore<'_> {
    fn freelist(&mut self) -> &mut FreeList {
        self.freelist
    }
}
