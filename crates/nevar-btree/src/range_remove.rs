//! Removing a key range without a descent per entry.
//!
//! Two phases:
//! 1. **Prune**, top down. A subtree whose key interval lies inside the range is freed whole:
//!    its pages are walked only to free them (and the overflow runs of its leaves). A subtree
//!    that overlaps the range only partly is entered; at each level at most two children do
//!    (the ones holding the range's ends). A leaf the range cuts loses the cells inside it.
//!    Branches are rebuilt from the entries they keep, so they only shrink.
//! 2. **Mend**. Pruning leaves correct search order but may leave pages on the two paths to
//!    the range's ends below the fill threshold (a branch may keep a single child, a leaf may
//!    be empty). Mending walks each path, copying and rebalancing every underfull page with
//!    a sibling the way a removal does, and repeats until a walk changes nothing; then the
//!    root is settled (a single-child root is dropped, an empty root leaf empties the tree).
//!
//! Cost: the pages of the freed subtrees, plus two paths per mending pass.

use std::ops::Bound;

use nevar_page::{Branch, ChildRef, Leaf, LeafMut, Limits, PageNo};

use crate::desc::TreeDesc;
use crate::edit::{Outcome, cow, owned_values};
use crate::error::{Result, corrupted};
use crate::node::{MAX_DEPTH, Node, load};
use crate::split::{BranchEntry, branch_entries, write_branch};
use crate::store::PageStoreMut;
use crate::value::free_value;
use crate::write::{Below, apply_child, clear, finish_root, free_subtree};

/// The keys to remove.
#[derive(Clone, Copy)]
struct KeyRange<'k> {
    lo: Bound<&'k [u8]>,
    hi: Bound<&'k [u8]>,
}

impl KeyRange<'_> {
    fn contains(&self, key: &[u8]) -> bool {
        std::ops::RangeBounds::<[u8]>::contains(&(self.lo, self.hi), key)
    }

    fn below_hi(&self, key: &[u8]) -> bool {
        match self.hi {
            Bound::Included(hi) => key <= hi,
            Bound::Excluded(hi) => key < hi,
            Bound::Unbounded => true,
        }
    }

    /// Whether every key `k` with `from <= k < to` (`None`: open ends) is in the range.
    fn covers(&self, from: Option<&[u8]>, to: Option<&[u8]>) -> bool {
        let lo_ok = match (self.lo, from) {
            (Bound::Unbounded, _) => true,
            (_, None) => false,
            (Bound::Included(lo), Some(f)) => f >= lo,
            (Bound::Excluded(lo), Some(f)) => f > lo,
        };
        // Keys below `to` are all in the range when `to` itself is at most the (inclusive)
        // end, or at most the exclusive end.
        let hi_ok = match (self.hi, to) {
            (Bound::Unbounded, _) => true,
            (_, None) => false,
            (Bound::Included(hi), Some(t)) => t <= hi,
            (Bound::Excluded(hi), Some(t)) => t <= hi,
        };
        lo_ok && hi_ok
    }

    /// Whether no key `k` with `from <= k < to` is in the range.
    fn misses(&self, from: Option<&[u8]>, to: Option<&[u8]>) -> bool {
        let below = match (self.lo, to) {
            (Bound::Unbounded, _) | (_, None) => false,
            // Every key of the node is below `t <= lo`, so below the range either way.
            (Bound::Included(lo) | Bound::Excluded(lo), Some(t)) => t <= lo,
        };
        let above = match (self.hi, from) {
            (Bound::Unbounded, _) | (_, None) => false,
            (Bound::Included(hi), Some(f)) => f > hi,
            (Bound::Excluded(hi), Some(f)) => f >= hi,
        };
        below || above
    }
}

/// Removes every entry with a key within `(lo, hi)` and returns how many there were.
pub fn remove_range<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    lo: Bound<&[u8]>,
    hi: Bound<&[u8]>,
) -> Result<u64> {
    if desc.root == 0 {
        return Ok(0);
    }
    let range = KeyRange { lo, hi };
    if range.covers(None, None) {
        let entries = desc.entries;
        clear(store, desc)?;
        return Ok(entries);
    }
    let mut prune = Prune { removed: 0 };
    let root = prune.node(
        store,
        desc,
        desc.root_ref(),
        desc.depth,
        (None, None),
        range,
    )?;
    let Some(root) = root else {
        // The root's interval is everything, which `covers` handled; a pruned root would
        // mean the range held every key after all.
        return Err(corrupted(desc.root, "range removal freed the whole tree"));
    };
    if root != desc.root {
        desc.set_root(ChildRef {
            page: root,
            txn: store.txn_id(),
        });
    }
    if prune.removed == 0 {
        // Nothing was in the range: pages on the way may have been copied, none changed.
        return Ok(0);
    }
    desc.entries = desc.entries.saturating_sub(prune.removed);
    mend(store, desc, range)?;
    Ok(prune.removed)
}

struct Prune {
    removed: u64,
}

impl Prune {
    /// Prunes `node`, whose keys lie in `[from, to)`; `None` when it was freed whole.
    fn node<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        node: ChildRef,
        level: u32,
        (from, to): (Option<&[u8]>, Option<&[u8]>),
        range: KeyRange<'_>,
    ) -> Result<Option<PageNo>> {
        if range.covers(from, to) {
            self.removed += free_subtree(store, desc, node, level)?;
            return Ok(None);
        }
        if range.misses(from, to) {
            return Ok(Some(node.page));
        }
        let is_leaf = matches!(load(store, node, level)?, Node::Leaf(_));
        if is_leaf {
            return self.leaf(store, desc, node, range).map(Some);
        }
        // A copy of the branch's entries, so the children can change while we walk them.
        let scratch = store.page(node.page)?.to_vec();
        let old = Branch::new(&scratch, node.page)?;
        let entries = branch_entries(&old)?;
        let txn = store.txn_id();
        let mut kept: Vec<BranchEntry<'_>> = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let child_from = if i == 0 { from } else { Some(entry.key) };
            let child_to = entries.get(i + 1).map(|e| e.key).or(to);
            let child = self.node(
                store,
                desc,
                entry.child,
                level - 1,
                (child_from, child_to),
                range,
            )?;
            if let Some(page) = child {
                let child = if page == entry.child.page {
                    entry.child
                } else {
                    ChildRef { page, txn }
                };
                kept.push(BranchEntry {
                    child,
                    key: entry.key,
                });
            }
        }
        if kept.is_empty() {
            return Err(corrupted(
                node.page,
                "range removal emptied a branch it only overlaps",
            ));
        }
        let no = cow(store, node.page)?;
        write_branch(store, no, &kept)?;
        Ok(Some(no))
    }

    /// Removes the cells of leaf `node` inside the range (the leaf may end up empty).
    fn leaf<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        node: ChildRef,
        range: KeyRange<'_>,
    ) -> Result<PageNo> {
        let no = cow(store, node.page)?;
        let leaf = Leaf::new(store.page(no)?, no)?;
        // The cells in range are consecutive: the first at or after `lo`, up to `hi`.
        let mut first = None;
        let mut end = leaf.len();
        for i in 0..leaf.len() {
            let key = leaf.key(i)?;
            if first.is_none() && range.contains(key) {
                first = Some(i);
            } else if first.is_some() && !range.below_hi(key) {
                end = i;
                break;
            }
        }
        let Some(first) = first else {
            return Ok(no);
        };
        let values = owned_values(&leaf, first..end)?;
        let mut leaf = LeafMut::new(store.page_mut(no)?, no)?;
        for _ in first..end {
            leaf.remove(first)?;
        }
        for value in values {
            free_value(store, desc, value)?;
        }
        self.removed += (end - first) as u64;
        Ok(no)
    }
}

/// Where a mending walk goes.
#[derive(Clone, Copy)]
enum Toward<'k> {
    Key(&'k [u8]),
    First,
    Last,
}

/// Rebalances the underfull pages on the paths to both ends of `range` until a walk changes
/// nothing, then settles the root.
fn mend<S: PageStoreMut + ?Sized>(
    store: &mut S,
    desc: &mut TreeDesc,
    range: KeyRange<'_>,
) -> Result<()> {
    let limits = Limits::new(store.page_size());
    let ends = [
        match range.lo {
            Bound::Included(k) | Bound::Excluded(k) => Toward::Key(k),
            Bound::Unbounded => Toward::First,
        },
        match range.hi {
            Bound::Included(k) | Bound::Excluded(k) => Toward::Key(k),
            Bound::Unbounded => Toward::Last,
        },
    ];
    // Each pass that changes something merges or evens out pages on a path of at most
    // MAX_DEPTH levels; far fewer passes than this bound settle any real tree.
    for _ in 0..4 * MAX_DEPTH {
        let mut changed = false;
        for toward in ends {
            if desc.root == 0 {
                return Ok(());
            }
            let mut walk = Mend {
                limits: &limits,
                toward,
                changed: false,
            };
            let out = walk.node(store, desc, desc.root_ref(), desc.depth)?;
            finish_root(store, desc, out)?;
            changed |= walk.changed;
        }
        if !changed {
            return Ok(());
        }
    }
    Err(corrupted(desc.root, "range removal did not settle"))
}

struct Mend<'l, 'k> {
    limits: &'l Limits,
    toward: Toward<'k>,
    /// A page was rebalanced.
    changed: bool,
}

impl Mend<'_, '_> {
    /// Mends the path below `node`; reports `node` as a level of a removal would.
    fn node<S: PageStoreMut + ?Sized>(
        &mut self,
        store: &mut S,
        desc: &mut TreeDesc,
        node: ChildRef,
        level: u32,
    ) -> Result<Outcome> {
        let (used, next) = match load(store, node, level)? {
            Node::Leaf(leaf) => (leaf.used(), None),
            Node::Branch(b) => {
                let index = match self.toward {
                    Toward::Key(k) => b.search(k)?,
                    Toward::First => 0,
                    Toward::Last => b.len() - 1,
                };
                (b.used(), Some((index, b.child(index)?)))
            }
        };
        let Some((index, child)) = next else {
            return self.report(store, node.page, used);
        };
        let child_out = self.node(store, desc, child, level - 1)?;
        if child_out.page == child.page && !child_out.underfull {
            return self.report(store, node.page, used);
        }
        let no = cow(store, node.page)?;
        if child_out.underfull {
            self.changed = true;
        }
        let below = Below {
            index,
            old: child.page,
            level,
        };
        apply_child(store, desc, self.limits, no, below, child_out, false)
    }

    /// A page the walk did not change: underfull ones are copied (their parent will point at
    /// them with this transaction's id when it rebalances them).
    fn report<S: PageStoreMut + ?Sized>(
        &self,
        store: &mut S,
        page: PageNo,
        used: usize,
    ) -> Result<Outcome> {
        if used >= self.limits.min_fill {
            return Ok(Outcome::unchanged_shape(page));
        }
        let no = cow(store, page)?;
        Ok(Outcome {
            page: no,
            split: None,
            underfull: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{MemStore, Range, insert, verify};

    /// A small deterministic generator.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn contents(store: &MemStore, desc: &TreeDesc) -> BTreeMap<Vec<u8>, Vec<u8>> {
        Range::new(store, desc, Bound::Unbounded, Bound::Unbounded)
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect()
    }

    fn bound(rng: &mut Rng, key: Vec<u8>) -> Bound<Vec<u8>> {
        match rng.below(3) {
            0 => Bound::Included(key),
            1 => Bound::Excluded(key),
            _ => Bound::Unbounded,
        }
    }

    fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        b.as_ref().map(Vec::as_slice)
    }

    /// Random trees (some deep, some with overflow values), random ranges of every bound
    /// kind, removed in committed and uncommitted states: the tree equals the model and
    /// verifies after each, and all its pages come back when everything is removed.
    #[test]
    fn remove_range_matches_a_model_and_keeps_the_tree_valid() {
        let mut rng = Rng(0x005E_ED0F_4A11);
        for round in 0..60u64 {
            let mut store = MemStore::new(4096);
            let mut desc = TreeDesc::default();
            let mut model = BTreeMap::new();
            let n = [10, 300, 3000, 20_000][round as usize % 4];
            for _ in 0..n {
                let key = rng.below(n * 4).to_be_bytes().to_vec();
                let len = if rng.below(50) == 0 {
                    6000
                } else {
                    rng.below(200) as usize
                };
                let value = vec![round as u8; len];
                insert(&mut store, &mut desc, &key, &value).unwrap();
                model.insert(key, value);
            }
            store.commit();
            for step in 0..6 {
                let a = rng.below(n * 4).to_be_bytes().to_vec();
                let b = rng.below(n * 4).to_be_bytes().to_vec();
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let (lo, hi) = (bound(&mut rng, a), bound(&mut rng, b));
                let doomed: Vec<Vec<u8>> = model
                    .keys()
                    .filter(|k| {
                        // The standard library's reading of the bounds, not ours.
                        std::ops::RangeBounds::<[u8]>::contains(
                            &(as_ref(&lo), as_ref(&hi)),
                            k.as_slice(),
                        )
                    })
                    .cloned()
                    .collect();
                let removed = remove_range(&mut store, &mut desc, as_ref(&lo), as_ref(&hi));
                let what = format!("round {round} step {step} {lo:?}..{hi:?}");
                assert_eq!(removed.unwrap(), doomed.len() as u64, "{what}");
                for k in doomed {
                    model.remove(&k);
                }
                verify(&store, &desc).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(contents(&store, &desc), model, "{what}");
                if rng.below(2) == 0 {
                    store.commit();
                }
            }
            remove_range(&mut store, &mut desc, Bound::Unbounded, Bound::Unbounded).unwrap();
            assert_eq!(desc, TreeDesc::default());
            store.commit();
            assert_eq!(store.pages_in_use(), 0, "round {round}");
        }
    }
}
