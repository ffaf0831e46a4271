//! Branch pages: child pointers separated by keys.
//!
//! A branch is a slotted page (see `slotted.rs`) whose cells are:
//! ```text
//!  0              8              16        18
//!  +--------------+--------------+---------+-----------------+
//!  |    child     |  child_txn   | key_len |  separator key  |
//!  |     u64      |     u64      |   u16   |                 |
//!  +--------------+--------------+---------+-----------------+
//! ```
//! Entry `i` covers keys `k` with `key(i) <= k < key(i + 1)`. The key of entry 0 is stored
//! empty and stands for minus infinity. `child_txn` is the transaction that wrote the child;
//! a child whose header says otherwise is stale or torn.

use crate::error::{Result, corrupted};
use crate::header::{PageKind, PageNo, TxnId};
use crate::slotted::{Cells, Slotted, SlottedMut};

const CHILD_AT: usize = 0;
const CHILD_TXN_AT: usize = CHILD_AT + 8;
const KEY_LEN_AT: usize = CHILD_TXN_AT + 8;
const KEY_AT: usize = KEY_LEN_AT + 2;
/// Bytes of a branch cell before its key.
pub const BRANCH_CELL_FIXED: usize = KEY_AT;

/// Encoded length of a branch cell with a key of `key_len` bytes.
pub fn branch_cell_len(key_len: usize) -> usize {
    KEY_AT + key_len
}

/// A branch's pointer to a child: the page and the transaction that wrote it. A child page
/// whose header names another transaction is stale or torn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChildRef {
    /// The child page.
    pub page: PageNo,
    /// The transaction that wrote it.
    pub txn: TxnId,
}

/// Branch cells, for the slotted layout.
#[derive(Clone, Copy)]
pub(crate) struct BranchCells;

impl Cells for BranchCells {
    const KIND: PageKind = PageKind::Branch;
    const FIRST_KEYED: usize = 1;

    #[inline]
    fn key(cell: &[u8]) -> Option<&[u8]> {
        cell.get(KEY_AT..)
    }
    #[inline]
    fn cell_len(cell: &[u8]) -> Option<usize> {
        let len = cell.get(KEY_LEN_AT..KEY_AT)?;
        Some(KEY_AT + u16::from_le_bytes([len[0], len[1]]) as usize)
    }
}

/// Read access to a branch page.
#[derive(Clone, Copy)]
pub struct Branch<'a> {
    slots: Slotted<'a, BranchCells>,
}

impl<'a> Branch<'a> {
    /// Validates `page` as branch page `no`; a branch must have at least one child.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<Self> {
        let slots = Slotted::new(page, no)?;
        if slots.count == 0 {
            return Err(corrupted(no, "branch without children"));
        }
        Ok(Branch { slots })
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.slots.count
    }

    /// Always false: a valid branch has at least one child.
    pub fn is_empty(&self) -> bool {
        self.slots.count == 0
    }

    /// The page number this branch was read as.
    pub fn page_no(&self) -> PageNo {
        self.slots.no
    }

    /// Bytes used by slots and cells.
    pub fn used(&self) -> usize {
        self.slots.used()
    }

    /// Free bytes.
    pub fn free(&self) -> usize {
        self.slots.free()
    }

    /// The raw encoded cell `i`.
    pub fn cell(&self, i: usize) -> Result<&'a [u8]> {
        self.slots.cell(i)
    }

    /// The child of entry `i`.
    #[inline]
    pub fn child(&self, i: usize) -> Result<ChildRef> {
        let cell = self.slots.cell(i)?;
        let page = u64::from_le_bytes(cell[CHILD_AT..CHILD_TXN_AT].try_into().expect("8 bytes"));
        let txn = u64::from_le_bytes(cell[CHILD_TXN_AT..KEY_LEN_AT].try_into().expect("8 bytes"));
        Ok(ChildRef { page, txn })
    }

    /// Separator key of entry `i` (empty for entry 0).
    #[inline]
    pub fn key(&self, i: usize) -> Result<&'a [u8]> {
        self.slots.key(i)
    }

    /// Index of the child whose range holds `key`.
    #[inline]
    pub fn search(&self, key: &[u8]) -> Result<usize> {
        // The last entry whose separator is at most `key` (entry 0 when none is).
        Ok(match self.slots.search(key)? {
            Ok(i) => i,
            Err(i) => i.max(1) - 1,
        })
    }

    /// Checks every slot head and the prefix length against the separators.
    pub fn check_heads(&self) -> Result<()> {
        self.slots.check_heads()
    }
}

/// Write access to a branch page owned by the current write transaction; also its builder.
pub struct BranchMut<'a> {
    slots: SlottedMut<'a, BranchCells>,
}

impl<'a> BranchMut<'a> {
    /// Opens branch page `no` for changes, validating it first.
    pub fn new(page: &'a mut [u8], no: PageNo) -> Result<Self> {
        Ok(BranchMut {
            slots: SlottedMut::new(page, no)?,
        })
    }

    /// Formats `page` as an empty branch numbered `no`, written by `txn`.
    pub fn init(page: &'a mut [u8], no: PageNo, txn: TxnId) -> Result<Self> {
        Ok(BranchMut {
            slots: SlottedMut::init(page, no, txn)?,
        })
    }

    /// Read view of the page as it is now (a fresh page with no children is allowed here).
    pub fn view(&self) -> Branch<'_> {
        Branch {
            slots: self.slots.view(),
        }
    }

    /// Inserts an entry at slot `i`; `false` (nothing changed) if it does not fit.
    pub fn insert(&mut self, i: usize, child: ChildRef, key: &[u8]) -> bool {
        self.slots.insert(i, branch_cell_len(key.len()), |cell| {
            cell[CHILD_AT..CHILD_TXN_AT].copy_from_slice(&child.page.to_le_bytes());
            cell[CHILD_TXN_AT..KEY_LEN_AT].copy_from_slice(&child.txn.to_le_bytes());
            cell[KEY_LEN_AT..KEY_AT].copy_from_slice(&(key.len() as u16).to_le_bytes());
            cell[KEY_AT..].copy_from_slice(key);
        })
    }

    /// Points entry `i` at a new child (same separator): the size does not change.
    pub fn set_child(&mut self, i: usize, child: ChildRef) -> Result<()> {
        let off = {
            let view = self.slots.view();
            let cell = view.cell(i)?;
            cell.as_ptr() as usize - view.page.as_ptr() as usize
        };
        let page = &mut self.slots.page;
        page[off + CHILD_AT..off + CHILD_TXN_AT].copy_from_slice(&child.page.to_le_bytes());
        page[off + CHILD_TXN_AT..off + KEY_LEN_AT].copy_from_slice(&child.txn.to_le_bytes());
        Ok(())
    }

    /// Removes entry `i`.
    pub fn remove(&mut self, i: usize) -> Result<()> {
        self.slots.remove(i)
    }
}
