//! Savepoints: undoing part of a write transaction.
//!
//! A savepoint copies the root set (the catalog's, the free tree's and every open tree's
//! descriptor) and freezes the pages dirtied so far (a new dirty [`Generation`]): from then on
//! the tree copies them before changing them, as it copies committed pages, so the trees the
//! saved roots describe stay intact. Taking one costs O(open trees), however much the
//! transaction changed.
//!
//! While a savepoint lives, the writer's store keeps an [`UndoLog`]: every run allocated, and
//! every frozen run freed (a frozen run is held back from reuse, since the saved trees may
//! still need it). Rolling back to a savepoint
//! - puts the frozen runs freed since back into the dirty set,
//! - gives every run allocated since, still dirty, back to the free list as reusable now,
//! - forgets the committed pages freed since (live again in the saved trees),
//! - restores the root set and thaws the savepoint's generation.
//!
//! That is O(pages allocated or freed since), never O(entries). The savepoint itself stays
//! valid; later ones are dropped, and using one is [`Error::InvalidSavepoint`].

use nevar_btree::TreeDesc;
use nevar_freelist::FreeMark;
use nevar_page::{PageNo, TxnId};
use nevar_pager::{DirtyRun, Generation};

use crate::error::{Error, Result};
use crate::write::{OpenTree, WriteTxn};

/// A point in a write transaction to roll back to, from [`WriteTxn::savepoint`].
#[derive(Debug)]
pub struct Savepoint {
    txn: TxnId,
    id: u64,
}

/// What the writer's store records while a savepoint lives.
#[derive(Debug, Default)]
pub(crate) struct UndoLog {
    /// Whether any savepoint lives (the log records nothing otherwise).
    pub active: bool,
    /// Runs allocated, in order, as (first page, pages).
    pub allocated: Vec<(PageNo, u32)>,
    /// Frozen runs freed, held back from the free list until the commit or a rollback.
    pub frozen_freed: Vec<(PageNo, DirtyRun)>,
}

/// One live savepoint's saved state.
pub(crate) struct Saved {
    id: u64,
    catalog: TreeDesc,
    free: TreeDesc,
    /// The open trees, their tail hints forgotten (they point into pages frozen now).
    trees: Vec<OpenTree>,
    generation: Generation,
    allocated: usize,
    frozen_freed: usize,
    frees: FreeMark,
}

/// The live savepoints of a transaction, oldest first.
#[derive(Default)]
pub(crate) struct Savepoints {
    stack: Vec<Saved>,
    next_id: u64,
}

impl WriteTxn<'_> {
    /// Takes a savepoint: [`rollback_to`](WriteTxn::rollback_to) it later to undo everything
    /// changed after this call. Costs a copy of the open trees' roots, however much the
    /// transaction changed before. Savepoints nest.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// w.open_tree("t")?.insert(b"kept", b"1")?;
    /// let sp = w.savepoint()?;
    /// w.open_tree("t")?.insert(b"undone", b"2")?;
    /// w.rollback_to(&sp)?;
    /// assert_eq!(w.open_tree("t")?.get(b"undone")?, None);
    /// assert_eq!(w.open_tree("t")?.get(b"kept")?, Some(&b"1"[..]));
    /// w.commit()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn savepoint(&mut self) -> Result<Savepoint> {
        if self.failed {
            return Err(Error::TxnFailed);
        }
        let id = self.savepoints.next_id;
        self.savepoints.next_id += 1;
        for tree in &mut self.roots.trees {
            tree.tail.forget();
        }
        let generation = self.writer.dirty.freeze();
        self.undo.active = true;
        self.savepoints.stack.push(Saved {
            id,
            catalog: self.roots.catalog,
            free: self.roots.free,
            trees: self.roots.trees.clone(),
            generation,
            allocated: self.undo.allocated.len(),
            frozen_freed: self.undo.frozen_freed.len(),
            frees: self.freelist.mark(),
        });
        Ok(Savepoint { txn: self.txn, id })
    }

    /// Undoes every change made after `savepoint` was taken, in O(pages those changes
    /// allocated or freed). `savepoint` stays valid; savepoints taken after it become
    /// invalid. A savepoint of another transaction, or one rolled back past, is
    /// [`Error::InvalidSavepoint`] and changes nothing.
    pub fn rollback_to(&mut self, savepoint: &Savepoint) -> Result<()> {
        if self.failed {
            return Err(Error::TxnFailed);
        }
        if savepoint.txn != self.txn {
            return Err(Error::InvalidSavepoint("it belongs to another transaction"));
        }
        let Some(at) = self
            .savepoints
            .stack
            .iter()
            .position(|s| s.id == savepoint.id)
        else {
            return Err(Error::InvalidSavepoint("an earlier rollback went past it"));
        };
        self.savepoints.stack.truncate(at + 1);
        let saved = &self.savepoints.stack[at];
        let dirty = &mut self.writer.dirty;
        // Frozen runs the saved trees hold come back first, so that a run allocated since
        // and frozen by a later savepoint is dirty again when the allocations are undone.
        for (first, run) in self.undo.frozen_freed.drain(saved.frozen_freed..) {
            dirty.restore(first, run);
        }
        for (first, _) in self.undo.allocated.drain(saved.allocated..) {
            // A run freed since (and maybe reallocated in parts) is already free; its later
            // allocations have entries of their own.
            if let Some(run) = dirty.remove_run(first) {
                self.freelist.give_back(first, u64::from(run.count));
            }
        }
        self.freelist.forget_frees_since(saved.frees);
        dirty.thaw_to(saved.generation);
        self.roots.catalog = saved.catalog;
        self.roots.free = saved.free;
        self.roots.trees = saved.trees.clone();
        Ok(())
    }

    /// Drops every savepoint before the commit: frozen runs freed since are plain free pages
    /// of this transaction, and every dirty page is changeable again.
    pub(crate) fn release_savepoints(&mut self) {
        self.savepoints.stack.clear();
        for (first, run) in self.undo.frozen_freed.drain(..) {
            self.freelist.give_back(first, u64::from(run.count));
        }
        self.undo.allocated.clear();
        self.undo.active = false;
        self.writer.dirty.thaw_all();
    }
}
