//! Read transactions and read-side tree handles.

use std::ops::{Bound, RangeBounds};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nevar_btree::{Range, TreeDesc, first, get, last};
use nevar_page::TxnId;

use crate::catalog::{self, check_name};
use crate::db::Shared;
use crate::error::{Error, Result, corrupted};
use crate::readers::SlotId;
use crate::snapshot::Snapshot;
use crate::store::ReadStore;
use crate::typed::TreeSpec;
use crate::write::mismatch;

/// A consistent snapshot of the database. Holding it pins the pages it can see; it never
/// blocks the writer (the file grows instead). `Send`: move it to another thread freely.
pub struct ReadTxn {
    shared: Arc<Shared>,
    snapshot: Arc<Snapshot>,
    slot: Option<SlotId>,
}

impl ReadTxn {
    pub(crate) fn new(shared: Arc<Shared>) -> ReadTxn {
        let (slot, snapshot) = shared.readers.register(
            || {
                let snap = shared.current.load_full();
                (snap.txn, snap)
            },
            || shared.current_txn.load(Ordering::SeqCst),
        );
        ReadTxn {
            shared,
            snapshot,
            slot: Some(slot),
        }
    }

    pub(crate) fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    pub(crate) fn store(&self) -> &ReadStore {
        &self.shared.store
    }

    pub(crate) fn page_size(&self) -> usize {
        self.shared.store.0.page_size()
    }

    /// The id of the commit this snapshot shows.
    pub fn txn_id(&self) -> TxnId {
        self.snapshot.txn
    }

    /// The tree named by `tree`, or [`Error::TreeNotFound`]: a name (`&str`, `&String`,
    /// `String`) opens it raw, a [`TreeDef`](crate::TreeDef) typed. A typed open of a tree
    /// that records other types is [`Error::TreeTypeMismatch`].
    pub fn open_tree<S: TreeSpec>(&self, tree: S) -> Result<S::ReadHandle<'_>> {
        let name = tree.name();
        check_name(name)?;
        let Some(entry) = catalog::lookup(&self.shared.store, &self.snapshot.catalog, name)? else {
            return Err(Error::TreeNotFound(name.to_owned()));
        };
        if let (Some(stored), Some(requested)) = (&entry.types, tree.types())
            && *stored != requested
        {
            return Err(mismatch(name, stored, requested));
        }
        let raw = Tree {
            store: &self.shared.store,
            desc: entry.desc,
        };
        Ok(tree.read_handle(raw))
    }

    /// Names of all trees, sorted.
    pub fn tree_names(&self) -> Result<Vec<String>> {
        tree_names(&self.shared.store, &self.snapshot.catalog)
    }
}

impl Drop for ReadTxn {
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.shared.readers.release(slot);
        }
    }
}

pub(crate) fn tree_names(store: &ReadStore, catalog: &TreeDesc) -> Result<Vec<String>> {
    Range::new(store, catalog, Bound::Unbounded, Bound::Unbounded)?
        .map(|item| {
            let (name, _) = item?;
            String::from_utf8(name.to_vec())
                .map_err(|_| corrupted(catalog.root, "tree name is not UTF-8"))
        })
        .collect()
}

/// A tree in a read transaction. Values borrow from the transaction (zero-copy).
pub struct Tree<'r> {
    store: &'r ReadStore,
    desc: TreeDesc,
}

/// Turns any `RangeBounds<&[u8]>` into a pair of bounds.
pub(crate) fn bounds<'k, R: RangeBounds<&'k [u8]>>(
    range: &R,
) -> (Bound<&'k [u8]>, Bound<&'k [u8]>) {
    (range.start_bound().cloned(), range.end_bound().cloned())
}

impl<'r> Tree<'r> {
    /// The value of `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<&'r [u8]>> {
        Ok(get(self.store, &self.desc, key)?)
    }

    /// Entries with keys in `range`, in order; reversible.
    pub fn range<'k, R: RangeBounds<&'k [u8]>>(&self, range: R) -> Result<TreeIter<'r>> {
        let (lo, hi) = bounds(&range);
        Ok(TreeIter {
            inner: Range::new(self.store, &self.desc, lo, hi)?,
        })
    }

    /// All entries, in order; reversible.
    pub fn iter(&self) -> Result<TreeIter<'r>> {
        self.range::<(Bound<&[u8]>, Bound<&[u8]>)>((Bound::Unbounded, Bound::Unbounded))
    }

    /// Number of entries, in O(1).
    pub fn len(&self) -> Result<u64> {
        Ok(self.desc.entries)
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.desc.entries == 0)
    }

    /// The smallest entry.
    pub fn first(&self) -> Result<Option<(&'r [u8], &'r [u8])>> {
        Ok(first(self.store, &self.desc)?)
    }

    /// The largest entry.
    pub fn last(&self) -> Result<Option<(&'r [u8], &'r [u8])>> {
        Ok(last(self.store, &self.desc)?)
    }
}

/// Iterator over a key range of a tree, from either end.
pub struct TreeIter<'r> {
    pub(crate) inner: Range<'r, ReadStore>,
}

impl<'r> Iterator for TreeIter<'r> {
    type Item = Result<(&'r [u8], &'r [u8])>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|r| r.map_err(Error::from))
    }
}

impl DoubleEndedIterator for TreeIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|r| r.map_err(Error::from))
    }
}
