//! Values: inline in the leaf or in an overflow run.

use nevar_page::{
    Leaf, LeafValue, Limits, Overflow, PageKind, PageNo, ValueRef, header_mut, overflow_pages,
};

use crate::desc::TreeDesc;
use crate::error::{BtreeError, Result, corrupted};
use crate::store::{PageStore, PageStoreMut};

/// Largest value accepted: 2 GiB - 1 (the cell's length field is 32 bits; runs are counted in
/// 32-bit page counts).
pub const MAX_VALUE: u64 = (1 << 31) - 1;

/// The value of entry `i` of `leaf`, following an overflow reference if there is one.
#[inline]
pub(crate) fn read_value<'a, S: PageStore + ?Sized>(
    store: &'a S,
    leaf: &Leaf<'a>,
    i: usize,
) -> Result<&'a [u8]> {
    resolve(store, leaf.page_no(), leaf.value(i)?)
}

/// Key and value of entry `i` of `leaf`, the value resolved as in [`read_value`].
#[inline]
pub(crate) fn read_entry<'a, S: PageStore + ?Sized>(
    store: &'a S,
    leaf: &Leaf<'a>,
    i: usize,
) -> Result<(&'a [u8], &'a [u8])> {
    let (key, value) = leaf.entry(i)?;
    Ok((key, resolve(store, leaf.page_no(), value)?))
}

/// The bytes of a leaf's value: inline, or the overflow run it refers to.
#[inline]
fn resolve<'a, S: PageStore + ?Sized>(
    store: &'a S,
    leaf_no: PageNo,
    value: LeafValue<'a>,
) -> Result<&'a [u8]> {
    match value {
        LeafValue::Inline(v) => Ok(v),
        LeafValue::Overflow { page, txn, len } => {
            if len > MAX_VALUE {
                return Err(corrupted(leaf_no, "overflow value length out of range"));
            }
            let ps = store.page_size();
            let run = store.run(page, overflow_pages(len, ps))?;
            Ok(Overflow::new(run, page, txn, ps)?.value(len, page)?)
        }
    }
}

/// Checks a new entry's sizes before anything changes.
fn check_sizes(limits: &Limits, key: &[u8], value: &[u8]) -> Result<()> {
    if key.len() > limits.max_key {
        return Err(BtreeError::KeyTooLarge {
            len: key.len(),
            max: limits.max_key,
        });
    }
    if value.len() as u64 > MAX_VALUE {
        return Err(BtreeError::ValueTooLarge {
            len: value.len() as u64,
            max: MAX_VALUE,
        });
    }
    Ok(())
}

/// Whether an entry with this key and value is stored inline.
pub(crate) fn fits_inline(limits: &Limits, key: &[u8], value: &[u8]) -> bool {
    nevar_page::LEAF_CELL_FIXED + key.len() + value.len() <= limits.max_inline_cell
}

/// Stores `value` for a new cell: inline, or written to a fresh overflow run. Oversized keys
/// and values are refused first, before anything changes.
pub(crate) fn store_value<'v, S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    limits: &Limits,
    key: &[u8],
    value: &'v [u8],
) -> Result<ValueRef<'v>> {
    check_sizes(limits, key, value)?;
    if fits_inline(limits, key, value) {
        return Ok(ValueRef::Inline(value));
    }
    let ps = store.page_size();
    let count = overflow_pages(value.len() as u64, ps);
    let first = store.alloc(count)?;
    let txn = store.txn_id();
    let run = store.run_mut(first, count)?;
    let h = header_mut(run, first)?;
    h.init(PageKind::Overflow, first, txn);
    h.run_pages = (count as u32).into();
    let data = &mut run[nevar_page::HEADER_LEN..];
    data[..value.len()].copy_from_slice(value);
    data[value.len()..].fill(0);
    desc.overflow_pages += count;
    Ok(ValueRef::Overflow {
        page: first,
        txn,
        len: value.len() as u32,
    })
}

/// Frees the overflow run of entry `i`, if it has one.
pub(crate) fn free_value<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    value: LeafValue<'_>,
) -> Result<()> {
    if let LeafValue::Overflow { page, len, .. } = value {
        let count = overflow_pages(len, store.page_size());
        store.free(page, count)?;
        desc.overflow_pages = desc.overflow_pages.saturating_sub(count);
    }
    Ok(())
}
