//! Leaf pages: keys with inline values or references to overflow runs.
//!
//! A leaf is a slotted page (see `slotted.rs`) whose cells are:
//! ```text
//!  0         2       3          7                7 + key_len
//!  +---------+-------+----------+----------------+-------------------------------------------+
//!  | key_len | flags | val_len  |      key       | inline: value bytes (val_len)             |
//!  |   u16   |  u8   |   u32    |                | overflow: first_page u64, run_txn u64     |
//!  +---------+-------+----------+----------------+-------------------------------------------+
//! ```
//! `flags` bit 0 set means the value lives in an overflow run starting at `first_page`,
//! written by transaction `run_txn`, holding `val_len` bytes.

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, IntoBytes};

use crate::error::{Result, corrupted};
use crate::header::{PageKind, PageNo, TxnId};
use crate::slotted::{Cells, Slotted, SlottedMut};

const KEY_LEN_AT: usize = 0;
const FLAGS_AT: usize = KEY_LEN_AT + 2;
const VAL_LEN_AT: usize = FLAGS_AT + 1;
const KEY_AT: usize = VAL_LEN_AT + 4;
/// Bytes of a leaf cell before its key.
pub const LEAF_CELL_FIXED: usize = KEY_AT;
/// Bytes of an overflow reference stored in place of an inline value.
pub const OVERFLOW_REF_LEN: usize = 16;
const FLAG_OVERFLOW: u8 = 1;

/// The value half of a leaf cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafValue<'a> {
    /// The value's bytes, stored in the leaf.
    Inline(&'a [u8]),
    /// The value lives in an overflow run.
    Overflow {
        /// First page of the run.
        page: PageNo,
        /// Transaction that wrote the run.
        txn: TxnId,
        /// Value length in bytes.
        len: u64,
    },
}

/// What to store as a cell's value when building one.
#[derive(Debug, Clone, Copy)]
pub enum ValueRef<'a> {
    /// Store these bytes inline.
    Inline(&'a [u8]),
    /// Store a reference to an overflow run.
    Overflow {
        /// First page of the run.
        page: PageNo,
        /// Transaction that wrote the run.
        txn: TxnId,
        /// Value length in bytes.
        len: u32,
    },
}

/// Encoded length of a leaf cell with this key and value.
pub fn leaf_cell_len(key_len: usize, value: &ValueRef<'_>) -> usize {
    KEY_AT
        + key_len
        + match value {
            ValueRef::Inline(v) => v.len(),
            ValueRef::Overflow { .. } => OVERFLOW_REF_LEN,
        }
}

/// Reads the length of the leaf cell at the start of `cell`.
/// Leaf cells, for the slotted layout.
#[derive(Clone, Copy)]
pub(crate) struct LeafCells;

impl Cells for LeafCells {
    const KIND: PageKind = PageKind::Leaf;
    const FIRST_KEYED: usize = 0;

    #[inline]
    fn key(cell: &[u8]) -> Option<&[u8]> {
        let len = u16::from_le_bytes([*cell.first()?, *cell.get(1)?]) as usize;
        cell.get(KEY_AT..KEY_AT + len)
    }

    #[inline]
    fn cell_len(cell: &[u8]) -> Option<usize> {
        let head = cell.get(..KEY_AT)?;
        let key_len = u16::from_le_bytes([head[KEY_LEN_AT], head[KEY_LEN_AT + 1]]) as usize;
        let val_len = u32::from_le_bytes(head[VAL_LEN_AT..KEY_AT].try_into().ok()?) as usize;
        let value = if head[FLAGS_AT] & FLAG_OVERFLOW != 0 {
            OVERFLOW_REF_LEN
        } else {
            val_len
        };
        KEY_AT.checked_add(key_len)?.checked_add(value)
    }
}

/// Read access to a leaf page.
#[derive(Clone, Copy)]
pub struct Leaf<'a> {
    slots: Slotted<'a, LeafCells>,
}

impl<'a> Leaf<'a> {
    /// Validates `page` as leaf page `no`.
    pub fn new(page: &'a [u8], no: PageNo) -> Result<Self> {
        Ok(Leaf {
            slots: Slotted::new(page, no)?,
        })
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.slots.count
    }

    /// Whether the leaf holds no entries.
    pub fn is_empty(&self) -> bool {
        self.slots.count == 0
    }

    /// The page number this leaf was read as.
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

    /// The raw encoded cell `i` (used when moving cells between pages).
    pub fn cell(&self, i: usize) -> Result<&'a [u8]> {
        self.slots.cell(i)
    }

    /// The page from entry `i`'s cell on, undecoded, for a prefetch hint; `None` if slot `i`
    /// does not point into the cell area. Reads use [`Self::entry`], which checks the cell.
    #[inline]
    pub fn cell_start(&self, i: usize) -> Option<&'a [u8]> {
        self.slots.cell_start(i)
    }

    /// Key of entry `i`.
    #[inline]
    pub fn key(&self, i: usize) -> Result<&'a [u8]> {
        self.slots.key(i)
    }

    /// Value of entry `i`.
    pub fn value(&self, i: usize) -> Result<LeafValue<'a>> {
        Ok(self.entry(i)?.1)
    }

    /// Key and value of entry `i`, decoding the cell once (a cursor step wants both).
    #[inline]
    pub fn entry(&self, i: usize) -> Result<(&'a [u8], LeafValue<'a>)> {
        let cell = self.slots.cell(i)?;
        // `cell` is exactly the length `LeafCells::cell_len` decodes from these same fields,
        // so the key and the value (or overflow reference) lie inside it.
        let key_len = u16::from_le_bytes([cell[KEY_LEN_AT], cell[KEY_LEN_AT + 1]]) as usize;
        let val_len = u32::from_le_bytes(cell[VAL_LEN_AT..KEY_AT].try_into().expect("4 bytes"));
        let (key, rest) = cell[KEY_AT..].split_at(key_len);
        if cell[FLAGS_AT] & FLAG_OVERFLOW == 0 {
            return Ok((key, LeafValue::Inline(rest)));
        }
        let (page, rest) = U64::read_from_prefix(rest)
            .map_err(|_| corrupted(self.slots.no, "short overflow reference"))?;
        let (txn, _) = U64::read_from_prefix(rest)
            .map_err(|_| corrupted(self.slots.no, "short overflow reference"))?;
        let value = LeafValue::Overflow {
            page: page.get(),
            txn: txn.get(),
            len: u64::from(val_len),
        };
        Ok((key, value))
    }

    /// Binary search: `Ok(i)` if entry `i` has `key`, `Err(i)` for where it would go.
    #[inline]
    pub fn search(&self, key: &[u8]) -> Result<std::result::Result<usize, usize>> {
        self.slots.search(key)
    }

    /// Checks every slot head and the prefix length against the keys.
    pub fn check_heads(&self) -> Result<()> {
        self.slots.check_heads()
    }
}

/// Write access to a leaf page owned by the current write transaction; also its builder.
pub struct LeafMut<'a> {
    slots: SlottedMut<'a, LeafCells>,
}

impl<'a> LeafMut<'a> {
    /// Opens leaf page `no` for changes, validating it first.
    pub fn new(page: &'a mut [u8], no: PageNo) -> Result<Self> {
        Ok(LeafMut {
            slots: SlottedMut::new(page, no)?,
        })
    }

    /// Formats `page` as an empty leaf numbered `no`, written by `txn`.
    pub fn init(page: &'a mut [u8], no: PageNo, txn: TxnId) -> Result<Self> {
        Ok(LeafMut {
            slots: SlottedMut::init(page, no, txn)?,
        })
    }

    /// Read view of the page as it is now.
    pub fn view(&self) -> Leaf<'_> {
        Leaf {
            slots: self.slots.view(),
        }
    }

    /// Inserts an entry at slot `i`; `false` (nothing changed) if it does not fit.
    pub fn insert(&mut self, i: usize, key: &[u8], value: ValueRef<'_>) -> bool {
        let len = leaf_cell_len(key.len(), &value);
        self.slots.insert(i, len, |cell| encode(cell, key, value))
    }

    /// Fills this empty leaf with encoded cells taken from other leaves, in order; `false`
    /// (nothing written) if they do not fit.
    pub fn fill_cells(&mut self, cells: &[&[u8]]) -> bool {
        self.slots.fill(cells)
    }

    /// Appends an encoded cell taken from another leaf; `false` if it does not fit.
    pub fn push_cell(&mut self, cell: &[u8]) -> bool {
        self.slots.push(cell)
    }

    /// Removes entry `i`.
    pub fn remove(&mut self, i: usize) -> Result<()> {
        self.slots.remove(i)
    }
}

fn encode(cell: &mut [u8], key: &[u8], value: ValueRef<'_>) {
    cell[KEY_LEN_AT..FLAGS_AT].copy_from_slice(&(key.len() as u16).to_le_bytes());
    cell[KEY_AT..KEY_AT + key.len()].copy_from_slice(key);
    let (head, rest) = cell.split_at_mut(KEY_AT + key.len());
    match value {
        ValueRef::Inline(v) => {
            head[FLAGS_AT] = 0;
            head[VAL_LEN_AT..KEY_AT].copy_from_slice(U32::new(v.len() as u32).as_bytes());
            rest.copy_from_slice(v);
        }
        ValueRef::Overflow { page, txn, len } => {
            head[FLAGS_AT] = FLAG_OVERFLOW;
            head[VAL_LEN_AT..KEY_AT].copy_from_slice(U32::new(len).as_bytes());
            rest[..8].copy_from_slice(&page.to_le_bytes());
            rest[8..16].copy_from_slice(&txn.to_le_bytes());
        }
    }
}

/// Encodes a leaf cell into a new buffer (used when a cell must be placed by a split).
pub fn encode_leaf_cell(key: &[u8], value: ValueRef<'_>) -> Vec<u8> {
    let mut cell = vec![0u8; leaf_cell_len(key.len(), &value)];
    encode(&mut cell, key, value);
    cell
}
