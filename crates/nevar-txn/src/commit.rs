//! The commit protocol.
//!
//! 1. Tree descriptors go into the catalog; the free list is flushed into the free tree.
//! 2. Every dirty page (and run) gets its checksum.
//! 3. The meta goes into the slot that does *not* hold the last durable commit.
//! 4. `Durability::Immediate`: one sync makes data and meta durable together. There is no
//!    barrier between them: if power fails mid-sync, recovery finds the new meta's pages
//!    incomplete (checksums, child txn ids) and falls back to the previous meta, whose pages
//!    no commit since has overwritten.
//! 5. The new snapshot is published to readers.
//!
//! See `docs/commit.md` for the argument in full.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use nevar_freelist::flush;
use nevar_page::seal;

use crate::error::{Error, Result};
use crate::options::Durability;
use crate::recovery::write_meta;
use crate::snapshot::Snapshot;
use crate::write::WriteTxn;

impl WriteTxn<'_> {
    /// Commits: makes the changes visible to new readers and, with
    /// [`Durability::Immediate`], durable before returning.
    pub fn commit(mut self) -> Result<()> {
        self.commit_inner(false)
    }

    /// Commits with the clean-shutdown flag (used when the database closes).
    pub(crate) fn commit_clean(mut self) -> Result<()> {
        self.commit_inner(true)
    }

    fn commit_inner(&mut self, clean: bool) -> Result<()> {
        if self.failed {
            return Err(Error::TxnFailed);
        }
        let span = tracing::debug_span!(
            "commit",
            txn = self.txn,
            pages = tracing::field::Empty,
            sync_us = tracing::field::Empty
        );
        let _entered = span.enter();
        self.sync_catalog()?;
        if self.durability == Durability::Immediate {
            // Only a durable commit may lower the high-water mark: the file is cut after its sync.
            self.freelist.trim_tail();
        }
        self.change(|store, roots| flush(store, &mut roots.free))?;
        // Debug builds prove the free list before anything is sealed. Not an assertion: a
        // damaged file's free tree can break it, and that is an error, never a panic.
        #[cfg(debug_assertions)]
        if let Err(problem) = self.freelist.verify() {
            tracing::error!(%problem, "free list inconsistent at commit");
            return Err(crate::error::corrupted(
                problem.page,
                "free list inconsistent at commit",
            ));
        }
        let result = self.write_out(clean, &span);
        if result.is_err() {
            // Pages or the meta may be half-written: refuse further writes until reopened.
            self.shared.broken.store(true, Ordering::SeqCst);
        }
        result
    }

    fn write_out(&mut self, clean: bool, span: &tracing::Span) -> Result<()> {
        let pager = &self.shared.store.0;
        let writer = &mut *self.writer;
        let runs: Vec<_> = writer.dirty.runs().collect();
        for &(no, count) in &runs {
            let bytes = pager.run_mut(&mut writer.dirty, no, u64::from(count))?;
            #[cfg(debug_assertions)]
            check_sealable(bytes, no, count, self.txn);
            seal(bytes, no)?;
        }
        let snapshot = Snapshot {
            txn: self.txn,
            durable_before: self.shared.durable_txn(),
            high_water: self.freelist.high_water(),
            catalog: self.roots.catalog,
            free: self.roots.free,
        };
        let slot = 1 - writer.durable_slot;
        write_meta(pager, &mut writer.dirty, slot, snapshot, clean)?;
        span.record("pages", runs.iter().map(|r| u64::from(r.1)).sum::<u64>());
        if self.durability == Durability::Immediate {
            let started = Instant::now();
            pager.sync()?;
            span.record("sync_us", started.elapsed().as_micros() as u64);
            self.shared.durable_txn.store(self.txn, Ordering::SeqCst);
            writer.durable_slot = slot;
            // The commit is durable now: a failed cut only leaves the file longer.
            if let Err(e) = shrink_if_mostly_free(pager, snapshot.high_water) {
                tracing::warn!(error = %e, "could not shrink the file; it keeps its length");
            }
        }
        self.shared.current.store(Arc::new(snapshot));
        self.shared.current_txn.store(self.txn, Ordering::SeqCst);
        writer.dirty.clear();
        writer.cached_freelist = Some(std::mem::take(&mut self.freelist));
        self.done = true;
        Ok(())
    }
}

/// Debug check of a dirty run about to be sealed: a tree page of this transaction, at its own
/// number, one page long unless it is an overflow run of exactly `count` pages. A page that
/// fails was never initialized (still poison) or was written through a stale number.
#[cfg(debug_assertions)]
fn check_sealable(bytes: &[u8], no: nevar_page::PageNo, count: u32, txn: nevar_page::TxnId) {
    use nevar_page::PageKind;
    let h = nevar_page::header(bytes, no).expect("a dirty run holds a header");
    let kind = PageKind::from_byte(h.kind);
    assert!(
        matches!(
            kind,
            Some(PageKind::Branch | PageKind::Leaf | PageKind::Overflow)
        ),
        "dirty page {no}: kind byte {:#x} is no tree page",
        h.kind
    );
    assert_eq!(h.page_no.get(), no, "dirty page {no} names another page");
    assert_eq!(
        h.txn_id.get(),
        txn,
        "dirty page {no} names another transaction"
    );
    let expected = if kind == Some(PageKind::Overflow) {
        count
    } else {
        1
    };
    assert_eq!(
        h.run_pages.get(),
        expected,
        "dirty page {no}: wrong run length"
    );
}

/// Cuts the file when more than half of it lies beyond the (durable) high-water mark, leaving
/// an eighth of headroom so growth does not follow at once. LMDB never shrinks its file.
fn shrink_if_mostly_free(pager: &nevar_pager::Pager, high_water: u64) -> Result<()> {
    let file_pages = pager.file_pages();
    if file_pages > 2 * high_water && file_pages - high_water > 256 {
        let keep = high_water + high_water / 8;
        tracing::debug!(from_pages = file_pages, to_pages = keep, "shrinking file");
        pager.shrink_to(keep)?;
    }
    Ok(())
}
