//! The slotted layout shared by leaf and branch pages.
//!
//! ```text
//!  0            32            32 + 6*count         upper = page_size - cell_bytes   page_size
//!  +------------+-------------+--------------------+-------------------------------+
//!  | PageHeader | slot[count] |     free space     |  cells, growing down          |
//!  +------------+-------------+--------------------+-------------------------------+
//!
//!  slot:  0        2                    6
//!         +--------+--------------------+
//!         | offset | head               |
//!         | u16 LE | u32 BE             |
//!         +--------+--------------------+
//! ```
//! `offset` locates cell `i`; slots are in key order, cells are in whatever order they were
//! written. Cells are kept packed: removing a cell moves the cells below it up, so free space
//! is always exactly `upper - (32 + 6*count)`.
//!
//! **Heads and the page prefix.** The header's `prefix_len` is a length `p` such that every
//! keyed entry's key starts with the same `p` bytes (those of the first keyed entry; branch
//! entry 0 stands for minus infinity and is not keyed). A slot's `head` is the 4 bytes of its
//! key after those `p`, big-endian, zero-padded, skipping the page's head gap if it has one
//! (bytes no two keys differ in, `head.rs`). Heads order like their keys (a smaller head
//! means a smaller key; equal heads say nothing), so a search runs over the slot array,
//! reading cells only inside the run of heads equal to the probe's (binary-searched by whole
//! keys): one or two cache lines of slots instead of a line per probe. Keys stay whole in
//! their cells (reads are zero-copy), so `p` costs nothing to store. Inserting at either end
//! recomputes `p` as the common prefix of the first and last keyed keys (all keys in between
//! share it) and, when it changed, the gap and every head, as does an insert whose key differs
//! inside the gap; removals keep both (still true of the rest). The search confirms its answer
//! with whole keys (see [`Slotted::search`]), so a damaged head, prefix length or gap is an
//! error naming the page, never a wrong position.
//!
//! Validation at open checks the header fields against the page size; every cell access checks
//! its slot offset and, through the kind's cell-length function, that the cell lies inside the
//! cell area.

use std::cmp::Ordering;
use std::marker::PhantomData;

use zerocopy::little_endian::U16;

use crate::error::{PageError, Result, corrupted};
use crate::head::{HeadShape, choose, common_prefix};
use crate::header::{HEADER_LEN, PageKind, PageNo, header, header_mut};
use crate::order::compare_keys;

/// Bytes per slot: the cell offset and the key head.
pub const SLOT_LEN: usize = 6;

/// The cell format of one page kind. A type parameter rather than a function pointer, so the
/// length decode inlines into every cell access (searches make several per page).
pub(crate) trait Cells: Copy {
    /// The page kind these cells live on.
    const KIND: PageKind;
    /// The length of the cell at the start of `rest`, if its length fields are readable.
    fn cell_len(rest: &[u8]) -> Option<usize>;
    /// The key inside a whole cell, if its fields are readable.
    fn key(cell: &[u8]) -> Option<&[u8]>;
    /// The first slot whose key counts (branch entry 0 stands for minus infinity).
    const FIRST_KEYED: usize;
}

/// The head stored in a slot.
#[inline]
fn slot_head(slot: &[u8; SLOT_LEN]) -> u32 {
    u32::from_be_bytes([slot[2], slot[3], slot[4], slot[5]])
}

/// The cell offset stored in a slot.
#[inline]
fn slot_offset(slot: &[u8; SLOT_LEN]) -> usize {
    u16::from_le_bytes([slot[0], slot[1]]) as usize
}

/// The `count` slots after the header (the caller has checked they lie inside the page).
#[inline]
fn slot_array(page: &[u8], count: usize) -> &[[u8; SLOT_LEN]] {
    page[HEADER_LEN..HEADER_LEN + count * SLOT_LEN]
        .as_chunks::<SLOT_LEN>()
        .0
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
    /// How the slot heads are cut from the keys (prefix and gap, see `head.rs`).
    pub(crate) shape: HeadShape,
    slots: &'a [[u8; SLOT_LEN]],
    cells: PhantomData<C>,
}

/// Checks the slotted header fields of `page` and returns (count, upper, head shape).
#[inline]
fn validate(page: &[u8], no: PageNo, kind: PageKind) -> Result<(usize, usize, HeadShape)> {
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
    let shape = HeadShape::decode(h.prefix_len.get(), h.head_gap);
    Ok((count, page.len() - cell_bytes, shape))
}

impl<'a, C: Cells> Slotted<'a, C> {
    #[inline]
    pub(crate) fn new(page: &'a [u8], no: PageNo) -> Result<Self> {
        let (count, upper, shape) = validate(page, no, C::KIND)?;
        Ok(Slotted {
            page,
            no,
            count,
            upper,
            shape,
            slots: slot_array(page, count),
            cells: PhantomData,
        })
    }

    /// The head stored in slot `i` (`i < count`).
    #[inline]
    fn head(&self, i: usize) -> u32 {
        slot_head(&self.slots[i])
    }

    /// The key of the cell at slot `i`.
    #[inline]
    pub(crate) fn key(&self, i: usize) -> Result<&'a [u8]> {
        C::key(self.cell(i)?).ok_or(corrupted(self.no, "cell key runs past the cell"))
    }

    /// The page prefix: the first keyed key's first `prefix_len` bytes (there is a keyed key).
    fn prefix(&self) -> Result<&'a [u8]> {
        self.key(C::FIRST_KEYED)?
            .get(..self.shape.prefix())
            .ok_or(corrupted(self.no, "prefix length beyond the first key"))
    }

    /// Binary search over the keyed slots: `Ok(i)` if slot `i` holds `key`, `Err(i)` for
    /// where it would go.
    ///
    /// Heads route the search and whole keys confirm it: an exact match compares the whole
    /// key, an insertion point is checked against the keys on both sides. The page prefix is
    /// not read on this path. A key that does not start with it sorts before or after every
    /// key of the page, and its head means nothing here, nor does the head of a key without
    /// the page's gap bytes; the confirmation then fails and [`Self::unrouted`] places the
    /// key by the prefix or by whole keys. Only when the key has both do the heads, the prefix
    /// length or the gap disagree with the keys: damage.
    #[inline]
    pub(crate) fn search(&self, key: &[u8]) -> Result<std::result::Result<usize, usize>> {
        let (first, count) = (C::FIRST_KEYED, self.count);
        if first >= count {
            return Ok(Err(first.min(count)));
        }
        match self.search_heads(key)? {
            Some(found) => Ok(found),
            None => self.unrouted(key),
        }
    }

    /// The search over heads, or `None` when the keys around its answer refute it.
    ///
    /// The heads give the run of slots whose head equals the probe's; a binary search over
    /// that run's whole keys finds the key or its place (composite keys give long runs: a
    /// branch over a few tenants has one head per tenant). Each neighbour of the answer
    /// inside the run was compared whole on the way; one at the run's edge is compared now.
    #[inline]
    fn search_heads(&self, key: &[u8]) -> Result<Option<std::result::Result<usize, usize>>> {
        let (first, count) = (C::FIRST_KEYED, self.count);
        let want = self.shape.head(key);
        let run_start =
            first + self.slots[first..count].partition_point(|slot| slot_head(slot) < want);
        let run_end = self.run_end(run_start, want);
        let (mut lo, mut hi) = (run_start, run_end);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match compare_keys(self.key(mid)?, key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Equal => return Ok(Some(Ok(mid))),
                Ordering::Greater => hi = mid,
            }
        }
        let left_fits = lo > run_start || lo == first || self.smaller(lo - 1, key)?;
        let right_fits =
            lo < run_end || lo == count || compare_keys(self.key(lo)?, key) == Ordering::Greater;
        Ok((left_fits && right_fits).then_some(Err(lo)))
    }

    /// The end of the run of slots from `start` whose heads equal `want`: galloping, so a
    /// run of one (the usual case for random keys) costs one more head.
    #[inline]
    fn run_end(&self, start: usize, want: u32) -> usize {
        let count = self.count;
        if start == count || self.head(start) != want {
            return start;
        }
        let (mut known, mut step) = (start, 1);
        while known + step < count && self.head(known + step) == want {
            known += step;
            step *= 2;
        }
        let bound = (known + step).min(count);
        known + 1 + self.slots[known + 1..bound].partition_point(|slot| slot_head(slot) == want)
    }

    /// Whether the key of slot `i` sorts before `key`.
    #[inline]
    fn smaller(&self, i: usize, key: &[u8]) -> Result<bool> {
        Ok(compare_keys(self.key(i)?, key) == Ordering::Less)
    }

    /// Places a key the heads could not: one outside the page prefix goes before or after
    /// every key, and one without the page's gap bytes is placed by whole keys alone.
    /// Anything else means the heads, the prefix length or the gap are damaged.
    #[cold]
    fn unrouted(&self, key: &[u8]) -> Result<std::result::Result<usize, usize>> {
        let (first, count, p) = (C::FIRST_KEYED, self.count, self.shape.prefix());
        let (at, beyond) = match compare_keys(&key[..p.min(key.len())], self.prefix()?) {
            Ordering::Less => (first, first),
            Ordering::Equal if key.len() < p => (first, first),
            Ordering::Greater => (count, count - 1),
            Ordering::Equal if self.agrees_in_gap(key, None)? => return Err(self.disagree()),
            Ordering::Equal => return self.search_keys(key),
        };
        // The key sorts before the first key or after the last one; check it against that key.
        let order = compare_keys(self.key(beyond)?, key);
        let fits = if at == first {
            order == Ordering::Greater
        } else {
            order == Ordering::Less
        };
        if fits {
            Ok(Err(at))
        } else {
            Err(self.disagree())
        }
    }

    /// Whether `key` agrees inside the head gap with every keyed key other than slot `skip`:
    /// with the one that reaches furthest into the gap (all of them agree with it there). A
    /// neighbour of `skip` that holds the whole gap is that key, found without a scan.
    fn agrees_in_gap(&self, key: &[u8], skip: Option<usize>) -> Result<bool> {
        let shape = self.shape;
        if shape.gap() == 0 {
            return Ok(true);
        }
        let keyed = C::FIRST_KEYED..self.count;
        let neighbours = skip.map_or([None, None], |i| [i.checked_sub(1), Some(i + 1)]);
        for j in neighbours
            .into_iter()
            .flatten()
            .filter(|j| keyed.contains(j))
        {
            let theirs = self.key(j)?;
            if shape.in_gap(theirs).len() == shape.gap() {
                return Ok(shape.agree_in_gap(key, theirs));
            }
        }
        Ok(shape.agree_in_gap(key, self.gap_model(skip)?))
    }

    /// The keyed key other than slot `skip` that reaches furthest into the head gap (empty
    /// when none reaches it): keys that do not differ inside the gap all agree with it there.
    fn gap_model(&self, skip: Option<usize>) -> Result<&'a [u8]> {
        let shape = self.shape;
        let mut model: &[u8] = &[];
        for j in (C::FIRST_KEYED..self.count).filter(|&j| Some(j) != skip) {
            let theirs = self.key(j)?;
            if shape.in_gap(theirs).len() > shape.in_gap(model).len() {
                model = theirs;
            }
        }
        Ok(model)
    }

    /// A binary search by whole keys alone, for a key whose head means nothing here.
    fn search_keys(&self, key: &[u8]) -> Result<std::result::Result<usize, usize>> {
        let (mut lo, mut hi) = (C::FIRST_KEYED, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match compare_keys(self.key(mid)?, key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Equal => return Ok(Ok(mid)),
                Ordering::Greater => hi = mid,
            }
        }
        Ok(Err(lo))
    }

    fn disagree(&self) -> PageError {
        corrupted(
            self.no,
            "slot heads, prefix length or head gap disagree with the keys",
        )
    }

    /// Checks every head, the prefix length and the gap against the keys (for `verify`).
    pub(crate) fn check_heads(&self) -> Result<()> {
        let first = C::FIRST_KEYED;
        if first >= self.count {
            return Ok(());
        }
        let shape = self.shape;
        if !shape.is_canonical() {
            return Err(corrupted(
                self.no,
                "head gap byte with a lead or a gap alone",
            ));
        }
        let prefix = self.prefix()?;
        let model = self.gap_model(None)?;
        for i in first..self.count {
            let key = self.key(i)?;
            if !key.starts_with(prefix) {
                return Err(corrupted(self.no, "a key does not share the page prefix"));
            }
            if !shape.agree_in_gap(key, model) {
                return Err(corrupted(self.no, "two keys differ inside the head gap"));
            }
            if self.head(i) != shape.head(key) {
                return Err(corrupted(self.no, "a slot head differs from its key"));
            }
        }
        Ok(())
    }

    /// The cell at slot `i`, exactly its length.
    #[inline]
    pub(crate) fn cell(&self, i: usize) -> Result<&'a [u8]> {
        let Some(slot) = self.slots.get(i) else {
            return Err(corrupted(self.no, "slot index out of range"));
        };
        let off = slot_offset(slot);
        if !self.in_cell_area(off) {
            return Err(corrupted(self.no, "cell offset outside cell area"));
        }
        let rest = &self.page[off..];
        match C::cell_len(rest) {
            Some(len) if len <= rest.len() => Ok(&rest[..len]),
            _ => Err(corrupted(self.no, "cell runs past the end of the page")),
        }
    }

    /// The page from cell `i`'s first byte on, without decoding the cell: `None` for a slot
    /// out of range or an offset outside the cell area. For hints only (a prefetch); reads
    /// go through [`Self::cell`], which checks the cell's length.
    #[inline]
    pub(crate) fn cell_start(&self, i: usize) -> Option<&'a [u8]> {
        let off = slot_offset(self.slots.get(i)?);
        self.in_cell_area(off).then(|| &self.page[off..])
    }

    /// Whether a cell may start at `off`: inside the cell area, below the page's end.
    #[inline]
    fn in_cell_area(&self, off: usize) -> bool {
        off >= self.upper && off < self.page.len()
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

    #[inline]
    pub(crate) fn view(&self) -> Slotted<'_, C> {
        let h = header(self.page, self.no).expect("validated at construction");
        let count = h.count.get() as usize;
        let upper = self.page.len() - h.cell_bytes.get() as usize;
        let shape = HeadShape::decode(h.prefix_len.get(), h.head_gap);
        Slotted {
            page: self.page,
            no: self.no,
            count,
            upper,
            shape,
            slots: slot_array(self.page, count),
            cells: PhantomData,
        }
    }

    fn set_head(&mut self, i: usize, head: u32) {
        let at = HEADER_LEN + i * SLOT_LEN + 2;
        self.page[at..at + 4].copy_from_slice(&head.to_be_bytes());
    }

    /// The prefix every keyed key shares: the common prefix of the first and last keyed keys
    /// (all keys in between share it). `None` without a keyed key or with an unreadable one.
    fn shared_prefix(&self) -> Option<usize> {
        let v = self.view();
        let last = v.count.checked_sub(1)?;
        let (a, b) = (v.key(C::FIRST_KEYED).ok()?, v.key(last).ok()?);
        Some(common_prefix(a, b).min(u16::MAX as usize))
    }

    /// The head shape for the page's keys when they share `prefix` bytes (`head::choose`).
    /// An unreadable key (damage) counts as empty; its slot's head becomes 0 and
    /// `check_heads` fails on it.
    fn shape_for(&self, prefix: usize) -> HeadShape {
        let v = self.view();
        choose(
            prefix,
            (C::FIRST_KEYED..v.count).map(move |j| v.key(j).unwrap_or(&[])),
        )
    }

    /// Sets the head shape and every keyed slot's head to match it.
    fn set_shape(&mut self, shape: HeadShape) {
        let h = header_mut(self.page, self.no).expect("validated at construction");
        h.prefix_len = U16::new(shape.prefix_len());
        h.head_gap = shape.gap_byte();
        for j in C::FIRST_KEYED..self.view().count {
            let head = self.view().key(j).map_or(0, |k| shape.head(k));
            self.set_head(j, head);
        }
    }

    /// After slot `i` got a new cell: its head; and a new shape, with every head again, when
    /// the key went to either end and the shared prefix changed, or when it lacks the page's
    /// gap bytes (compared with a neighbour's, which the insert's search has just read).
    fn settle_insert(&mut self, i: usize) {
        let v = self.view();
        let (shape, count) = (v.shape, v.count);
        let at_an_end = i <= C::FIRST_KEYED || i + 1 == count;
        let prefix = if at_an_end {
            self.shared_prefix().unwrap_or(shape.prefix())
        } else {
            shape.prefix()
        };
        let key = v.key(i).ok();
        let keeps_gap =
            shape.gap() == 0 || key.is_some_and(|k| v.agrees_in_gap(k, Some(i)).unwrap_or(false));
        if prefix != shape.prefix() || !keeps_gap {
            self.set_shape(self.shape_for(prefix));
        } else {
            self.set_head(i, key.map_or(0, |k| shape.head(k)));
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
        self.page[at..at + 2].copy_from_slice(&(off as u16).to_le_bytes());
    }

    /// Places a new cell of `len` bytes at slot `i`, shifting later slots right; `fill`
    /// writes the cell. `false` when the page lacks room (nothing changes then).
    pub(crate) fn insert(&mut self, i: usize, len: usize, fill: impl FnOnce(&mut [u8])) -> bool {
        let v = self.view();
        let (count, upper) = (v.count, v.upper);
        if i > count || v.free() < len + SLOT_LEN {
            return false;
        }
        let off = upper - len;
        let slots = HEADER_LEN + i * SLOT_LEN..HEADER_LEN + count * SLOT_LEN;
        self.page
            .copy_within(slots, HEADER_LEN + (i + 1) * SLOT_LEN);
        self.set_slot(i, off);
        self.set_counts(count + 1, off);
        fill(&mut self.page[off..off + len]);
        self.settle_insert(i);
        true
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
        let slots = &mut self.page[HEADER_LEN..HEADER_LEN + (count - 1) * SLOT_LEN];
        for slot in slots.as_chunks_mut::<SLOT_LEN>().0 {
            let o = slot_offset(slot);
            if o < off {
                slot[..2].copy_from_slice(&((o + len) as u16).to_le_bytes());
            }
        }
        self.set_counts(count - 1, upper + len);
        if count - 1 <= C::FIRST_KEYED {
            let h = header_mut(self.page, self.no).expect("validated at construction");
            h.prefix_len = U16::new(0);
            h.head_gap = HeadShape::plain(0).gap_byte();
        }
        Ok(())
    }

    /// Fills an empty page with `cells`, in slot order, then sets the prefix length and every
    /// head once: pushing them one at a time would recompute the prefix at every push (each
    /// goes to an end). `false`, with the page unchanged, when they do not fit.
    pub(crate) fn fill(&mut self, cells: &[&[u8]]) -> bool {
        let v = self.view();
        debug_assert_eq!(v.count, 0, "fill takes an empty page");
        let need: usize = cells.iter().map(|c| c.len() + SLOT_LEN).sum();
        if v.count != 0 || need > v.free() {
            return false;
        }
        let mut upper = self.page.len();
        for (i, cell) in cells.iter().enumerate() {
            upper -= cell.len();
            self.page[upper..upper + cell.len()].copy_from_slice(cell);
            self.set_slot(i, upper);
        }
        self.set_counts(cells.len(), upper);
        self.set_shape(self.shape_for(self.shared_prefix().unwrap_or(0)));
        true
    }

    /// Appends an already encoded cell after the last slot; `false` when it does not fit.
    pub(crate) fn push(&mut self, cell: &[u8]) -> bool {
        let count = self.view().count;
        self.insert(count, cell.len(), |dst| dst.copy_from_slice(cell))
    }
}
