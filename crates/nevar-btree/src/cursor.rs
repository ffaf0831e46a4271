//! Range cursors, forward and backward.

use std::ops::Bound;

use nevar_page::{Branch, Leaf, compare_keys};

use crate::desc::TreeDesc;
use crate::error::{Result, corrupted};
use crate::node::{Node, load, load_root};
use crate::store::PageStore;
use crate::value::read_entry;

/// One end of a range: the path from the root to a leaf position.
struct Cursor<'a> {
    /// Branches on the path with the index taken in each, root first.
    path: Vec<(Branch<'a>, usize)>,
    leaf: Leaf<'a>,
    /// Position in `leaf`; may be `leaf.len()` (past the end) or -1 (before the start).
    idx: isize,
    /// Depth of the tree (level of the root).
    depth: u32,
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
        let mut cursor = Cursor {
            path,
            leaf,
            idx,
            depth: desc.depth,
        };
        cursor.settle(store, matches!(seek, Seek::Last | Seek::Le(..)))?;
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
            let next = if backward {
                i.checked_sub(1)
            } else {
                Some(*i + 1).filter(|&n| n < branch.len())
            };
            match next {
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
        self.settle(store, backward)
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
