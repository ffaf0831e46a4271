//! Database statistics.

use std::ops::Bound;
use std::sync::atomic::Ordering;

use nevar_btree::{Range, verify};
use nevar_page::{HEADER_LEN, TxnId};

use crate::catalog::{self, TreeTypes};
use crate::db::Database;
use crate::error::{Error, Result, corrupted};

/// Figures about one tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeStats {
    /// The tree's name.
    pub name: String,
    /// Levels (0 when empty).
    pub depth: u32,
    /// Entries.
    pub entries: u64,
    /// Branch pages.
    pub branch_pages: u64,
    /// Leaf pages.
    pub leaf_pages: u64,
    /// Overflow pages.
    pub overflow_pages: u64,
    /// The key and value types of a typed tree; `None` for a raw one.
    pub types: Option<TreeTypes>,
}

/// Figures about the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    /// Page size in bytes.
    pub page_size: usize,
    /// File size in bytes.
    pub file_size: u64,
    /// Last committed transaction.
    pub txn_id: TxnId,
    /// Pages in use or free below the high-water mark.
    pub high_water: u64,
    /// Pages of the catalog and the free-page tree.
    pub meta_tree_pages: u64,
    /// Branch, leaf and overflow pages over all user trees.
    pub branch_pages: u64,
    /// Leaf pages over all user trees.
    pub leaf_pages: u64,
    /// Overflow pages over all user trees.
    pub overflow_pages: u64,
    /// Pages reusable now.
    pub free_pages: u64,
    /// Freed pages still visible to a reader or to the last durable commit.
    pub pending_free_pages: u64,
    /// Sync points since open.
    pub syncs: u64,
    /// Tree pages written by commits since open (meta pages not counted).
    pub pages_written: u64,
    /// Runs of adjacent pages among `pages_written`, counted per commit: a commit's sync sends
    /// about one write request per run, plus one for the meta (unless it adjoins a run).
    pub page_runs_written: u64,
    /// Live readers.
    pub readers: usize,
    /// How many transactions the oldest live reader is behind the last commit.
    pub oldest_reader_age: Option<u64>,
    /// Every user tree.
    pub trees: Vec<TreeStats>,
}

impl Database {
    /// Statistics of the last commit.
    pub fn stats(&self) -> Result<Stats> {
        let shared = &*self.shared;
        let snap = shared.current.load_full();
        let oldest = shared.readers.oldest();
        // Never the writer lock: stats must not wait for (or deadlock with) a write transaction.
        let horizons = shared.horizons(snap.txn);
        let free = nevar_freelist::load(&shared.store, &snap.free)?.stats(horizons);
        let mut trees = Vec::new();
        for item in Range::new(
            &shared.store,
            &snap.catalog,
            Bound::Unbounded,
            Bound::Unbounded,
        )? {
            let (name, value) = item?;
            let catalog::Entry { desc: d, types } = catalog::decode(value)
                .ok_or(corrupted(snap.catalog.root, "malformed catalog entry"))?;
            trees.push(TreeStats {
                name: String::from_utf8_lossy(name).into_owned(),
                depth: d.depth,
                entries: d.entries,
                branch_pages: d.branch_pages,
                leaf_pages: d.leaf_pages,
                overflow_pages: d.overflow_pages,
                types,
            });
        }
        let pager = shared.store.0.stats();
        Ok(Stats {
            page_size: shared.store.0.page_size(),
            file_size: pager.file_pages * shared.store.0.page_size() as u64,
            txn_id: snap.txn,
            high_water: snap.high_water,
            meta_tree_pages: snap
                .catalog
                .total_pages()
                .saturating_add(snap.free.total_pages()),
            // Saturating: damaged descriptors must not overflow the sums.
            branch_pages: saturating_sum(trees.iter().map(|t| t.branch_pages)),
            leaf_pages: saturating_sum(trees.iter().map(|t| t.leaf_pages)),
            overflow_pages: saturating_sum(trees.iter().map(|t| t.overflow_pages)),
            free_pages: free.free,
            pending_free_pages: free.pending,
            syncs: pager.syncs,
            pages_written: shared.written.pages.load(Ordering::Relaxed),
            page_runs_written: shared.written.runs.load(Ordering::Relaxed),
            readers: shared.readers.count(),
            oldest_reader_age: oldest.map(|t| snap.txn.saturating_sub(t)),
            trees,
        })
    }

    /// Average fill of the tree `name`'s leaf and branch pages: the share of their bytes
    /// (past the page header) that hold cells and slots, from 0.0 to 1.0; `None` when the tree
    /// has no pages. Walks and verifies the whole tree, so it costs a full read of it.
    pub fn tree_fill(&self, name: &str) -> Result<Option<f64>> {
        let read = self.begin_read()?;
        let desc = catalog::lookup(&self.shared.store, &read.snapshot().catalog, name)?
            .ok_or_else(|| Error::TreeNotFound(name.to_owned()))?
            .desc;
        let walked = verify(&self.shared.store, &desc)?;
        let pages = walked.counted.leaf_pages + walked.counted.branch_pages;
        if pages == 0 {
            return Ok(None);
        }
        let usable = (self.page_size() - HEADER_LEN) as u64 * pages;
        Ok(Some(
            (walked.leaf_bytes + walked.branch_bytes) as f64 / usable as f64,
        ))
    }

    /// Sync points since open (each durable commit adds exactly one).
    pub fn sync_count(&self) -> u64 {
        self.shared.store.0.stats().syncs
    }
}

fn saturating_sum(counts: impl Iterator<Item = u64>) -> u64 {
    counts.fold(0, u64::saturating_add)
}
