//! Loading the free tree into memory and writing it back at commit.

use std::collections::BTreeMap;
use std::ops::Bound;

use nevar_btree::{BtreeError, PageStore, PageStoreMut, Range, Result, TreeDesc, insert, remove};

use crate::list::FreeList;
use crate::record::{decode_key, decode_value, encode_key, encode_value};

/// Passes that may reuse free pages. Usually the flush settles within them; if not, the
/// remaining passes allocate only by growth, which cannot oscillate (see `docs/freelist.md`).
const REUSING_PASSES: usize = 4;
/// Most passes before the flush reports failure (a bug or a corrupted free tree).
const MAX_PASSES: usize = 64;

/// A page store whose allocations come from a [`FreeList`].
pub trait FreeStore: PageStoreMut {
    /// The free list allocations and frees go through.
    fn freelist(&mut self) -> &mut FreeList;
}

/// Reads the free tree `desc` into a [`FreeList`]. A malformed record is corruption.
pub fn load<S: PageStore + ?Sized>(store: &S, desc: &TreeDesc) -> Result<FreeList> {
    let mut records = BTreeMap::new();
    for item in Range::new(store, desc, Bound::Unbounded, Bound::Unbounded)? {
        let (k, v) = item?;
        let bad = || BtreeError::Corrupted {
            page: desc.root,
            what: "malformed free-page record",
        };
        let key = decode_key(k).ok_or_else(bad)?;
        let extents = decode_value(v).ok_or_else(bad)?;
        if extents.is_empty() {
            return Err(bad());
        }
        records.insert(key, extents);
    }
    Ok(FreeList::from_records(records))
}

/// Writes the transaction's frees and every changed record into the free tree `desc`,
/// repeating until writing changes nothing more.
pub fn flush<S: FreeStore + ?Sized>(store: &mut S, desc: &mut TreeDesc) -> Result<()> {
    for pass in 0..MAX_PASSES {
        if pass == REUSING_PASSES {
            store.freelist().grow_only();
        }
        store.freelist().stage();
        if !store.freelist().has_changes() {
            return Ok(());
        }
        for (key, extents) in store.freelist().take_changed() {
            match extents {
                Some(extents) => insert(store, desc, &encode_key(key), &encode_value(&extents))?,
                None => remove(store, desc, &encode_key(key))?,
            };
        }
    }
    Err(BtreeError::Corrupted {
        page: desc.root,
        what: "free-page tree did not converge",
    })
}
