//! The primitives every change is made of: what a level reports to its parent, and the
//! copy-on-write of one page.

use nevar_page::{Leaf, LeafMut, LeafValue, PageNo, ValueRef, header_mut};

use crate::error::{Result, corrupted};
use crate::store::PageStoreMut;

/// A page that overflowed became two: the new right sibling, and the separator the parent
/// places in front of it (every key of `right` is at least `separator`, every key left of it
/// is below).
#[derive(Debug)]
pub(crate) struct Split {
    pub separator: Vec<u8>,
    pub right: PageNo,
}

/// What a level reports to its parent after a change.
pub(crate) struct Outcome {
    /// The page now holding this subtree's root (a copy if it was committed).
    pub page: PageNo,
    /// Set when the page split.
    pub split: Option<Split>,
    /// The page fell below the fill threshold.
    pub underfull: bool,
}

impl Outcome {
    /// A page changed in place or copied, neither split nor underfull.
    pub fn unchanged_shape(page: PageNo) -> Self {
        Outcome {
            page,
            split: None,
            underfull: false,
        }
    }
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

/// An overflow run's identity, copied out of a leaf so the leaf's borrow can end (an inline
/// value owns no pages, so its bytes are not kept).
pub(crate) fn owned_value(v: LeafValue<'_>) -> LeafValue<'static> {
    match v {
        LeafValue::Inline(_) => LeafValue::Inline(&[]),
        LeafValue::Overflow { page, txn, len } => LeafValue::Overflow { page, txn, len },
    }
}

/// The values of `leaf`'s cells `cells`, copied out as by [`owned_value`], so their overflow
/// runs can be freed once the leaf's borrow ends.
pub(crate) fn owned_values(
    leaf: &Leaf<'_>,
    cells: std::ops::Range<usize>,
) -> Result<Vec<LeafValue<'static>>> {
    Ok(cells
        .map(|i| leaf.value(i).map(owned_value))
        .collect::<Result<_, _>>()?)
}
