//! The tree checker.

use std::collections::HashSet;

use nevar_page::{Branch, ChildRef, Leaf, LeafValue, Limits, PageNo, TxnId, overflow_pages};

use crate::desc::TreeDesc;
use crate::error::{Result, corrupted};
use crate::node::{MAX_DEPTH, Node, load};
use crate::store::PageStore;
use crate::value::read_value;

/// What [`verify`] found in a sound tree.
#[derive(Debug, Default, Clone)]
pub struct VerifyReport {
    /// Every page and run the tree owns, as (first page, pages).
    pub pages: Vec<(PageNo, u64)>,
    /// The same counts as a descriptor, computed by walking.
    pub counted: TreeDesc,
    /// Bytes used in leaf pages (slots and cells), for fill statistics.
    pub leaf_bytes: u64,
    /// Bytes used in branch pages.
    pub branch_bytes: u64,
}

struct Walk<'a, S: ?Sized> {
    store: &'a S,
    limits: Limits,
    seen: HashSet<PageNo>,
    report: VerifyReport,
}

/// Checks the tree `desc` and returns the pages it owns. Checks: each page reached once;
/// each child's writer txn matches its parent's record; uniform depth; keys strictly increasing
/// within and across pages; separators bounding their subtrees; no empty non-root page; non-root
/// pages off the rightmost spine at least `min_fill` full; overflow runs valid; counts equal to
/// the descriptor's.
pub fn verify<S: PageStore + ?Sized>(store: &S, desc: &TreeDesc) -> Result<VerifyReport> {
    let mut walk = Walk {
        store,
        limits: Limits::new(store.page_size()),
        seen: HashSet::new(),
        report: VerifyReport::default(),
    };
    if desc.depth > MAX_DEPTH {
        return Err(corrupted(desc.root, "tree deeper than the maximum depth"));
    }
    if desc.root != 0 {
        let everything = Bounds { lo: None, hi: None };
        let root = Place {
            root: true,
            rightmost: true,
        };
        walk.node(desc.root_ref(), desc.depth, everything, root)?;
    } else if desc.depth != 0 {
        return Err(corrupted(0, "empty tree with non-zero depth"));
    }
    let mut counted = walk.report.counted;
    counted.root = desc.root;
    counted.root_txn = desc.root_txn;
    counted.depth = desc.depth;
    walk.report.counted = counted;
    if counted != *desc {
        return Err(corrupted(
            desc.root,
            "tree counts differ from its descriptor",
        ));
    }
    Ok(walk.report)
}

/// The key range a subtree must stay in: `lo <= key < hi`, either end open when `None`.
#[derive(Clone, Copy)]
struct Bounds<'k> {
    lo: Option<&'k [u8]>,
    hi: Option<&'k [u8]>,
}

impl Bounds<'_> {
    fn holds(&self, key: &[u8]) -> bool {
        self.lo.is_none_or(|lo| key >= lo) && self.hi.is_none_or(|hi| key < hi)
    }
}

/// Where a page sits in the tree, which decides the fill rules it must meet.
#[derive(Clone, Copy)]
struct Place {
    root: bool,
    /// On the right spine, which sorted loads leave short on purpose.
    rightmost: bool,
}

impl<'a, S: PageStore + ?Sized> Walk<'a, S> {
    fn claim(&mut self, no: PageNo, count: u64) -> Result<()> {
        for p in no..no.saturating_add(count) {
            if !self.seen.insert(p) {
                return Err(corrupted(p, "page reached twice"));
            }
        }
        self.report.pages.push((no, count));
        Ok(())
    }

    fn node(&mut self, node: ChildRef, level: u32, bounds: Bounds<'_>, place: Place) -> Result<()> {
        self.claim(node.page, 1)?;
        match load(self.store, node, level)? {
            Node::Leaf(leaf) => self.leaf(&leaf, bounds, place),
            Node::Branch(b) => self.branch(&b, node.txn, level, bounds, place),
        }
    }

    fn leaf(&mut self, leaf: &Leaf<'_>, bounds: Bounds<'_>, place: Place) -> Result<()> {
        let no = leaf.page_no();
        self.report.counted.leaf_pages += 1;
        self.report.leaf_bytes += leaf.used() as u64;
        if !place.root && leaf.is_empty() {
            return Err(corrupted(no, "empty non-root leaf"));
        }
        self.check_fill(no, leaf.used(), place)?;
        leaf.check_heads()?;
        let mut prev: Option<&[u8]> = None;
        for i in 0..leaf.len() {
            let key = leaf.key(i)?;
            if prev.is_some_and(|p| p >= key) {
                return Err(corrupted(no, "leaf keys out of order"));
            }
            if !bounds.holds(key) {
                return Err(corrupted(no, "leaf key outside its parent's separators"));
            }
            prev = Some(key);
            if let LeafValue::Overflow { page, len, .. } = leaf.value(i)? {
                read_value(self.store, leaf, i)?;
                let count = overflow_pages(len, self.store.page_size());
                self.claim(page, count)?;
                self.report.counted.overflow_pages += count;
            }
        }
        self.report.counted.entries += leaf.len() as u64;
        Ok(())
    }

    /// Checks branch `b`, written by `txn`, then each child within its separators.
    fn branch(
        &mut self,
        b: &Branch<'_>,
        txn: TxnId,
        level: u32,
        bounds: Bounds<'_>,
        place: Place,
    ) -> Result<()> {
        let no = b.page_no();
        self.report.counted.branch_pages += 1;
        self.report.branch_bytes += b.used() as u64;
        self.check_fill(no, b.used(), place)?;
        b.check_heads()?;
        if !place.root && b.len() < 2 {
            return Err(corrupted(no, "non-root branch with a single child"));
        }
        for i in 0..b.len() {
            let child_bounds = Bounds {
                lo: if i == 0 { bounds.lo } else { Some(b.key(i)?) },
                hi: if i + 1 < b.len() {
                    Some(b.key(i + 1)?)
                } else {
                    bounds.hi
                },
            };
            if i > 0 {
                let key = b.key(i)?;
                if !bounds.holds(key) || child_bounds.hi.is_some_and(|h| key >= h) {
                    return Err(corrupted(
                        no,
                        "separators out of order or outside the parent's range",
                    ));
                }
            }
            let child = b.child(i)?;
            if child.txn > txn {
                return Err(corrupted(child.page, "child written after its parent"));
            }
            let child_place = Place {
                root: false,
                rightmost: place.rightmost && i + 1 == b.len(),
            };
            self.node(child, level - 1, child_bounds, child_place)?;
        }
        Ok(())
    }

    fn check_fill(&self, no: PageNo, used: usize, place: Place) -> Result<()> {
        if !place.root && !place.rightmost && used < self.limits.min_fill {
            return Err(corrupted(no, "page below the fill threshold"));
        }
        Ok(())
    }
}
