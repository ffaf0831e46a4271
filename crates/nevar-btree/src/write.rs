//! Insert and remove: copy-on-write descent, then fix-ups on the way back up.
//!
//! Each level returns an [`Outcome`] to its parent: the page's (possibly new) number, a split
//! (separator and new right sibling) when it overflowed, or an underfull flag when it shrank
//! below the fill threshold. The parent points at the new page, inserts the separator
//! (splitting itself if needed) or rebalances the underfull child with a sibling.
//!
//! Fill policy: a non-root page holds at least `Limits::min_fill` bytes, except pages on the
//! rightmost spine, which the append fast path leaves short on purpose (sorted loads split at
//! the end, so every page left behind is full).

use nevar_page::{Branch, BranchMut, ChildRef, Leaf, LeafMut, LeafValue, Limits, PageNo, ValueRef};

use crate::desc::TreeDesc;
use crate::edit::{Outcome, Split, cow, owned_value, owned_values, write_single_leaf};
use crate::error::Result;
use crate::node::{Node, load};
use crate::rebalance::rebalance;
use crate::split::{BranchEntry, branch_insert, split_leaf, write_branch};
use crate::store::PageStoreMut;
use crate::value::{free_value, store_value};

/// Inserts or overwrites `key`. Returns whether the key existed. Oversized keys and values are
/// refused before anything changes; any other error leaves the tree unusable in this
/// transaction (the caller must abort). A caller inserting many keys into one tree keeps a
/// [`crate::Tail`] and calls [`crate::Tail::insert`] instead, so sorted runs skip the descent.
pub fn insert<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    key: &[u8],
    value: &[u8],
) -> Result<bool> {
    let limits = Limits::new(store.page_size());
    let val = store_value(store, desc, &limits, key, value)?;
    Ok(insert_stored(store, desc, &limits, key, val)?.existed)
}

/// What [`insert_stored`] did.
pub(crate) struct Inserted {
    /// The key was there before (its old value is freed).
    pub existed: bool,
    /// The tree's last leaf, when the insert went down the rightmost spine.
    pub last_leaf: Option<PageNo>,
}

/// Inserts the already stored value `val` under `key` from the root down.
pub(crate) fn insert_stored<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    key: &[u8],
    val: ValueRef<'_>,
) -> Result<Inserted> {
    if desc.root == 0 {
        let no = store.alloc(1)?;
        let txn = store.txn_id();
        write_single_leaf(store, no, key, val)?;
        *desc = TreeDesc {
            root: no,
            root_txn: txn,
            depth: 1,
            entries: 1,
            leaf_pages: 1,
            ..*desc
        };
        return Ok(Inserted {
            existed: false,
            last_leaf: Some(no),
        });
    }
    let mut insert = Insert {
        limits,
        key,
        val,
        last_leaf: None,
        existed: false,
    };
    let out = insert.descend(store, desc, desc.root_ref(), desc.depth, true)?;
    finish_root(store, desc, out)?;
    desc.entries += u64::from(!insert.existed);
    Ok(Inserted {
        existed: insert.existed,
        last_leaf: insert.last_leaf,
    })
}

/// Where a descent goes next from one page.
enum Step {
    /// The page is the leaf where the key belongs, at `pos`; `old` is the value it replaces.
    Leaf {
        pos: usize,
        old: Option<LeafValue<'static>>,
    },
    /// The key lies under the branch's entry `index`.
    Down {
        index: usize,
        child: ChildRef,
        /// `index` is the branch's last entry.
        last: bool,
    },
}

/// One insert on its way down and back up.
struct Insert<'k, 'v> {
    limits: &'k Limits,
    key: &'k [u8],
    val: ValueRef<'v>,
    /// Set on the way up when the insert went down the rightmost spine.
    last_leaf: Option<PageNo>,
    existed: bool,
}

impl Insert<'_, '_> {
    /// Inserts below `node` at `level`; `rightmost` says `node` is on the tree's right spine.
    fn descend<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        node: ChildRef,
        level: u32,
        rightmost: bool,
    ) -> Result<Outcome> {
        match self.step(store, node, level, rightmost)? {
            Step::Leaf { pos, old } => {
                self.place_in_leaf(store, desc, node.page, pos, old, rightmost)
            }
            Step::Down { index, child, last } => {
                let child_out = self.descend(store, desc, child, level - 1, rightmost && last)?;
                let no = cow(store, node.page)?;
                let below = Below {
                    index,
                    old: child.page,
                    level,
                };
                apply_child(store, desc, self.limits, no, below, child_out, rightmost)
            }
        }
    }

    /// Reads `node` and decides where the key goes. On the rightmost spine, a key past the
    /// last one (every key of a sorted load) is placed with one comparison instead of a
    /// binary search.
    fn step<S: PageStoreMut + ?Sized>(
        &self,
        store: &S,
        node: ChildRef,
        level: u32,
        rightmost: bool,
    ) -> Result<Step> {
        let key = self.key;
        Ok(match load(store, node, level)? {
            Node::Leaf(leaf) => match leaf.len().checked_sub(1) {
                Some(last) if rightmost && leaf.key(last)? < key => Step::Leaf {
                    pos: last + 1,
                    old: None,
                },
                _ => match leaf.search(key)? {
                    Ok(i) => Step::Leaf {
                        pos: i,
                        old: Some(owned_value(leaf.value(i)?)),
                    },
                    Err(i) => Step::Leaf { pos: i, old: None },
                },
            },
            Node::Branch(b) => {
                let last = b.len() - 1;
                let index = if rightmost && last > 0 && b.key(last)? <= key {
                    last
                } else {
                    b.search(key)?
                };
                Step::Down {
                    index,
                    child: b.child(index)?,
                    last: index == last,
                }
            }
        })
    }

    /// Places the key in leaf `no` at `pos`, replacing `old`, splitting the leaf if full.
    fn place_in_leaf<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        no: PageNo,
        pos: usize,
        old: Option<LeafValue<'static>>,
        rightmost: bool,
    ) -> Result<Outcome> {
        let no = cow(store, no)?;
        let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
        if old.is_some() {
            leaf.remove(pos)?;
        }
        let out = if leaf.insert(pos, self.key, self.val) {
            let underfull = old.is_some() && leaf.view().used() < self.limits.min_fill;
            Outcome {
                page: no,
                split: None,
                underfull,
            }
        } else {
            let append = rightmost && pos == leaf.view().len();
            split_leaf(store, desc, no, pos, (self.key, self.val), append)?
        };
        if let Some(old) = old {
            free_value(store, desc, old)?;
            self.existed = true;
        }
        if rightmost {
            self.last_leaf = Some(out.split.as_ref().map_or(out.page, |s| s.right));
        }
        Ok(out)
    }
}

/// The child a branch descended into: its entry, the page it was, and the branch's level.
#[derive(Clone, Copy)]
pub(crate) struct Below {
    pub index: usize,
    pub old: PageNo,
    pub level: u32,
}

/// Updates branch `no` (dirty) after its child `below.index`, which was page `below.old`,
/// changed as `child` says.
pub(crate) fn apply_child<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    no: PageNo,
    below: Below,
    child: Outcome,
    rightmost: bool,
) -> Result<Outcome> {
    if child.page == below.old && child.split.is_none() && !child.underfull {
        // The child was already this transaction's copy and changed in place; its entry
        // already names it with this txn, so this page does not change (the common case once
        // a path has been copied).
        return Ok(Outcome::unchanged_shape(no));
    }
    let txn = store.txn_id();
    let i = below.index;
    let moved = ChildRef {
        page: child.page,
        txn,
    };
    BranchMut::new(store.page_mut(no)?, no)?.set_child(i, moved)?;
    let split = if let Some(Split { separator, right }) = child.split {
        let entry = BranchEntry {
            child: ChildRef { page: right, txn },
            key: &separator,
        };
        branch_insert(store, desc, no, i + 1, entry, rightmost)?
    } else if child.underfull {
        rebalance(store, desc, no, i, below.level - 1)?
    } else {
        None
    };
    let underfull = split.is_none() && Branch::new(store.page(no)?, no)?.used() < limits.min_fill;
    Ok(Outcome {
        page: no,
        split,
        underfull,
    })
}

/// Installs the new root after a change: grows a level on a root split, drops levels while the
/// root branch has one child, and empties the tree when the root leaf is empty.
pub(crate) fn finish_root<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    out: Outcome,
) -> Result<()> {
    let txn = store.txn_id();
    desc.root = out.page;
    desc.root_txn = txn;
    if let Some(Split { separator, right }) = out.split {
        let root = store.alloc(1)?;
        let entries = [
            BranchEntry {
                child: ChildRef {
                    page: out.page,
                    txn,
                },
                key: &[],
            },
            BranchEntry {
                child: ChildRef { page: right, txn },
                key: &separator,
            },
        ];
        write_branch(store, root, &entries)?;
        desc.root = root;
        desc.depth += 1;
        desc.branch_pages += 1;
    }
    while desc.depth > 1 {
        let only_child = {
            let b = Branch::new(store.page(desc.root)?, desc.root)?;
            if b.len() != 1 {
                break;
            }
            b.child(0)?
        };
        store.free(desc.root, 1)?;
        desc.set_root(only_child);
        desc.depth -= 1;
        desc.branch_pages = desc.branch_pages.saturating_sub(1);
    }
    if desc.depth == 1 && Leaf::new(store.page(desc.root)?, desc.root)?.is_empty() {
        store.free(desc.root, 1)?;
        *desc = TreeDesc {
            root: 0,
            root_txn: 0,
            depth: 0,
            leaf_pages: desc.leaf_pages.saturating_sub(1),
            ..*desc
        };
    }
    Ok(())
}

/// Removes `key`. Returns whether it existed; a missing key changes nothing (no page copied).
pub fn remove<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    key: &[u8],
) -> Result<bool> {
    if desc.root == 0 {
        return Ok(false);
    }
    let limits = Limits::new(store.page_size());
    let Some(out) = remove_rec(store, desc, &limits, desc.root_ref(), desc.depth, key)? else {
        return Ok(false);
    };
    finish_root(store, desc, out)?;
    desc.entries = desc.entries.saturating_sub(1);
    Ok(true)
}

/// Removes `key` below `node`; `None` when it is absent. Pages are copied on the way back
/// up, so a missing key copies nothing.
fn remove_rec<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    node: ChildRef,
    level: u32,
    key: &[u8],
) -> Result<Option<Outcome>> {
    let step = match load(store, node, level)? {
        Node::Leaf(leaf) => match leaf.search(key)? {
            Ok(pos) => Step::Leaf {
                pos,
                old: Some(owned_value(leaf.value(pos)?)),
            },
            Err(_) => return Ok(None),
        },
        Node::Branch(b) => {
            let index = b.search(key)?;
            Step::Down {
                index,
                child: b.child(index)?,
                last: index + 1 == b.len(),
            }
        }
    };
    match step {
        Step::Leaf { pos, old } => {
            let no = cow(store, node.page)?;
            let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
            leaf.remove(pos)?;
            let underfull = leaf.view().used() < limits.min_fill;
            if let Some(old) = old {
                free_value(store, desc, old)?;
            }
            Ok(Some(Outcome {
                page: no,
                split: None,
                underfull,
            }))
        }
        Step::Down { index, child, .. } => {
            let Some(child_out) = remove_rec(store, desc, limits, child, level - 1, key)? else {
                return Ok(None);
            };
            let no = cow(store, node.page)?;
            let below = Below {
                index,
                old: child.page,
                level,
            };
            apply_child(store, desc, limits, no, below, child_out, false).map(Some)
        }
    }
}

/// Frees every page of the tree (its overflow runs included) and empties the descriptor.
pub fn clear<S: PageStoreMut + ?Sized>(store: &mut S, desc: &mut TreeDesc) -> Result<()> {
    if desc.root != 0 {
        free_subtree(store, desc, desc.root_ref(), desc.depth)?;
    }
    *desc = TreeDesc::default();
    Ok(())
}

/// Frees every page of the subtree at `node` (overflow runs included), takes them off the
/// descriptor's page counts, and returns how many entries it held. Its pages are read only to
/// find their children and overflow runs.
pub(crate) fn free_subtree<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    node: ChildRef,
    level: u32,
) -> Result<u64> {
    let (children, entries): (Vec<ChildRef>, u64) = match load(store, node, level)? {
        Node::Leaf(leaf) => {
            let entries = leaf.len() as u64;
            let runs = owned_values(&leaf, 0..leaf.len())?;
            for run in runs {
                free_value(store, desc, run)?;
            }
            desc.leaf_pages = desc.leaf_pages.saturating_sub(1);
            (Vec::new(), entries)
        }
        Node::Branch(b) => {
            desc.branch_pages = desc.branch_pages.saturating_sub(1);
            let children = (0..b.len()).map(|i| b.child(i)).collect::<Result<_, _>>()?;
            (children, 0)
        }
    };
    let mut total = entries;
    for child in children {
        total += free_subtree(store, desc, child, level - 1)?;
    }
    store.free(node.page, 1)?;
    Ok(total)
}
