//! The write transaction and write-side tree handles.

use std::ops::{Bound, RangeBounds};
use std::sync::{Arc, MutexGuard};

use nevar_btree::{BtreeError, Range, Tail, TreeDesc, clear, first, get, insert, last, remove};
use nevar_freelist::FreeList;
use nevar_page::TxnId;

use crate::catalog::{self, TreeTypes, check_name};
use crate::db::{Shared, Writer};
use crate::error::{Error, Result, corrupted};
use crate::options::Durability;
use crate::read::{TreeIter, bounds, tree_names};
use crate::savepoint::{Savepoints, UndoLog};
use crate::snapshot::Snapshot;
use crate::store::WriteStore;
use crate::typed::TreeSpec;

/// The roots a write transaction changes.
pub(crate) struct Roots {
    pub catalog: TreeDesc,
    pub free: TreeDesc,
    /// Trees opened in this transaction.
    pub trees: Vec<OpenTree>,
}

/// A tree opened in a write transaction.
#[derive(Clone)]
pub(crate) struct OpenTree {
    pub name: String,
    pub desc: TreeDesc,
    /// The key and value types recorded for it; `None` for a raw tree.
    pub types: Option<TreeTypes>,
    /// The descriptor or the types changed since the catalog last recorded them.
    pub changed: bool,
    /// Where the next sorted insert goes; forgotten by every other change.
    pub tail: Tail,
}

/// The single write transaction. Changes become visible and durable at [`WriteTxn::commit`];
/// dropping it aborts, releasing every page it allocated.
pub struct WriteTxn<'db> {
    pub(crate) shared: &'db Shared,
    pub(crate) writer: MutexGuard<'db, Writer>,
    pub(crate) txn: TxnId,
    pub(crate) roots: Roots,
    /// The free-page index, owned from begin to commit (which hands it back to the writer
    /// for the next transaction) or abort (which drops it).
    pub(crate) freelist: FreeList,
    pub(crate) durability: Durability,
    /// An error left a tree half-changed: only abort is possible.
    pub(crate) failed: bool,
    pub(crate) savepoints: Savepoints,
    pub(crate) undo: UndoLog,
    pub(crate) done: bool,
}

impl<'db> WriteTxn<'db> {
    pub(crate) fn begin(shared: &'db Shared) -> Result<WriteTxn<'db>> {
        WriteTxn::begin_locked(shared, shared.lock_writer())
    }

    /// Begins with the writer lock already taken.
    pub(crate) fn begin_locked(
        shared: &'db Shared,
        mut writer: MutexGuard<'db, Writer>,
    ) -> Result<WriteTxn<'db>> {
        // The newest commit, published or still syncing in its group.
        let base: Arc<Snapshot> = Arc::clone(&writer.head);
        // Recovery refuses a meta whose id has no successor, so this cannot overflow.
        let txn = base
            .txn
            .checked_add(1)
            .ok_or(corrupted(0, "transaction ids exhausted"))?;
        let mut freelist = match writer.cached_freelist.take() {
            Some(list) => list,
            None => nevar_freelist::load(&shared.store, &base.free)?,
        };
        freelist.begin(txn, shared.horizons(base.txn), base.high_water);
        // A group still syncing may make commits up to `base` durable while this one runs.
        freelist.may_become_durable(shared.group.durable_ceiling(base.txn));
        writer.dirty.clear();
        Ok(WriteTxn {
            shared,
            writer,
            txn,
            roots: Roots {
                catalog: base.catalog,
                free: base.free,
                trees: Vec::new(),
            },
            freelist,
            durability: shared.options.durability,
            failed: false,
            savepoints: Savepoints::default(),
            undo: UndoLog::default(),
            done: false,
        })
    }

    /// This transaction's id (the id its commit will have).
    pub fn txn_id(&self) -> TxnId {
        self.txn
    }

    /// Overrides the durability of this transaction's commit.
    pub fn set_durability(&mut self, durability: Durability) {
        self.durability = durability;
    }

    /// Runs a B+tree change with the writer's page store. Size errors are refused before any
    /// change; any other error poisons the transaction.
    pub(crate) fn change<R>(
        &mut self,
        f: impl FnOnce(&mut WriteStore<'_>, &mut Roots) -> Result<R, BtreeError>,
    ) -> Result<R> {
        if self.failed {
            return Err(Error::TxnFailed);
        }
        let mut store = WriteStore {
            pager: &self.shared.store.0,
            dirty: &mut self.writer.dirty,
            freelist: &mut self.freelist,
            txn: self.txn,
            undo: &mut self.undo,
        };
        f(&mut store, &mut self.roots).map_err(|e| {
            if !matches!(
                e,
                BtreeError::KeyTooLarge { .. } | BtreeError::ValueTooLarge { .. }
            ) {
                self.failed = true;
            }
            Error::from(e)
        })
    }

    /// The tree named by `tree`, created if missing: a name (`&str`, `&String`, `String`)
    /// opens it raw, a [`TreeDef`](crate::TreeDef) typed. A typed open of a tree that
    /// records other types is [`Error::TreeTypeMismatch`]; one of a raw tree records the
    /// definition's types from now on.
    pub fn open_tree<S: TreeSpec>(&mut self, tree: S) -> Result<S::WriteHandle<'_, 'db>> {
        let idx = self.open_index(tree.name(), tree.types())?;
        Ok(tree.write_handle(WriteTree { txn: self, idx }))
    }

    /// The index in `roots.trees` of tree `name`, opened with `types` (or raw).
    fn open_index(&mut self, name: &str, types: Option<TreeTypes>) -> Result<usize> {
        check_name(name)?;
        if let Some(types) = &types {
            check_types(types)?;
        }
        if let Some(idx) = self.roots.trees.iter().position(|t| t.name == name) {
            let open = &mut self.roots.trees[idx];
            match (&open.types, types) {
                (Some(stored), Some(requested)) if *stored != requested => {
                    return Err(mismatch(name, stored, requested));
                }
                (None, Some(requested)) => {
                    open.types = Some(requested);
                    open.changed = true;
                }
                _ => {}
            }
            return Ok(idx);
        }
        let found = catalog::lookup(&self.shared.store, &self.roots.catalog, name)?;
        let (desc, stored) = match found {
            Some(entry) => (Some(entry.desc), entry.types),
            None => (None, None),
        };
        if let (Some(stored), Some(requested)) = (&stored, &types)
            && stored != requested
        {
            return Err(mismatch(name, stored, requested.clone()));
        }
        let adopted = stored.is_none() && types.is_some();
        self.roots.trees.push(OpenTree {
            name: name.to_owned(),
            desc: desc.unwrap_or_default(),
            changed: desc.is_none() || adopted,
            types: stored.or(types),
            tail: Tail::default(),
        });
        Ok(self.roots.trees.len() - 1)
    }

    /// Deletes tree `name` and frees all its pages. Returns whether it existed.
    pub fn delete_tree(&mut self, name: &str) -> Result<bool> {
        check_name(name)?;
        let cached = self
            .roots
            .trees
            .iter()
            .position(|t| t.name == name)
            .map(|i| self.roots.trees.remove(i).desc);
        let desc = match cached {
            Some(desc) => Some(desc),
            None => catalog::lookup(&self.shared.store, &self.roots.catalog, name)?.map(|e| e.desc),
        };
        let Some(mut desc) = desc else {
            return Ok(false);
        };
        self.change(|store, roots| {
            clear(store, &mut desc)?;
            remove(store, &mut roots.catalog, name.as_bytes())
        })?;
        Ok(true)
    }

    /// Names of all trees as this transaction sees them, sorted.
    pub fn tree_names(&mut self) -> Result<Vec<String>> {
        self.sync_catalog()?;
        tree_names(&self.shared.store, &self.roots.catalog)
    }

    /// Writes changed tree descriptors into the catalog.
    pub(crate) fn sync_catalog(&mut self) -> Result<()> {
        self.change(|store, roots| {
            for tree in roots.trees.iter_mut().filter(|t| t.changed) {
                insert(
                    store,
                    &mut roots.catalog,
                    tree.name.as_bytes(),
                    &catalog::encode(&tree.desc, tree.types.as_ref()),
                )?;
                tree.changed = false;
            }
            Ok(())
        })
    }
}

/// Refuses type names the catalog cannot record.
pub(crate) fn check_types(types: &TreeTypes) -> Result<()> {
    match [&types.key, &types.value]
        .into_iter()
        .find(|n| n.len() > catalog::MAX_TYPE_NAME)
    {
        Some(long) => Err(Error::TypeNameTooLong { len: long.len() }),
        None => Ok(()),
    }
}

pub(crate) fn mismatch(tree: &str, stored: &TreeTypes, requested: TreeTypes) -> Error {
    Error::TreeTypeMismatch {
        tree: tree.to_owned(),
        stored: stored.clone(),
        requested,
    }
}

impl Drop for WriteTxn<'_> {
    /// Aborts if not committed: this transaction's free list is dropped (the next begin
    /// reloads it from the last commit) and dirty pages are forgotten (they are free in the
    /// committed state).
    fn drop(&mut self) {
        if !self.done {
            self.writer.dirty.clear();
        }
    }
}

/// A tree inside the write transaction.
pub struct WriteTree<'t, 'db> {
    pub(crate) txn: &'t mut WriteTxn<'db>,
    pub(crate) idx: usize,
}

impl WriteTree<'_, '_> {
    fn desc(&self) -> &TreeDesc {
        &self.txn.roots.trees[self.idx].desc
    }

    pub(crate) fn change<R>(
        &mut self,
        f: impl FnOnce(&mut WriteStore<'_>, &mut OpenTree) -> Result<R, BtreeError>,
    ) -> Result<R> {
        let idx = self.idx;
        self.txn.change(|store, roots| {
            let tree = &mut roots.trees[idx];
            tree.changed = true;
            f(store, tree)
        })
    }

    /// Inserts or overwrites; returns whether the key existed. Keys inserted in ascending
    /// order after the tree's last key go straight to its last leaf (see [`Tail`]).
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool> {
        self.change(|store, tree| tree.tail.insert(store, &mut tree.desc, key, value))
    }

    /// Removes `key`; returns whether it existed.
    pub fn remove(&mut self, key: &[u8]) -> Result<bool> {
        self.change(|store, tree| {
            tree.tail.forget();
            remove(store, &mut tree.desc, key)
        })
    }

    /// The value of `key`, as this transaction sees it.
    pub fn get(&self, key: &[u8]) -> Result<Option<&[u8]>> {
        Ok(get(&self.txn.shared.store, self.desc(), key)?)
    }

    /// Entries with keys in `range`.
    pub fn range<'k, R: RangeBounds<&'k [u8]>>(&self, range: R) -> Result<TreeIter<'_>> {
        let (lo, hi) = bounds(&range);
        Ok(TreeIter {
            inner: Range::new(&self.txn.shared.store, self.desc(), lo, hi)?,
        })
    }

    /// All entries.
    pub fn iter(&self) -> Result<TreeIter<'_>> {
        self.range::<(Bound<&[u8]>, Bound<&[u8]>)>((Bound::Unbounded, Bound::Unbounded))
    }

    /// Number of entries, in O(1).
    pub fn len(&self) -> Result<u64> {
        Ok(self.desc().entries)
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.desc().entries == 0)
    }

    /// The smallest entry.
    pub fn first(&self) -> Result<Option<(&[u8], &[u8])>> {
        Ok(first(&self.txn.shared.store, self.desc())?)
    }

    /// The largest entry.
    pub fn last(&self) -> Result<Option<(&[u8], &[u8])>> {
        Ok(last(&self.txn.shared.store, self.desc())?)
    }
}
