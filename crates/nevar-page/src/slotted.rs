//! The slotted layout shared by leaf and branch pages.
//!
//! ```text
//!  0            32            32 + 2*count         upper = page_size - cell_bytes   page_size
//!  +------------+-------------+--------------------+-------------------------------+
//!  | PageHeader | slot[count] |     free space     |  cells, growing down          |
//!  +------------+-------------+--------------------+-------------------------------+
//! ```
//! `slot[i]` is the u16 little-endian offset of cell `i`; slots are in key order, cells are in
//! whatever order they were written. Cells are kept packed: removing a cell moves the cells
//! below it up, so free space is always exactly `upper - (32 + 2*count)`.
//!
//! Validation at open checks the header fields against the page size; every cell access checks
//! its slot offset and, through the kind's cell-length function, that the cell lies inside the
//! cell area.

use std::marker::PhantomData;

use zerocopy::little_endian::U16;

use crate::error::{Result, corrupted};
use crate::header::{HEADER_LEN, PageKind, PageNo, header, header_mut};

/// Bytes per slot.
pub const SLOT_LEN: usize = 2;

/// The cell format of one page kind. A type parameter rather than a function pointer, so the
/// length decode inlines into every cell access (searches make several per page).
pub(crate) trait Cells: Copy {
    /// The page kind these cells live on.
    const KIND: PageKind;
    /// The length of the cell at the start of `rest`, if its length fields are readable.
    fn cell_len(rest: &[u8]) -> Option<usize>;
}

/// The size limits a page size implies for keys and cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The page size.
    pub page_size: usize,
    /// Longest key accepted: a quarter of the page.
    pub max_key: usize,
    /// Largest leaf cell stored inline; bigger values move to an overflow run. Chosen so that
    /// any two cells fit in one page, which makes every split possible.
    pub max_inline_cell: usize,
    /// A non-root page holding fewer cell bytes than this is underfull and gets merged or
    /// refilled from a sibling.
    pub min_fill: usize,
}

impl Limits {
    /// Limits for `page_size`.
    pub fn new(page_size: usize) -> Limits {
        let usable = page_size - HEADER_LEN;
        Limits {
            page_size,
            max_key: page_size / 4,
            max_inline_cell: usable / 2 - SLOT_LEN,
            min_fill: usable / 4,
        }
    }

    /// Bytes available for slots and cells.
    pub fn usable(&self) -> usize {
        self.page_size - HEADER_LEN
    }
}

/// Read access to a validated slotted page.
#[derive(Clone, Copy)]
pub(crate) struct Slotted<'a, C: Cells> {
    pub(crate) page: &'a [u8],
    pub(crate) no: PageNo,
    pub(crate) count: usize,
    pub(crate) upper: usize,
    cells: PhantomData<C>,
}

/// Checks the slotted header fields of `page` and returns (count, upper).
fn validate(page: &[u8], no: PageNo, kind: PageKind) -> Result<(usize, usize)> {
    let h = header(page, no)?;
    if h.kind != kind as u8 {
        return Err(corrupted(no, "unexpected page kind"));
    }
    if h.page_no.get() != no {
        return Err(corrupted(
            no,
            "page number in header does not match its position",
        ));
    }
    let count = h.count.get() as usize;
    let cell_bytes = h.cell_bytes.get() as usize;
    let lower = HEADER_LEN + count * SLOT_LEN;
    if cell_bytes > page.len() || lower > page.len() - cell_bytes {
        return Err(corrupted(no, "slot array overlaps cell area"));
    }
    Ok((count, page.len() - cell_bytes))
}

impl<'a, C: Cells> Slotted<'a, C> {
    #[inline]
    pub(crate) fn new(page: &'a [u8], no: PageNo) -> Result<Self> {
        let (count, upper) = validate(page, no, C::KIND)?;
        Ok(Slotted {
            page,
            no,
            count,
            upper,
            cells: PhantomData,
        })
    }

    /// The cell at slot `i`, exactly its length.
    #[inline]
    pub(crate) fn cell(&self, i: usize) -> Result<&'a [u8]> {
        if i >= self.count {
            return Err(corrupted(self.no, "slot index out of range"));
        }
        let at = HEADER_LEN + i * SLOT_LEN;
        let off = u16::from_le_bytes([self.page[at], self.page[at + 1]]) as usize;
        if off < self.upper || off >= self.page.len() {
            return Err(corrupted(self.no, "cell offset outside cell area"));
        }
        let rest = &self.page[off..];
        match C::cell_len(rest) {
            Some(len) if len <= rest.len() => Ok(&rest[..len]),
            _ => Err(corrupted(self.no, "cell runs past the end of the page")),
        }
    }

    /// Free bytes between the slot array and the cells.
    pub(crate) fn free(&self) -> usize {
        self.upper - (HEADER_LEN + self.count * SLOT_LEN)
    }

    /// Bytes used by slots and cells.
    pub(crate) fn used(&self) -> usize {
        self.page.len() - HEADER_LEN - self.free()
    }
}

/// Write access to a slotted page owned by the current write transaction.
pub(crate) struct SlottedMut<'a, C: Cells> {
    pub(crate) page: &'a mut [u8],
    pub(crate) no: PageNo,
    cells: PhantomData<C>,
}

impl<'a, C: Cells> SlottedMut<'a, C> {
    /// Opens an existing page for mutation, validating it like [`Slotted::new`].
    pub(crate) fn new(page: &'a mut [u8], no: PageNo) -> Result<Self> {
        validate(page, no, C::KIND)?;
        Ok(SlottedMut {
            page,
            no,
            cells: PhantomData,
        })
    }

    /// Formats `page` as an empty slotted page.
    pub(crate) fn init(page: &'a mut [u8], no: PageNo, txn: u64) -> Result<Self> {
        header_mut(page, no)?.init(C::KIND, no, txn);
        Ok(SlottedMut {
            page,
            no,
            cells: PhantomData,
        })
    }

    pub(crate) fn view(&self) -> Slotted<'_, C> {
        let h = header(self.page, self.no).expect("validated at construction");
        let count = h.count.get() as usize;
        let upper = self.page.len() - h.cell_bytes.get() as usize;
        Slotted {
            page: self.page,
            no: self.no,
            count,
            upper,
            cells: PhantomData,
        }
    }

    fn set_counts(&mut self, count: usize, upper: usize) {
        let len = self.page.len();
        let h = header_mut(self.page, self.no).expect("validated at construction");
        h.count = U16::new(count as u16);
        h.cell_bytes = U16::new((len - upper) as u16);
    }

    fn slot(&self, i: usize) -> usize {
        let at = HEADER_LEN + i * SLOT_LEN;
        u16::from_le_bytes([self.page[at], self.page[at + 1]]) as usize
    }

    fn set_slot(&mut self, i: usize, off: usize) {
        let at = HEADER_LEN + i * SLOT_LEN;
        self.page[at..at + SLOT_LEN].copy_from_slice(&(off as u16).to_le_bytes());
    }

    /// Reserves `len` bytes for a new cell at slot `i`, shifting later slots right. Returns the
    /// cell's bytes, or `None` when the page lacks room (nothing changes then).
    pub(crate) fn insert(&mut self, i: usize, len: usize) -> Option<&mut [u8]> {
        let v = self.view();
        let (count, upper) = (v.count, v.upper);
        if i > count || v.free() < len + SLOT_LEN {
            return None;
        }
        let off = upper - len;
        let slots = HEADER_LEN + i * SLOT_LEN..HEADER_LEN + count * SLOT_LEN;
        self.page
            .copy_within(slots, HEADER_LEN + (i + 1) * SLOT_LEN);
        self.set_slot(i, off);
        self.set_counts(count + 1, off);
        Some(&mut self.page[off..off + len])
    }

    /// Removes the cell at slot `i`, closing the gap it leaves in the cell area.
    pub(crate) fn remove(&mut self, i: usize) -> Result<()> {
        let v = self.view();
        let (count, upper) = (v.count, v.upper);
        let len = v.cell(i)?.len();
        let off = self.slot(i);
        // Cells below the removed one (lower offsets) move up by `len`.
        self.page.copy_within(upper..off, upper + len);
        self.page.copy_within(
            HEADER_LEN + (i + 1) * SLOT_LEN..HEADER_LEN + count * SLOT_LEN,
            HEADER_LEN + i * SLOT_LEN,
        );
        for j in 0..count - 1 {
            let o = self.slot(j);
            if o < off {
                self.set_slot(j, o + len);
            }
        }
        self.set_counts(count - 1, upper + len);
        Ok(())
    }

    /// Appends an already encoded cell after the last slot; `false` when it does not fit.
    pub(crate) fn push(&mut self, cell: &[u8]) -> bool {
        let count = self.view().count;
        match self.insert(count, cell.len()) {
            Some(dst) => {
                dst.copy_from_slice(cell);
                true
            }
            None => false,
        }
    }
}
