//! Building a tree bottom-up from entries in key order, every page written once and in
//! page-number order: the compacting copy streams a database this way.
//!
//! Pages get their numbers when they are finished, not when they are begun, so a page is
//! written the moment it gets its number and the output is strictly sequential:
//! - an overflow run is written as soon as its entry arrives (before the leaf that refers
//!   to it is finished);
//! - a leaf is finished when the next entry does not fit, and goes to its parent level with
//!   the shortest separator between its last key and the next leaf's first;
//! - a branch level holds its last full page back until the one after it is known, so that
//!   at the end a short last page can take an entry from it: no non-root branch is left with
//!   a single child, and every page off the right spine is full (far above the fill
//!   threshold).
//!
//! ```text
//! level 1:  [held: full, not yet written] [current: filling]
//! level 0:  leaf leaf leaf ... [current leaf]
//! output:   ovf leaf leaf ovf leaf branch leaf ...   (ascending page numbers)
//! ```

use nevar_page::{
    BranchMut, ChildRef, LeafMut, Limits, PageKind, PageNo, SLOT_LEN, TxnId, ValueRef,
    branch_cell_len, encode_leaf_cell, header_mut, overflow_pages, seal,
};

use crate::desc::TreeDesc;
use crate::error::{BtreeError, Result, corrupted};
use crate::split::shortest_separator;
use crate::value::{MAX_VALUE, fits_inline};

/// Where built pages go: numbers are handed out in ascending order and each page (or run) is
/// written once, right after its number.
pub trait PageSink {
    /// The page size of the target.
    fn page_size(&self) -> usize;
    /// The number of a new run of `count` pages. A run must not cross a segment end; pages
    /// the sink skips to avoid that are its own to account for.
    fn next_run(&mut self, count: u64) -> PageNo;
    /// Writes the sealed bytes of the run starting at `no`, the last number handed out.
    fn write(&mut self, no: PageNo, bytes: &[u8]) -> Result<()>;
}

/// Builds one tree from entries pushed in ascending key order.
pub struct TreeBuilder<'s, S: PageSink + ?Sized> {
    sink: &'s mut S,
    txn: TxnId,
    limits: Limits,
    desc: TreeDesc,
    /// The leaf being filled (its header's page number is set when it is finished).
    leaf: Vec<u8>,
    leaf_entries: usize,
    /// The separator before the current leaf (empty for the first).
    leaf_separator: Vec<u8>,
    /// The last key pushed.
    last_key: Option<Vec<u8>>,
    /// Branch levels, the leaves' parents first.
    levels: Vec<Level>,
}

/// One branch entry: the separator before the child (empty first in a page), and the child.
type Entry = (Vec<u8>, ChildRef);

/// A branch page being filled, with the separator that comes before it in its parent.
#[derive(Default)]
struct BranchPage {
    separator: Vec<u8>,
    entries: Vec<Entry>,
    /// Slot and cell bytes the entries take.
    used: usize,
}

#[derive(Default)]
struct Level {
    /// A full page whose successor has begun; written when that one fills or at the end.
    held: Option<BranchPage>,
    current: BranchPage,
}

impl BranchPage {
    fn starting(separator: Vec<u8>, child: ChildRef) -> BranchPage {
        BranchPage {
            separator,
            entries: vec![(Vec::new(), child)],
            used: SLOT_LEN + branch_cell_len(0),
        }
    }
}

impl<'s, S: PageSink + ?Sized> TreeBuilder<'s, S> {
    /// A builder writing pages of transaction `txn` to `sink`.
    pub fn new(sink: &'s mut S, txn: TxnId) -> TreeBuilder<'s, S> {
        let limits = Limits::new(sink.page_size());
        TreeBuilder {
            sink,
            txn,
            limits,
            desc: TreeDesc::default(),
            leaf: Vec::new(),
            leaf_entries: 0,
            leaf_separator: Vec::new(),
            last_key: None,
            levels: Vec::new(),
        }
    }

    /// Appends an entry; keys must ascend strictly.
    pub fn push(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if key.len() > self.limits.max_key {
            return Err(BtreeError::KeyTooLarge {
                len: key.len(),
                max: self.limits.max_key,
            });
        }
        if value.len() as u64 > MAX_VALUE {
            return Err(BtreeError::ValueTooLarge {
                len: value.len() as u64,
                max: MAX_VALUE,
            });
        }
        if self.last_key.as_deref().is_some_and(|last| last >= key) {
            return Err(corrupted(0, "bulk build given keys out of order"));
        }
        let stored = if fits_inline(&self.limits, key, value) {
            ValueRef::Inline(value)
        } else {
            self.write_overflow(value)?
        };
        let cell = encode_leaf_cell(key, stored);
        if self.leaf_entries > 0 && !self.leaf_mut()?.push_cell(&cell) {
            let last = self
                .last_key
                .take()
                .expect("a leaf with entries has a last key");
            self.finish_leaf()?;
            self.leaf_separator = shortest_separator(&last, key);
        }
        if self.leaf_entries == 0 {
            self.leaf = vec![0; self.limits.page_size];
            LeafMut::init(&mut self.leaf, 0, self.txn)?;
            if !self.leaf_mut()?.push_cell(&cell) {
                return Err(corrupted(0, "a leaf cell does not fit an empty page"));
            }
        }
        self.leaf_entries += 1;
        self.desc.entries += 1;
        self.last_key = Some(key.to_vec());
        Ok(())
    }

    fn leaf_mut(&mut self) -> Result<LeafMut<'_>> {
        Ok(LeafMut::new(&mut self.leaf, 0)?)
    }

    fn write_overflow(&mut self, value: &[u8]) -> Result<ValueRef<'static>> {
        let ps = self.limits.page_size;
        let count = overflow_pages(value.len() as u64, ps);
        let no = self.sink.next_run(count);
        let mut run = vec![0u8; count as usize * ps];
        let h = header_mut(&mut run, no)?;
        h.init(PageKind::Overflow, no, self.txn);
        h.run_pages = (count as u32).into();
        run[nevar_page::HEADER_LEN..][..value.len()].copy_from_slice(value);
        seal(&mut run, no)?;
        self.sink.write(no, &run)?;
        self.desc.overflow_pages += count;
        Ok(ValueRef::Overflow {
            page: no,
            txn: self.txn,
            len: value.len() as u32,
        })
    }

    /// Writes the current leaf and hands it to the level above.
    fn finish_leaf(&mut self) -> Result<()> {
        let no = self.sink.next_run(1);
        header_mut(&mut self.leaf, no)?.page_no = no.into();
        seal(&mut self.leaf, no)?;
        self.sink.write(no, &self.leaf)?;
        self.desc.leaf_pages += 1;
        self.leaf_entries = 0;
        let separator = std::mem::take(&mut self.leaf_separator);
        self.add_child(0, separator, self.child(no))
    }

    fn child(&self, page: PageNo) -> ChildRef {
        ChildRef {
            page,
            txn: self.txn,
        }
    }

    /// Adds `child`, preceded by `separator`, to branch level `level`.
    fn add_child(&mut self, level: usize, separator: Vec<u8>, child: ChildRef) -> Result<()> {
        if level == self.levels.len() {
            self.levels.push(Level::default());
        }
        let usable = self.limits.usable();
        let current = &mut self.levels[level].current;
        if current.entries.is_empty() {
            *current = BranchPage::starting(separator, child);
            return Ok(());
        }
        let cost = SLOT_LEN + branch_cell_len(separator.len());
        if current.used + cost <= usable {
            current.used += cost;
            current.entries.push((separator, child));
            return Ok(());
        }
        // Full: the held page is final now; the full one is held; the child starts a page.
        let full = std::mem::replace(current, BranchPage::starting(separator, child));
        if let Some(held) = self.levels[level].held.replace(full) {
            self.write_branch(level, held)?;
        }
        Ok(())
    }

    /// Writes a finished branch page and hands it to the level above.
    fn write_branch(&mut self, level: usize, page: BranchPage) -> Result<()> {
        let no = self.sink.next_run(1);
        let mut bytes = vec![0u8; self.limits.page_size];
        let mut branch = BranchMut::init(&mut bytes, no, self.txn)?;
        for (i, (key, child)) in page.entries.iter().enumerate() {
            if !branch.insert(i, *child, key) {
                return Err(corrupted(no, "branch entries do not fit their page"));
            }
        }
        seal(&mut bytes, no)?;
        self.sink.write(no, &bytes)?;
        self.desc.branch_pages += 1;
        self.add_child(level + 1, page.separator, self.child(no))
    }

    /// Writes every page still open and returns the tree's descriptor.
    pub fn finish(mut self) -> Result<TreeDesc> {
        if self.leaf_entries > 0 {
            self.finish_leaf()?;
        }
        let mut level = 0;
        while level < self.levels.len() {
            let Level { held, current } = std::mem::take(&mut self.levels[level]);
            let top = level + 1 == self.levels.len() && held.is_none();
            if top && current.entries.len() == 1 {
                // A lone child is the root.
                let child = current.entries[0].1;
                self.desc.root = child.page;
                self.desc.root_txn = child.txn;
                self.desc.depth = level as u32 + 1;
                self.levels.truncate(level);
                return Ok(self.desc);
            }
            let (held, current) = match held {
                Some(held) => balance(held, current),
                None => (None, current),
            };
            if let Some(held) = held {
                self.write_branch(level, held)?;
            }
            self.write_branch(level, current)?;
            level += 1;
        }
        // Empty tree: no page at all.
        Ok(self.desc)
    }
}

/// Gives a last page holding a single child the held page's last entry, so that both keep
/// at least two children (a held page is full, so it has many).
fn balance(mut held: BranchPage, mut current: BranchPage) -> (Option<BranchPage>, BranchPage) {
    if current.entries.len() >= 2 || held.entries.len() < 3 {
        return (Some(held), current);
    }
    let (moved_separator, moved_child) = held.entries.pop().expect("a held page is full");
    let first_separator = std::mem::replace(&mut current.separator, moved_separator);
    current.entries[0].0 = first_separator;
    current.entries.insert(0, (Vec::new(), moved_child));
    (Some(held), current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::PageStore;
    use crate::{Range, verify};
    use std::ops::Bound;

    const PS: usize = 4096;

    /// Pages in a Vec, in segments of `segment` pages; pages skipped at a segment end stay
    /// zero and are listed.
    struct VecSink {
        bytes: Vec<u8>,
        next: PageNo,
        segment: u64,
        skipped: Vec<(PageNo, u64)>,
    }

    impl VecSink {
        fn new(segment: u64) -> VecSink {
            VecSink {
                bytes: vec![0; 2 * PS],
                next: 2,
                segment,
                skipped: Vec::new(),
            }
        }
    }

    impl PageSink for VecSink {
        fn page_size(&self) -> usize {
            PS
        }
        fn next_run(&mut self, count: u64) -> PageNo {
            let end = (self.next / self.segment + 1) * self.segment;
            if self.next + count > end {
                self.skipped.push((self.next, end - self.next));
                self.bytes.resize(end as usize * PS, 0);
                self.next = end;
            }
            let no = self.next;
            self.next += count;
            no
        }
        fn write(&mut self, no: PageNo, bytes: &[u8]) -> Result<()> {
            assert_eq!(no as usize * PS, self.bytes.len(), "pages arrive in order");
            self.bytes.extend_from_slice(bytes);
            Ok(())
        }
    }

    impl PageStore for VecSink {
        fn page_size(&self) -> usize {
            PS
        }
        fn page(&self, no: PageNo) -> Result<&[u8]> {
            self.run(no, 1)
        }
        fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
            let (a, b) = (no as usize * PS, (no + count) as usize * PS);
            self.bytes.get(a..b).ok_or(corrupted(no, "out of range"))
        }
    }

    fn build(entries: &[(Vec<u8>, Vec<u8>)], segment: u64) -> (VecSink, TreeDesc) {
        let mut sink = VecSink::new(segment);
        let mut builder = TreeBuilder::new(&mut sink, 7);
        for (k, v) in entries {
            builder.push(k, v).unwrap();
        }
        let desc = builder.finish().unwrap();
        (sink, desc)
    }

    fn assert_holds(entries: &[(Vec<u8>, Vec<u8>)], segment: u64) -> VecSink {
        let (sink, desc) = build(entries, segment);
        let report = verify(&sink, &desc).unwrap();
        assert_eq!(
            report.counted,
            TreeDesc {
                root: desc.root,
                root_txn: desc.root_txn,
                ..desc
            }
        );
        let read: Vec<(Vec<u8>, Vec<u8>)> =
            Range::new(&sink, &desc, Bound::Unbounded, Bound::Unbounded)
                .unwrap()
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                .collect();
        assert_eq!(read, entries);
        // Every page written belongs to the tree, apart from the skipped ones.
        let owned: u64 = report.pages.iter().map(|p| p.1).sum::<u64>()
            + sink.skipped.iter().map(|p| p.1).sum::<u64>();
        assert_eq!(owned, sink.next - 2);
        sink
    }

    fn entries(
        n: u32,
        key_len: impl Fn(u32) -> usize,
        value_len: impl Fn(u32) -> usize,
    ) -> Vec<(Vec<u8>, Vec<u8>)> {
        (0..n)
            .map(|i| {
                let mut k = i.to_be_bytes().to_vec();
                k.resize(key_len(i).max(4), b'k');
                (k, vec![i as u8; value_len(i)])
            })
            .collect()
    }

    #[test]
    fn trees_of_every_height_verify_and_read_back() {
        assert_eq!(build(&[], 1 << 20).1, TreeDesc::default());
        for n in [1, 2, 50, 5_000, 100_000] {
            assert_holds(&entries(n, |_| 12, |i| (i % 50) as usize), 1 << 20);
        }
    }

    #[test]
    fn the_largest_keys_fill_branches_without_single_children() {
        // 1 KiB keys that differ only at the end, so separators are as long: three per
        // branch page, and every level's last page meets every count of children.
        for n in [3, 4, 5, 9, 13, 40, 161, 700] {
            let long: Vec<_> = (0..n)
                .map(|i: u32| {
                    (
                        [vec![b'k'; 1020], i.to_be_bytes().to_vec()].concat(),
                        Vec::new(),
                    )
                })
                .collect();
            let (sink, desc) = build(&long, 1 << 20);
            assert!(n < 40 || desc.depth >= 3, "{n} keys, depth {}", desc.depth);
            drop(sink);
            assert_holds(&long, 1 << 20);
        }
    }

    #[test]
    fn overflow_runs_never_cross_a_segment_end() {
        let sink = assert_holds(
            &entries(300, |_| 8, |i| if i % 7 == 0 { 9_000 } else { 40 }),
            8,
        );
        assert!(
            !sink.skipped.is_empty(),
            "the test should make the sink skip pages"
        );
    }

    #[test]
    fn keys_out_of_order_and_oversized_are_refused() {
        let mut sink = VecSink::new(1 << 20);
        let mut builder = TreeBuilder::new(&mut sink, 1);
        builder.push(b"b", b"").unwrap();
        assert!(builder.push(b"b", b"").is_err());
        assert!(builder.push(b"a", b"").is_err());
        assert!(matches!(
            builder.push(&[0; 2000], b""),
            Err(BtreeError::KeyTooLarge { .. })
        ));
    }
}
