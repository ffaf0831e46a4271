//! The descriptor that names a tree.

use nevar_page::{ChildRef, PageNo, TreeRoot, TxnId};

/// Where a tree's root is and what the tree holds. Stored by the caller (the meta page, the
/// catalog) as a [`TreeRoot`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TreeDesc {
    /// Root page; 0 when empty.
    pub root: PageNo,
    /// Transaction that wrote the root.
    pub root_txn: TxnId,
    /// Levels: 0 empty, 1 when the root is a leaf.
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

impl TreeDesc {
    /// The root as a parent would record it.
    pub fn root_ref(&self) -> ChildRef {
        ChildRef {
            page: self.root,
            txn: self.root_txn,
        }
    }

    /// Makes `root` the tree's root (depth and counts are the caller's to adjust).
    pub fn set_root(&mut self, root: ChildRef) {
        (self.root, self.root_txn) = (root.page, root.txn);
    }

    /// All pages the tree owns.
    pub fn total_pages(&self) -> u64 {
        // Saturating: a damaged descriptor's counts must not overflow.
        self.branch_pages
            .saturating_add(self.leaf_pages)
            .saturating_add(self.overflow_pages)
    }
}

impl From<&TreeRoot> for TreeDesc {
    fn from(r: &TreeRoot) -> Self {
        TreeDesc {
            root: r.root.get(),
            root_txn: r.root_txn.get(),
            depth: r.depth.get(),
            entries: r.entries.get(),
            branch_pages: r.branch_pages.get(),
            leaf_pages: r.leaf_pages.get(),
            overflow_pages: r.overflow_pages.get(),
        }
    }
}

impl From<&TreeDesc> for TreeRoot {
    fn from(d: &TreeDesc) -> Self {
        TreeRoot {
            root: d.root.into(),
            root_txn: d.root_txn.into(),
            entries: d.entries.into(),
            branch_pages: d.branch_pages.into(),
            leaf_pages: d.leaf_pages.into(),
            overflow_pages: d.overflow_pages.into(),
            depth: d.depth.into(),
            reserved: 0.into(),
        }
    }
}
