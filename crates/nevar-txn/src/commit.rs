//! The commit protocol.
//!
//! 1. Tree descriptors go into the catalog; the free list is flushed into the free tree.
//! 2. Every dirty page (and run) gets its checksum.
//! 3. The writer lock is released; the sync group (`group.rs`) writes the meta into the slot
//!    that does *not* hold the last durable commit.
//! 4. `Durability::Immediate`: one sync makes data and meta durable together, for every
//!    commit that queued behind the previous sync. There is no barrier between pages and
//!    meta: if power fails mid-sync, recovery finds the new meta's pages incomplete
//!    (checksums, child txn ids) and falls back to the previous meta, whose pages no commit
//!    since has overwritten.
//! 5. The new snapshot is published to readers.
//!
//! See `docs/commit.md` for the argument in full.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use nevar_freelist::flush;
use nevar_page::seal;

use crate::error::{Error, Result};
use crate::group::Ticket;
use crate::options::Durability;
use crate::snapshot::Snapshot;
use crate::write::WriteTxn;

impl WriteTxn<'_> {
    /// Commits: makes the changes visible to new readers and, with
    /// [`Durability::Immediate`], durable before returning. Commits from several threads that
    /// queue behind a sync in flight share the next sync (see `group.rs`).
    pub fn commit(self) -> Result<()> {
        self.finish(false).map(drop)
    }

    /// Commits with the clean-shutdown flag (used when the database closes), if it may carry
    /// it; returns whether it did. Recovery trusts a clean meta without verifying its pages,
    /// so the flag goes only on a commit that writes no page and starts from a durable commit:
    /// then every page it reaches is already on stable storage, and a torn write can only hit
    /// the meta itself, whose checksum catches it. Otherwise this is a plain durable commit
    /// and the caller commits once more.
    pub(crate) fn commit_clean(self) -> Result<bool> {
        self.finish(true)
    }

    /// Seals the transaction under the writer lock, releases the lock (dropping the sealed
    /// transaction) so the next one can begin, then waits for the sync or publication that
    /// covers it. Returns whether the meta carries the clean-shutdown flag.
    fn finish(mut self, clean: bool) -> Result<bool> {
        let (ticket, clean) = self.commit_inner(clean)?;
        let shared = self.shared;
        drop(self);
        shared.group.wait(shared, ticket)?;
        Ok(clean)
    }

    fn commit_inner(&mut self, clean: bool) -> Result<(Ticket, bool)> {
        if self.failed {
            return Err(Error::TxnFailed);
        }
        let span = tracing::debug_span!("commit", txn = self.txn, pages = tracing::field::Empty);
        let _entered = span.enter();
        self.release_savepoints();
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
        let clean = clean
            && self.writer.dirty.is_empty()
            && self.shared.durable_txn() + 1 == self.txn
            && self.durability == Durability::Immediate;
        let result = self.seal_and_hand_over(clean, &span);
        if result.is_err() {
            // Pages or the meta may be half-written: refuse further writes until reopened.
            self.shared.broken.store(true, Ordering::SeqCst);
        }
        Ok((result?, clean))
    }

    fn seal_and_hand_over(&mut self, clean: bool, span: &tracing::Span) -> Result<Ticket> {
        let pager = &self.shared.store.0;
        let writer = &mut *self.writer;
        let runs: Vec<_> = writer.dirty.runs().collect();
        for &(no, count) in &runs {
            let bytes = pager.run_mut(&mut writer.dirty, no, u64::from(count))?;
            check_sealable(bytes, no, count, self.txn)?;
            seal(bytes, no)?;
        }
        let pages = runs.iter().map(|r| u64::from(r.1)).sum::<u64>();
        span.record("pages", pages);
        let written = &self.shared.written;
        written.pages.fetch_add(pages, Ordering::Relaxed);
        written
            .runs
            .fetch_add(adjacent_runs(runs), Ordering::Relaxed);
        let snapshot = Snapshot {
            txn: self.txn,
            // The group fills in the last durable commit when it writes the meta.
            durable_before: self.shared.durable_txn(),
            high_water: self.freelist.high_water(),
            catalog: self.roots.catalog,
            free: self.roots.free,
        };
        let ticket = self
            .shared
            .group
            .enqueue(self.shared, snapshot, self.durability, clean)?;
        writer.head = Arc::new(snapshot);
        writer.dirty.clear();
        writer.cached_freelist = Some(std::mem::take(&mut self.freelist));
        self.done = true;
        Ok(ticket)
    }
}

/// How many runs of adjacent pages `runs` (first page, pages) make up.
fn adjacent_runs(mut runs: Vec<(nevar_page::PageNo, u32)>) -> u64 {
    runs.sort_unstable();
    let mut count = 0;
    let mut end = None;
    for (start, len) in runs {
        if end != Some(start) {
            count += 1;
        }
        end = Some(start + u64::from(len));
    }
    count
}

/// Checks a dirty run about to be sealed: a tree page of this transaction, at its own
/// number, one page long unless it is an overflow run of exactly `count` pages. A page that
/// fails was handed out twice (a damaged free tree naming a page already in use, which a
/// later write of this transaction then overwrote) or, through a bug, never initialized or
/// written through a stale number. Either way the commit fails before its meta is written,
/// so the last commit stays what readers and recovery see (runs sealed before it belong to
/// no meta). The cost is one header read per dirty run, beside the checksum over the run.
fn check_sealable(
    bytes: &[u8],
    no: nevar_page::PageNo,
    count: u32,
    txn: nevar_page::TxnId,
) -> Result<()> {
    use nevar_page::PageKind;
    let h = nevar_page::header(bytes, no)?;
    let kind = PageKind::from_byte(h.kind);
    let expected_run = if kind == Some(PageKind::Overflow) {
        count
    } else {
        1
    };
    let whole = matches!(
        kind,
        Some(PageKind::Branch | PageKind::Leaf | PageKind::Overflow)
    ) && h.page_no.get() == no
        && h.txn_id.get() == txn
        && h.run_pages.get() == expected_run;
    if whole {
        Ok(())
    } else {
        Err(crate::error::corrupted(
            no,
            "a page this commit wrote is not a tree page of it (handed out twice?)",
        ))
    }
}

#[cfg(test)]
mod tests {
    use nevar_page::{PageKind, header_mut};

    use super::check_sealable;
    use crate::error::Error;

    /// A leaf that txn 7 wrote at page 5, then one thing wrong with it at a time.
    #[test]
    fn only_a_whole_tree_page_of_this_commit_is_sealed() {
        let leaf = || {
            let mut page = vec![0u8; 4096];
            header_mut(&mut page, 5).unwrap().init(PageKind::Leaf, 5, 7);
            page
        };
        assert!(check_sealable(&leaf(), 5, 1, 7).is_ok());
        let refused = |edit: &dyn Fn(&mut nevar_page::PageHeader), count: u32| {
            let mut page = leaf();
            edit(header_mut(&mut page, 5).unwrap());
            matches!(
                check_sealable(&page, 5, count, 7),
                Err(Error::Corrupted { page: 5, .. })
            )
        };
        assert!(refused(&|h| h.kind = 0x7, 1), "not a tree page");
        assert!(
            refused(&|h| h.page_no = 6.into(), 1),
            "another page's number"
        );
        assert!(
            refused(&|h| h.txn_id = 6.into(), 1),
            "another transaction's"
        );
        assert!(
            refused(&|h| h.run_pages = 2.into(), 1),
            "a leaf of two pages"
        );
        assert!(
            refused(&|h| h.kind = PageKind::Overflow as u8, 3),
            "an overflow run shorter than its dirty run"
        );
    }
}
