//! The set of pages the current write transaction may write.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::PageNo;

/// Page numbers are already well spread; a multiply is hash enough and keeps lookups cheap on
/// the write path.
#[derive(Default)]
struct PageNoHasher(u64);

impl Hasher for PageNoHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The write token of a transaction: the pages (and runs) it allocated, which are the only
/// pages it may write. Invariant kept by the layers above: a page in this set is unreachable
/// from every snapshot a reader can hold.
///
/// Each run also carries the [`Generation`] it was allocated in. A savepoint starts a new
/// generation and *freezes* the older ones: their pages stay writable (the commit still
/// seals them) but the tree must not change them in place any more, since rolling back to
/// the savepoint brings back the tree that holds them as they were.
#[derive(Default)]
pub struct Dirty {
    runs: HashMap<PageNo, DirtyRun, BuildHasherDefault<PageNoHasher>>,
    /// The generation new runs get.
    current: Generation,
    /// Runs of older generations are frozen.
    floor: Generation,
}

/// A count of savepoints taken in one transaction; runs allocated before any savepoint are
/// generation 0.
pub type Generation = u32;

/// One dirty run: its length and the generation that allocated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirtyRun {
    /// Pages in the run.
    pub count: u32,
    /// When it was allocated.
    pub generation: Generation,
}

impl Dirty {
    /// An empty set.
    pub fn new() -> Dirty {
        Dirty::default()
    }

    /// Records that the run of `count` pages at `first` belongs to this transaction, in the
    /// current generation.
    pub fn insert(&mut self, first: PageNo, count: u32) {
        let generation = self.current;
        self.runs.insert(first, DirtyRun { count, generation });
    }

    /// Puts back a run removed by [`Dirty::remove_run`].
    pub fn restore(&mut self, first: PageNo, run: DirtyRun) {
        self.runs.insert(first, run);
    }

    /// Forgets the run starting at `first`, returning its length.
    pub fn remove(&mut self, first: PageNo) -> Option<u32> {
        self.remove_run(first).map(|run| run.count)
    }

    /// Forgets the run starting at `first`, returning it.
    pub fn remove_run(&mut self, first: PageNo) -> Option<DirtyRun> {
        self.runs.remove(&first)
    }

    /// Length of the dirty run starting at `first`, if there is one.
    #[inline]
    pub fn run_len(&self, first: PageNo) -> Option<u32> {
        self.runs.get(&first).map(|run| run.count)
    }

    /// Whether page `no` starts a dirty run.
    #[inline]
    pub fn contains(&self, no: PageNo) -> bool {
        self.runs.contains_key(&no)
    }

    /// Whether page `no` starts a dirty run the tree may still change in place: one not
    /// frozen by a savepoint.
    #[inline]
    pub fn changeable(&self, no: PageNo) -> bool {
        self.runs
            .get(&no)
            .is_some_and(|run| self.is_changeable(run))
    }

    /// Whether `run` (of this set) is newer than the last savepoint.
    #[inline]
    pub fn is_changeable(&self, run: &DirtyRun) -> bool {
        run.generation >= self.floor
    }

    /// Starts a new generation and freezes every run allocated so far; returns the new
    /// generation, which [`Dirty::thaw_to`] takes to undo later savepoints.
    pub fn freeze(&mut self) -> Generation {
        self.current += 1;
        self.floor = self.current;
        self.current
    }

    /// Makes `generation` (from [`Dirty::freeze`]) the oldest changeable one again, as after
    /// the savepoint that returned it. Runs of later generations must have been removed.
    pub fn thaw_to(&mut self, generation: Generation) {
        debug_assert!(generation <= self.current);
        self.floor = generation;
    }

    /// Makes every run changeable again (no savepoint is left).
    pub fn thaw_all(&mut self) {
        self.floor = 0;
    }

    /// Every dirty run as (first page, pages).
    pub fn runs(&self) -> impl Iterator<Item = (PageNo, u32)> + '_ {
        self.runs.iter().map(|(&p, run)| (p, run.count))
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Empties the set and forgets every generation.
    pub fn clear(&mut self) {
        self.runs.clear();
        self.current = 0;
        self.floor = 0;
    }
}
