//! Mending an underfull page: merge it with a sibling, or even the two out.

use nevar_page::{Branch, BranchMut, ChildRef, Leaf, Limits, PageNo};

use crate::desc::TreeDesc;
use crate::edit::{Split, cow};
use crate::error::Result;
use crate::node::load;
use crate::split::{
    BranchEntry, balanced_split, branch_entries, branch_insert, cell_sizes, entry_sizes,
    leaf_cells, separator_between, write_branch, write_leaf,
};
use crate::store::PageStoreMut;

/// What became of two siblings.
enum Pair {
    /// Everything fits in the left page; the right page is gone.
    Merged,
    /// Cells were spread over both pages; the right page starts at this separator.
    Redistributed(Vec<u8>),
}

/// Two adjacent children of one branch, as the branch records them.
struct Siblings {
    /// Index of the left one in the parent (the right one is `left_index + 1`).
    left_index: usize,
    left: ChildRef,
    right: ChildRef,
    /// The parent's separator in front of the right one.
    separator: Vec<u8>,
}

/// Child `i` of dirty branch `parent` and its nearest sibling, or `None` for a single child.
fn siblings_of<S: PageStoreMut + ?Sized>(
    store: &S,
    parent: PageNo,
    i: usize,
) -> Result<Option<Siblings>> {
    let b = Branch::new(store.page(parent)?, parent)?;
    if b.len() < 2 {
        return Ok(None);
    }
    let left_index = i.saturating_sub(1).min(b.len() - 2);
    Ok(Some(Siblings {
        left_index,
        left: b.child(left_index)?,
        right: b.child(left_index + 1)?,
        separator: b.key(left_index + 1)?.to_vec(),
    }))
}

/// Child `i` of dirty branch `parent` is underfull: merge it with a sibling or even the two
/// out. Returns a split of `parent` if replacing a separator overflowed it.
pub(crate) fn rebalance<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    parent: PageNo,
    i: usize,
    child_level: u32,
) -> Result<Option<Split>> {
    let Some(pair) = siblings_of(store, parent, i)? else {
        return Ok(None);
    };
    // Validate both siblings as the parent records them before touching either.
    load(store, pair.left, child_level)?;
    load(store, pair.right, child_level)?;
    let (left, right) = (cow(store, pair.left.page)?, cow(store, pair.right.page)?);
    let txn = store.txn_id();
    let (l, r) = (pair.left_index, pair.left_index + 1);
    {
        let mut b = BranchMut::new(store.page_mut(parent)?, parent)?;
        b.set_child(l, ChildRef { page: left, txn })?;
        b.set_child(r, ChildRef { page: right, txn })?;
    }
    let outcome = if child_level == 1 {
        pair_leaves(store, left, right)?
    } else {
        pair_branches(store, left, right, &pair.separator)?
    };
    BranchMut::new(store.page_mut(parent)?, parent)?.remove(r)?;
    match outcome {
        Pair::Merged => {
            store.free(right, 1)?;
            if child_level == 1 {
                desc.leaf_pages = desc.leaf_pages.saturating_sub(1);
            } else {
                desc.branch_pages = desc.branch_pages.saturating_sub(1);
            }
            Ok(None)
        }
        Pair::Redistributed(key) => {
            let entry = BranchEntry {
                child: ChildRef { page: right, txn },
                key: &key,
            };
            branch_insert(store, desc, parent, r, entry, false)
        }
    }
}

fn pair_leaves<S: PageStoreMut + ?Sized>(
    store: &mut S,
    left: PageNo,
    right: PageNo,
) -> Result<Pair> {
    let limits = Limits::new(store.page_size());
    let (ls, rs) = (store.page(left)?.to_vec(), store.page(right)?.to_vec());
    let mut cells = leaf_cells(&Leaf::new(&ls, left)?)?;
    cells.extend(leaf_cells(&Leaf::new(&rs, right)?)?);
    let sizes = cell_sizes(&cells);
    if sizes.iter().sum::<usize>() <= limits.usable() {
        write_leaf(store, left, &cells)?;
        return Ok(Pair::Merged);
    }
    let m = balanced_split(&sizes);
    write_leaf(store, left, &cells[..m])?;
    write_leaf(store, right, &cells[m..])?;
    Ok(Pair::Redistributed(separator_between(store, left, right)?))
}

fn pair_branches<S: PageStoreMut + ?Sized>(
    store: &mut S,
    left: PageNo,
    right: PageNo,
    separator: &[u8],
) -> Result<Pair> {
    let limits = Limits::new(store.page_size());
    let (ls, rs) = (store.page(left)?.to_vec(), store.page(right)?.to_vec());
    let mut entries = branch_entries(&Branch::new(&ls, left)?)?;
    let right_entries = branch_entries(&Branch::new(&rs, right)?)?;
    let split_at = entries.len();
    entries.extend(right_entries);
    entries[split_at].key = separator; // the right page's first entry takes the parent's
    let sizes = entry_sizes(&entries);
    if sizes.iter().sum::<usize>() <= limits.usable() {
        write_branch(store, left, &entries)?;
        return Ok(Pair::Merged);
    }
    let m = balanced_split(&sizes);
    write_branch(store, left, &entries[..m])?;
    write_branch(store, right, &entries[m..])?;
    Ok(Pair::Redistributed(entries[m].key.to_vec()))
}
