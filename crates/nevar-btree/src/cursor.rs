//! Range cursors, forward and backward.

use std::ops::Bound;

use nevar_page::{Branch, Leaf, compare_keys};

use crate::desc::TreeDesc;
use crate::error::{Result, corrupted};
use crate::node::{Node, load, load_root};
use crate::store::PageStore;
use crate::value::read_entry;

/// Cell read-ahead. A scan reads its cells one after another, each in its own cache line of
/// the page (cells lie in write order, not key order); loaded one by one, every step waits for
/// its own miss, while prefetched together the misses overlap. A cursor therefore asks the
/// store to prefetch the cells ahead of it in its leaf in batches: a small one where it lands
/// (the search just read the slots, and a cursor may stop after one entry), then
/// [`READ_AHEAD`] at a time. The first batch that ends within [`READ_AHEAD`] positions of the
/// leaf's edge (so the batch after it would reach the edge) also prefetches the start of the
/// next leaf, one batch before the crossing, which is the time that page's misses need.
/// Measured in `docs/performance.md` ("Range reads", "The next leaf one batch earlier").
const FIRST_READ_AHEAD: isize = 4;
/// Cells prefetched per batch once a cursor moves (see [`FIRST_READ_AHEAD`]).
const READ_AHEAD: isize = 8;

/// One end of a range: the path from the root to a leaf position.
struct Cursor<'a> {
    /// Branches on the path with the index taken in each, root first.
    path: Vec<(Branch<'a>, usize)>,
    leaf: Leaf<'a>,
    /// Position in `leaf`; may be `leaf.len()` (past the end) or -1 (before the start).
    idx: isize,
    /// Depth of the tree (level of the root).
    depth: u32,
    /// The first position in the direction of travel whose cell has not been prefetched; the
    /// next read-ahead batch starts when `idx` reaches it.
    ahead: isize,
    /// Whether the leaf after this one in the direction of travel has been prefetched.
    next_leaf_asked: bool,
}

/// Where to place a cursor in its leaf after descending.
#[derive(Clone, Copy)]
enum Seek<'k> {
    First,
    Last,
    /// First entry with key >= k (or > k when `exclusive`).
    Ge(&'k [u8], bool),
    /// Last entry with key <= k (or < k when `exclusive`).
    Le(&'k [u8], bool),
}

impl<'a> Cursor<'a> {
    fn seek<S: PageStore + ?Sized>(
        store: &'a S,
        desc: &TreeDesc,
        seek: Seek<'_>,
    ) -> Result<Option<Cursor<'a>>> {
        let Some(mut node) = load_root(store, desc)? else {
            return Ok(None);
        };
        let mut level = desc.depth;
        let mut path = Vec::with_capacity(desc.depth as usize);
        let leaf = loop {
            match node {
                Node::Leaf(leaf) => break leaf,
                Node::Branch(branch) => {
                    let i = match seek {
                        Seek::First => 0,
                        Seek::Last => branch.len() - 1,
                        Seek::Ge(k, _) | Seek::Le(k, _) => branch.search(k)?,
                    };
                    let child = branch.child(i)?;
                    path.push((branch, i));
                    level -= 1;
                    node = load(store, child, level)?;
                }
            }
        };
        let idx = match seek {
            Seek::First => 0,
            Seek::Last => leaf.len() as isize - 1,
            Seek::Ge(k, excl) => match leaf.search(k)? {
                Ok(i) if excl => i as isize + 1,
                Ok(i) | Err(i) => i as isize,
            },
            Seek::Le(k, excl) => match leaf.search(k)? {
                Ok(i) if !excl => i as isize,
                Ok(i) | Err(i) => i as isize - 1,
            },
        };
        let backward = matches!(seek, Seek::Last | Seek::Le(..));
        let mut cursor = Cursor {
            path,
            leaf,
            idx,
            depth: desc.depth,
            ahead: idx,
            next_leaf_asked: false,
        };
        cursor.settle(store, backward)?;
        cursor.read_ahead(store, backward, FIRST_READ_AHEAD);
        Ok(Some(cursor))
    }

    fn valid(&self) -> bool {
        self.idx >= 0 && (self.idx as usize) < self.leaf.len()
    }

    /// Moves off an out-of-range position into the neighbouring leaf, if there is one.
    fn settle<S: PageStore + ?Sized>(&mut self, store: &'a S, backward: bool) -> Result<()> {
        while !self.valid() {
            if !self.step_leaf(store, backward)? {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Moves to the next (or previous) leaf; false at the edge of the tree.
    fn step_leaf<S: PageStore + ?Sized>(&mut self, store: &'a S, backward: bool) -> Result<bool> {
        // Climb until a branch has a child further in the wanted direction.
        loop {
            let Some((branch, i)) = self.path.last_mut() else {
                return Ok(false);
            };
            match sibling(branch, *i, backward) {
                Some(n) => {
                    *i = n;
                    break;
                }
                None => {
                    self.path.pop();
                }
            }
        }
        // Descend along the edge facing us.
        loop {
            let (branch, i) = *self.path.last().expect("non-empty path");
            let child = branch.child(i)?;
            let level = self.depth - self.path.len() as u32;
            match load(store, child, level)? {
                Node::Leaf(leaf) => {
                    if leaf.is_empty() {
                        return Err(corrupted(leaf.page_no(), "empty leaf in a non-empty tree"));
                    }
                    self.idx = if backward { leaf.len() as isize - 1 } else { 0 };
                    self.ahead = self.idx;
                    self.next_leaf_asked = false;
                    self.leaf = leaf;
                    return Ok(true);
                }
                Node::Branch(b) => self.path.push((b, if backward { b.len() - 1 } else { 0 })),
            }
        }
    }

    fn key(&self) -> Result<&'a [u8]> {
        Ok(self.leaf.key(self.idx as usize)?)
    }

    fn entry<S: PageStore + ?Sized>(&self, store: &'a S) -> Result<(&'a [u8], &'a [u8])> {
        read_entry(store, &self.leaf, self.idx as usize)
    }

    fn advance<S: PageStore + ?Sized>(&mut self, store: &'a S, backward: bool) -> Result<()> {
        self.idx += if backward { -1 } else { 1 };
        self.settle(store, backward)?;
        self.read_ahead(store, backward, READ_AHEAD);
        Ok(())
    }

    /// Once the cursor has reached the end of the last batch, prefetches the cells of the next
    /// `n` positions from here in the direction of travel (fewer at the leaf's edge), and the
    /// next leaf once the leaf's edge is within a batch of this one's end.
    #[inline]
    fn read_ahead<S: PageStore + ?Sized>(&mut self, store: &'a S, backward: bool, n: isize) {
        let (from, to) = if backward {
            if self.idx > self.ahead {
                return;
            }
            self.ahead = self.idx - n;
            (self.ahead + 1, self.idx + 1)
        } else {
            if self.idx < self.ahead {
                return;
            }
            self.ahead = self.idx + n;
            (self.idx, self.ahead)
        };
        let len = self.leaf.len() as isize;
        for i in from.max(0)..to.min(len) {
            if let Some(cell) = self.leaf.cell_start(i as usize) {
                store.prefetch(cell);
            }
        }
        let near_edge = if backward {
            from - READ_AHEAD <= 0
        } else {
            to + READ_AHEAD >= len
        };
        if near_edge && !self.next_leaf_asked {
            self.next_leaf_asked = true;
            self.prefetch_next_leaf(store, backward);
        }
    }

    /// Prefetches the start (header and first slots) of the leaf after this one in the
    /// direction of travel, when it has the same parent: a batch that nears the leaf's edge
    /// means the scan may cross, and the crossing would otherwise wait for that page's misses
    /// one after another.
    #[inline]
    fn prefetch_next_leaf<S: PageStore + ?Sized>(&self, store: &'a S, backward: bool) {
        let Some((parent, i)) = self.path.last() else {
            return;
        };
        if let Some(child) = sibling(parent, *i, backward).and_then(|n| parent.child(n).ok())
            && let Ok(page) = store.page(child.page)
        {
            store.prefetch(page);
        }
    }
}

/// The index of child `i`'s neighbour in `branch` in the direction of travel, if it has one.
#[inline]
fn sibling(branch: &Branch<'_>, i: usize, backward: bool) -> Option<usize> {
    if backward {
        i.checked_sub(1)
    } else {
        Some(i + 1).filter(|&n| n < branch.len())
    }
}

/// One end of a range.
enum End<'a> {
    /// The range is unbounded on this side and this end has not moved yet: it is the tree's
    /// first (or last) entry, found only when iteration from this side starts. A forward scan
    /// of `start..` therefore descends once, not twice.
    Edge,
    /// A placed cursor, on a valid entry.
    At(Cursor<'a>),
}

/// The entries of a tree within a key range, in order from either end; items borrow from the
/// store. Both ends stop where they meet.
pub struct Range<'a, S: ?Sized> {
    store: &'a S,
    desc: TreeDesc,
    /// (front, back); `None` once exhausted.
    ends: Option<(End<'a>, End<'a>)>,
}

impl<'a, S: PageStore + ?Sized> Range<'a, S> {
    /// The entries of the tree `desc` with keys within `(start, end)`.
    pub fn new(
        store: &'a S,
        desc: &TreeDesc,
        start: Bound<&[u8]>,
        end: Bound<&[u8]>,
    ) -> Result<Self> {
        let empty = Range {
            store,
            desc: *desc,
            ends: None,
        };
        let front = match start {
            Bound::Unbounded => None,
            Bound::Included(k) => Some(Seek::Ge(k, false)),
            Bound::Excluded(k) => Some(Seek::Ge(k, true)),
        };
        let back = match end {
            Bound::Unbounded => None,
            Bound::Included(k) => Some(Seek::Le(k, false)),
            Bound::Excluded(k) => Some(Seek::Le(k, true)),
        };
        let place = |seek: Option<Seek<'_>>| -> Result<Option<End<'a>>> {
            let Some(seek) = seek else {
                return Ok(Some(End::Edge));
            };
            Ok(Cursor::seek(store, desc, seek)?
                .filter(Cursor::valid)
                .map(End::At))
        };
        let (Some(front), Some(back)) = (place(front)?, place(back)?) else {
            return Ok(empty);
        };
        // An edge end lies beyond any entry, so only two placed ends can be out of order.
        if let (End::At(f), End::At(b)) = (&front, &back)
            && compare_keys(f.key()?, b.key()?).is_gt()
        {
            return Ok(empty);
        }
        Ok(Range {
            ends: Some((front, back)),
            ..empty
        })
    }

    fn step(&mut self, backward: bool) -> Result<Option<(&'a [u8], &'a [u8])>> {
        let store = self.store;
        let Some((front, back)) = self.ends.as_mut() else {
            return Ok(None);
        };
        let (this, other) = if backward {
            (back, &*front)
        } else {
            (front, &*back)
        };
        if let End::Edge = this {
            let edge = if backward { Seek::Last } else { Seek::First };
            match Cursor::seek(store, &self.desc, edge)?.filter(Cursor::valid) {
                Some(cursor) => *this = End::At(cursor),
                None => {
                    self.ends = None;
                    return Ok(None);
                }
            }
        }
        let End::At(cursor) = this else {
            unreachable!("placed above")
        };
        let item = cursor.entry(store)?;
        let met = match other {
            End::At(o) => o.leaf.page_no() == cursor.leaf.page_no() && o.idx == cursor.idx,
            End::Edge => false,
        };
        if met {
            self.ends = None;
            return Ok(Some(item));
        }
        cursor.advance(store, backward)?;
        if !cursor.valid() {
            if let End::At(_) = other {
                return Err(corrupted(cursor.leaf.page_no(), "range ends did not meet"));
            }
            // Ran off the tree's edge, which is where this side ends.
            self.ends = None;
        }
        Ok(Some(item))
    }

    fn next_item(&mut self, backward: bool) -> Option<Result<(&'a [u8], &'a [u8])>> {
        match self.step(backward) {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.ends = None;
                Some(Err(e))
            }
        }
    }
}

impl<'a, S: PageStore + ?Sized> Iterator for Range<'a, S> {
    type Item = Result<(&'a [u8], &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item(false)
    }
}

impl<'a, S: PageStore + ?Sized> DoubleEndedIterator for Range<'a, S> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.next_item(true)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashSet;

    use nevar_page::{LEAF_CELL_FIXED, PageNo};

    use super::*;
    use crate::{MemStore, insert};

    /// A store that records the addresses it was asked to prefetch.
    struct Watched {
        inner: MemStore,
        prefetched: RefCell<Vec<usize>>,
    }

    impl PageStore for Watched {
        fn page_size(&self) -> usize {
            self.inner.page_size()
        }
        fn page(&self, no: PageNo) -> Result<&[u8]> {
            self.inner.page(no)
        }
        fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
            self.inner.run(no, count)
        }
        fn prefetch(&self, bytes: &[u8]) {
            self.prefetched.borrow_mut().push(bytes.as_ptr() as usize);
        }
    }

    /// Where the cell of an inline entry starts, from its key.
    fn cell_of(key: &[u8]) -> usize {
        key.as_ptr() as usize - LEAF_CELL_FIXED
    }

    const PS: usize = 4096;

    /// 2,000 entries inserted in scrambled order (so cells lie in write order, not key order),
    /// in about thirty leaves under one root.
    fn tree() -> (Watched, TreeDesc) {
        let mut store = MemStore::new(PS);
        let mut desc = TreeDesc::default();
        for i in 0..2000u32 {
            let k = (i.wrapping_mul(7919) % 2000).to_be_bytes();
            insert(&mut store, &mut desc, &k, &[7; 100]).unwrap();
        }
        assert_eq!(desc.depth, 2, "every leaf has the same parent");
        let store = Watched {
            inner: store,
            prefetched: RefCell::new(Vec::new()),
        };
        (store, desc)
    }

    #[test]
    fn scans_prefetch_each_cell_and_the_next_leaf_before_reading_them_once() {
        let (store, desc) = tree();
        let base = store.inner.page(1).unwrap().as_ptr() as usize - PS;
        let page_of = |addr: usize| base + (addr - base) / PS * PS;
        let all: HashSet<usize> = Range::new(&store, &desc, Bound::Unbounded, Bound::Unbounded)
            .unwrap()
            .map(|e| cell_of(e.unwrap().0))
            .collect();
        assert_eq!(all.len(), 2000);
        let leaves: HashSet<usize> = all.iter().map(|&c| page_of(c)).collect();
        for start in (0..2000u32).step_by(37) {
            for (len, backward) in [
                (1, false),
                (3, false),
                (25, false),
                (300, false),
                (25, true),
            ] {
                store.prefetched.borrow_mut().clear();
                let k = start.to_be_bytes();
                let (lo, hi) = if backward {
                    (Bound::Unbounded, Bound::Included(&k[..]))
                } else {
                    (Bound::Included(&k[..]), Bound::Unbounded)
                };
                let mut range = Range::new(&store, &desc, lo, hi).unwrap();
                let mut read = HashSet::new();
                let mut entered = HashSet::new();
                for n in 0..len {
                    let item = if backward {
                        range.next_back()
                    } else {
                        range.next()
                    };
                    let Some(item) = item else { break };
                    let cell = cell_of(item.unwrap().0);
                    let prefetched = store.prefetched.borrow();
                    assert!(
                        prefetched.contains(&cell),
                        "start {start}, entry {n} of {len}: read before it was prefetched"
                    );
                    let leaf = page_of(cell);
                    if entered.insert(leaf) && n > 0 {
                        assert!(
                            prefetched.contains(&leaf),
                            "start {start}, entry {n}: entered a leaf not prefetched"
                        );
                    }
                    read.insert(cell);
                }
                let prefetched = store.prefetched.borrow();
                let distinct: HashSet<usize> = prefetched.iter().copied().collect();
                assert_eq!(
                    distinct.len(),
                    prefetched.len(),
                    "an address prefetched twice"
                );
                let (cells, pages): (HashSet<usize>, HashSet<usize>) =
                    distinct.iter().partition(|a| all.contains(a));
                assert!(
                    pages.is_subset(&leaves),
                    "a prefetch of neither a cell nor a leaf"
                );
                let unread = cells.difference(&read).count();
                assert!(
                    unread <= READ_AHEAD as usize,
                    "start {start}, {len} read: {unread} cells prefetched and never read"
                );
                assert!(
                    pages.difference(&entered).count() <= 1,
                    "start {start}, {len} read: leaves prefetched beyond the next one"
                );
            }
        }
    }
}
