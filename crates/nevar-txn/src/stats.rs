//! Database statistics.

use std::ops::Bound;

use nevar_btree::{Range, TreeDesc};
use nevar_page::TxnId;

use crate::catalog;
use crate::db::Database;
use crate::error::{Result, corrupted};

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
        let horizon = shared.horizon(&shared.lock_writer(), snap.txn);
        let free = nevar_freelist::load(&shared.store, &snap.free)?.stats(horizon);
        let mut trees = Vec::new();
        for item in Range::new(
            &shared.store,
            &snap.catalog,
            Bound::Unbounded,
            Bound::Unbounded,
        )? {
            let (name, value) = item?;
            let d: TreeDesc = catalog::decode(value)
                .ok_or(corrupted(snap.catalog.root, "malformed catalog entry"))?;
            trees.push(TreeStats {
                name: String::from_utf8_lossy(name).into_owned(),
                depth: d.depth,
                entries: d.entries,
                branch_pages: d.branch_pages,
                leaf_pages: d.leaf_pages,
                overflow_pages: d.overflow_pages,
            });
        }
        let pager = shared.store.0.stats();
        Ok(Stats {
            page_size: shared.store.0.page_size(),
            file_size: pager.file_pages * shared.store.0.page_size() as u64,
            txn_id: snap.txn,
            high_water: snap.high_water,
            meta_tree_pages: snap.catalog.total_pages() + snap.free.total_pages(),
            branch_pages: trees.iter().map(|t| t.branch_pages).sum(),
            leaf_pages: trees.iter().map(|t| t.leaf_pages).sum(),
            overflow_pages: trees.iter().map(|t| t.overflow_pages).sum(),
            free_pages: free.free,
            pending_free_pages: free.pending,
            syncs: pager.syncs,
            readers: shared.readers.count(),
            oldest_reader_age: oldest.map(|t| snap.txn.saturating_sub(t)),
            trees,
        })
    }

    /// Sync points since open (each durable commit adds exactly one).
    pub fn sync_count(&self) -> u64 {
        self.shared.store.0.stats().syncs
    }
}
