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

use nevar_page::{
    Branch, BranchMut, Leaf, LeafMut, LeafValue, Limits, PageNo, TxnId, ValueRef, header_mut,
};

use crate::desc::TreeDesc;
use crate::error::{Result, corrupted};
use crate::node::{Node, load};
use crate::rebalance::{rebalance, split_branch, split_leaf, write_branch};
use crate::store::PageStoreMut;
use crate::tail::Tail;
use crate::value::free_value;

/// What a level reports to its parent after a change.
pub(crate) struct Outcome {
    /// The page now holding this subtree's root (a copy if it was committed).
    pub page: PageNo,
    /// Separator and right sibling, when the page split.
    pub split: Option<(Vec<u8>, PageNo)>,
    /// The page fell below the fill threshold.
    pub underfull: bool,
}

/// Formats dirty page `no` as a leaf holding just `key`.
pub(crate) fn write_single_leaf<S: PageStoreMut + ?Sized>(
    store: &mut S,
    no: PageNo,
    key: &[u8],
    val: ValueRef<'_>,
) -> Result<()> {
    let txn = store.txn_id();
    if !LeafMut::init(store.page_mut(no)?, no, txn)?.insert(0, key, val) {
        return Err(corrupted(no, "a fresh leaf refused a cell"));
    }
    Ok(())
}

/// Copy-on-write: the page to edit in place of `no` (itself if already dirty).
pub(crate) fn cow<S: PageStoreMut + ?Sized>(store: &mut S, no: PageNo) -> Result<PageNo> {
    if store.is_dirty(no) {
        return Ok(no);
    }
    let copy = store.alloc(1)?;
    store.copy_page(no, copy)?;
    let txn = store.txn_id();
    let h = header_mut(store.page_mut(copy)?, copy)?;
    h.page_no = copy.into();
    h.txn_id = txn.into();
    store.free(no, 1)?;
    Ok(copy)
}

/// An overflow run's identity, copied out of a leaf so the leaf's borrow can end.
fn owned_value(v: LeafValue<'_>) -> LeafValue<'static> {
    match v {
        LeafValue::Inline(_) => LeafValue::Inline(&[]),
        LeafValue::Overflow { page, txn, len } => LeafValue::Overflow { page, txn, len },
    }
}

/// Inserts or overwrites `key`. Returns whether the key existed. Oversized keys and values are
/// refused before anything changes; any other error leaves the tree unusable in this
/// transaction (the caller must abort). A caller inserting many keys into one tree keeps a
/// [`Tail`] and calls [`Tail::insert`] instead, so sorted runs skip the descent.
pub fn insert<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    key: &[u8],
    value: &[u8],
) -> Result<bool> {
    Tail::default().insert(store, desc, key, value)
}

/// Inserts the already stored value `val` under `key` from the root down. Returns whether the
/// key existed, and the tree's last leaf when the insert went down the rightmost spine.
pub(crate) fn insert_value<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    key: &[u8],
    val: ValueRef<'_>,
) -> Result<(bool, Option<PageNo>)> {
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
        return Ok((false, Some(no)));
    }
    let (out, existed, last_leaf) = insert_rec(
        store,
        desc,
        limits,
        (desc.root, desc.root_txn, desc.depth),
        key,
        val,
        true,
    )?;
    finish_root(store, desc, out)?;
    desc.entries += u64::from(!existed);
    Ok((existed, last_leaf))
}

/// Returns the level's outcome, whether the key existed, and (when `rightmost`) the page that
/// is now the tree's last leaf.
fn insert_rec<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    (no, txn, level): (PageNo, TxnId, u32),
    key: &[u8],
    val: ValueRef<'_>,
    rightmost: bool,
) -> Result<(Outcome, bool, Option<PageNo>)> {
    // On the rightmost spine, a key past the last one (every key of a sorted load) is placed
    // with one comparison instead of a binary search.
    let step = match load(store, no, txn, level)? {
        Node::Leaf(leaf) => match leaf.len().checked_sub(1) {
            Some(last) if rightmost && leaf.key(last)? < key => Err((last + 1, None)),
            _ => match leaf.search(key)? {
                Ok(i) => Err((i, Some(owned_value(leaf.value(i)?)))),
                Err(i) => Err((i, None)),
            },
        },
        Node::Branch(b) => {
            let last = b.len() - 1;
            let i = if rightmost && last > 0 && b.key(last)? <= key {
                last
            } else {
                b.search(key)?
            };
            Ok((i, b.child(i)?, i == last))
        }
    };
    match step {
        Err((pos, old)) => {
            let no = cow(store, no)?;
            let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
            if old.is_some() {
                leaf.remove(pos)?;
            }
            let out = if leaf.insert(pos, key, val) {
                let underfull = old.is_some() && leaf.view().used() < limits.min_fill;
                Outcome {
                    page: no,
                    split: None,
                    underfull,
                }
            } else {
                let append = rightmost && pos == leaf.view().len();
                split_leaf(store, desc, no, pos, key, val, append)?
            };
            if let Some(old) = old {
                free_value(store, desc, old)?;
            }
            let last_leaf = rightmost.then(|| out.split.as_ref().map_or(out.page, |s| s.1));
            Ok((out, old.is_some(), last_leaf))
        }
        Ok((i, (child, child_txn), last)) => {
            let (child_out, existed, last_leaf) = insert_rec(
                store,
                desc,
                limits,
                (child, child_txn, level - 1),
                key,
                val,
                rightmost && last,
            )?;
            let no = cow(store, no)?;
            Ok((
                apply_child(
                    store,
                    desc,
                    limits,
                    no,
                    (i, child),
                    child_out,
                    level,
                    rightmost,
                )?,
                existed,
                last_leaf,
            ))
        }
    }
}

/// Updates branch `no` (dirty) after its child `i`, which was page `old`, changed as `child`
/// says.
#[allow(clippy::too_many_arguments)]
fn apply_child<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    no: PageNo,
    (i, old): (usize, PageNo),
    child: Outcome,
    level: u32,
    rightmost: bool,
) -> Result<Outcome> {
    if child.page == old && child.split.is_none() && !child.underfull {
        // The child was already this transaction's copy and changed in place; entry `i`
        // already names it with this txn, so this page does not change (the common case once
        // a path has been copied).
        return Ok(Outcome {
            page: no,
            split: None,
            underfull: false,
        });
    }
    let txn = store.txn_id();
    BranchMut::new(store.page_mut(no)?, no)?.set_child(i, child.page, txn)?;
    let split = if let Some((sep, right)) = child.split {
        branch_insert(store, desc, no, i + 1, (right, txn, &sep), rightmost)?
    } else if child.underfull {
        rebalance(store, desc, no, i, level - 1)?
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

/// Inserts an entry into dirty branch `no` at `idx`, splitting the branch if it is full.
pub(crate) fn branch_insert<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    no: PageNo,
    idx: usize,
    (child, child_txn, key): (PageNo, TxnId, &[u8]),
    rightmost: bool,
) -> Result<Option<(Vec<u8>, PageNo)>> {
    let mut b = BranchMut::new(store.page_mut(no)?, no)?;
    if b.insert(idx, child, child_txn, key) {
        return Ok(None);
    }
    let append = rightmost && idx == b.view().len();
    split_branch(store, desc, no, idx, (child, child_txn, key), append).map(Some)
}

/// Installs the new root after a change: grows a level on a root split, drops levels while the
/// root branch has one child, and empties the tree when the root leaf is empty.
fn finish_root<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    out: Outcome,
) -> Result<()> {
    let txn = store.txn_id();
    desc.root = out.page;
    desc.root_txn = txn;
    if let Some((sep, right)) = out.split {
        let root = store.alloc(1)?;
        write_branch(
            store,
            root,
            &[(out.page, txn, &[][..]), (right, txn, &sep[..])],
        )?;
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
        (desc.root, desc.root_txn) = only_child;
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
    let Some(out) = remove_rec(
        store,
        desc,
        &limits,
        (desc.root, desc.root_txn, desc.depth),
        key,
    )?
    else {
        return Ok(false);
    };
    finish_root(store, desc, out)?;
    desc.entries = desc.entries.saturating_sub(1);
    Ok(true)
}

/// Removes `key` below page `no`; `None` when it is absent. Pages are copied on the way back
/// up, so a missing key copies nothing.
fn remove_rec<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    (no, txn, level): (PageNo, TxnId, u32),
    key: &[u8],
) -> Result<Option<Outcome>> {
    let step = match load(store, no, txn, level)? {
        Node::Leaf(leaf) => match leaf.search(key)? {
            Ok(i) => Err((i, owned_value(leaf.value(i)?))),
            Err(_) => return Ok(None),
        },
        Node::Branch(b) => {
            let i = b.search(key)?;
            Ok((i, b.child(i)?))
        }
    };
    match step {
        Err((i, old)) => {
            let no = cow(store, no)?;
            let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
            leaf.remove(i)?;
            let underfull = leaf.view().used() < limits.min_fill;
            free_value(store, desc, old)?;
            Ok(Some(Outcome {
                page: no,
                split: None,
                underfull,
            }))
        }
        Ok((i, (child, child_txn))) => {
            let Some(child_out) =
                remove_rec(store, desc, limits, (child, child_txn, level - 1), key)?
            else {
                return Ok(None);
            };
            let no = cow(store, no)?;
            apply_child(store, desc, limits, no, (i, child), child_out, level, false).map(Some)
        }
    }
}

/// Frees every page of the tree (its overflow runs included) and empties the descriptor.
pub fn clear<S: PageStoreMut + ?Sized>(store: &mut S, desc: &mut TreeDesc) -> Result<()> {
    if desc.root != 0 {
        clear_rec(store, desc, (desc.root, desc.root_txn, desc.depth))?;
    }
    *desc = TreeDesc::default();
    Ok(())
}

fn clear_rec<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    (no, txn, level): (PageNo, TxnId, u32),
) -> Result<()> {
    let children: Vec<(PageNo, TxnId)> = match load(store, no, txn, level)? {
        Node::Leaf(leaf) => {
            let runs: Vec<_> = (0..leaf.len())
                .map(|i| leaf.value(i).map(owned_value))
                .collect::<Result<_, _>>()?;
            for run in runs {
                free_value(store, desc, run)?;
            }
            Vec::new()
        }
        Node::Branch(b) => (0..b.len()).map(|i| b.child(i)).collect::<Result<_, _>>()?,
    };
    for child in children {
        clear_rec(store, desc, (child.0, child.1, level - 1))?;
    }
    store.free(no, 1)
}
