//! The tail: a tree's last leaf, remembered across the inserts of one write transaction.
//!
//! A sorted load puts every key after the last one. Without a memory of where the last key
//! lives, each such insert descends from the root, loads and checks every page on the way and
//! revisits every parent on the way back, although only the last leaf changes. With the tail
//! the insert goes straight to that leaf, as LMDB's `MDB_APPEND` does through its cursor; the
//! full descent runs once per leaf, when the leaf is full and splits.
//!
//! Why the shortcut is sound:
//! - The tail is set only by an insert of a new key that went down the rightmost spine. That
//!   insert made every page on the spine this transaction's own (dirty) and pointed each
//!   parent at its child with this transaction's id, so editing the leaf in place needs no
//!   change above it.
//! - A key greater than the leaf's last key belongs at the leaf's end: every separator above
//!   the last leaf is at most its first key, and nothing lies to its right.
//! - Only a removal (or an overwrite, which may rebalance) can free or replace the last leaf.
//!   Both go through the slow path or [`Tail::forget`], which drop the tail.
//!
//! A tail is meaningful only within the transaction and for the tree it was set on; the owner
//! keeps one per open tree and drops it with the transaction.

use nevar_page::{LeafMut, Limits, PageNo, ValueRef, compare_keys};

use crate::desc::TreeDesc;
use crate::error::Result;
use crate::store::PageStoreMut;
use crate::value::store_value;
use crate::write::{Inserted, insert_stored};

/// Where the next sorted insert into one tree goes, if known.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tail {
    /// The tree's last leaf, dirty in the current transaction.
    leaf: Option<PageNo>,
}

impl Tail {
    /// Inserts or overwrites `key` in the tree `desc` as [`crate::insert`] does, but straight
    /// into the last leaf when `key` sorts after every key and fits there; otherwise it takes
    /// the same descent as [`crate::insert`] and remembers the last leaf it reached. Returns
    /// whether the key existed.
    pub fn insert<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        key: &[u8],
        value: &[u8],
    ) -> Result<bool> {
        let limits = Limits::new(store.page_size());
        let val = store_value(store, desc, &limits, key, value)?;
        if self.append(store, key, val)? {
            desc.entries += 1;
            return Ok(false);
        }
        let Inserted { existed, last_leaf } = insert_stored(store, desc, &limits, key, val)?;
        self.leaf = if existed { None } else { last_leaf };
        Ok(existed)
    }

    /// Drops the remembered leaf; the owner calls it before any change other than
    /// [`Tail::insert`] (a removal, a clear).
    pub fn forget(&mut self) {
        self.leaf = None;
    }

    /// Appends `key` to the remembered leaf; `false` (nothing changed) when there is none, the
    /// key does not sort after its last key, or the cell does not fit.
    fn append<S: PageStoreMut + ?Sized>(
        &self,
        store: &mut S,
        key: &[u8],
        val: ValueRef<'_>,
    ) -> Result<bool> {
        let Some(no) = self.leaf else {
            return Ok(false);
        };
        debug_assert!(store.is_dirty(no), "the tail is this transaction's page");
        let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
        let end = leaf.view().len();
        let after_last = match end.checked_sub(1) {
            Some(last) => compare_keys(leaf.view().key(last)?, key).is_lt(),
            None => false,
        };
        Ok(after_last && leaf.insert(end, key, val))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemStore, insert, remove, verify};

    fn store_bytes(s: &MemStore) -> Vec<u8> {
        s.clone().bytes_mut().to_vec()
    }

    /// A sorted load through a tail takes the shortcut for all but the inserts that split, and
    /// leaves exactly the pages the full descent would have: the shortcut is the same edit.
    #[test]
    fn sorted_load_through_the_tail_matches_the_full_descent() {
        let (mut fast, mut slow) = (MemStore::new(4096), MemStore::new(4096));
        let (mut fast_desc, mut slow_desc) = (TreeDesc::default(), TreeDesc::default());
        let mut tail = Tail::default();
        let mut shortcuts = 0;
        for i in 0..20_000u64 {
            let key = i.to_be_bytes();
            // Every 97th value is big enough for an overflow run.
            let len = if i % 97 == 0 {
                5000
            } else {
                40 + i as usize % 60
            };
            let value = vec![i as u8; len];
            let before = tail.leaf;
            let existed = tail.insert(&mut fast, &mut fast_desc, &key, &value);
            assert!(!existed.unwrap());
            shortcuts += usize::from(before.is_some() && before == tail.leaf);
            assert!(!insert(&mut slow, &mut slow_desc, &key, &value).unwrap());
            if i % 1000 == 0 {
                verify(&fast, &fast_desc).unwrap();
            }
        }
        verify(&fast, &fast_desc).unwrap();
        assert!(fast_desc.depth >= 3, "depth {}", fast_desc.depth);
        assert_eq!(fast_desc, slow_desc);
        assert_eq!(store_bytes(&fast), store_bytes(&slow));
        assert!(shortcuts > 18_000, "only {shortcuts} shortcuts");
    }

    /// A tree with its tail, as a write transaction holds them.
    struct Tree {
        store: MemStore,
        desc: TreeDesc,
        tail: Tail,
    }

    impl Tree {
        fn put(&mut self, key: u64, len: usize) -> bool {
            let value = vec![7; len];
            let key = key.to_be_bytes();
            let existed = self
                .tail
                .insert(&mut self.store, &mut self.desc, &key, &value);
            existed.unwrap()
        }

        fn remove(&mut self, key: u64) -> bool {
            self.tail.forget();
            remove(&mut self.store, &mut self.desc, &key.to_be_bytes()).unwrap()
        }
    }

    /// A key that does not sort last, an overwrite of the last key and a key after a removal
    /// all take the full descent and leave a valid tree.
    #[test]
    fn out_of_order_keys_overwrites_and_removals_take_the_full_descent() {
        let mut t = Tree {
            store: MemStore::new(4096),
            desc: TreeDesc::default(),
            tail: Tail::default(),
        };
        for i in (0..4000u64).step_by(2) {
            t.put(i, 50);
        }
        assert!(t.tail.leaf.is_some(), "a sorted load leaves a tail");
        // Between existing keys: lands in an earlier leaf and forgets the tail.
        assert!(!t.put(1001, 50));
        assert_eq!(t.tail.leaf, None);
        // A new last key finds the last leaf again; overwriting it with a small value may
        // rebalance, so it forgets the tail.
        assert!(!t.put(4002, 50));
        assert!(t.tail.leaf.is_some());
        assert!(t.put(4002, 1));
        assert_eq!(t.tail.leaf, None);
        // Removing the last keys, then appending again.
        for i in (3000..4003u64).rev() {
            t.remove(i);
        }
        for i in 5000..5100u64 {
            t.put(i, 50);
        }
        verify(&t.store, &t.desc).unwrap();
        assert_eq!(t.desc.entries, 1500 + 1 + 100);
    }
}
