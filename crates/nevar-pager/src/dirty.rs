//! The set of pages the current write transaction may write.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::ops::Range;

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
    /// Pages the current generation took from the end of the file ([`Dirty::insert_grown`]).
    /// None of them existed before it, so each one is the generation's own: allocated, or
    /// skipped at a segment's end (and left with the transaction's free pages). No snapshot
    /// reaches them, and a page of the tree found here is changeable without a lookup in
    /// `runs`, whose probes miss the cache once a large transaction holds 100k runs.
    fresh: Range<PageNo>,
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

    /// Records a run as [`Dirty::insert`] does, for one just taken from the end of the file:
    /// every page from the previous such run's end to this one's is the generation's.
    pub fn insert_grown(&mut self, first: PageNo, count: u32) {
        self.insert(first, count);
        let end = first + u64::from(count);
        if self.fresh.is_empty() || first < self.fresh.end {
            // The first growth of this generation (or the end moved back, which only a
            // rollback does, and that starts afresh): the range starts here.
            self.fresh = first..end;
        } else {
            self.fresh.end = end;
        }
    }

    /// Whether the `count` pages at `no` lie in the current generation's fresh range.
    #[inline]
    fn fresh_covers(&self, no: PageNo, count: u64) -> bool {
        self.fresh.start <= no && no.saturating_add(count) <= self.fresh.end
    }

    /// Whether the run of `count` pages at `no` may be written: a dirty run at least that
    /// long, or pages of the current generation's fresh range.
    #[inline]
    pub fn writable(&self, no: PageNo, count: u64) -> bool {
        self.fresh_covers(no, count) || self.run_len(no).is_some_and(|n| u64::from(n) >= count)
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
        if self.fresh_covers(no, 1) {
            debug_assert!(
                self.runs.get(&no).is_none_or(|run| self.is_changeable(run)),
                "a fresh page of an older generation"
            );
            return true;
        }
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
        self.fresh = 0..0;
        self.current += 1;
        self.floor = self.current;
        self.current
    }

    /// Makes `generation` (from [`Dirty::freeze`]) the oldest changeable one again, as after
    /// the savepoint that returned it. Runs of later generations must have been removed.
    pub fn thaw_to(&mut self, generation: Generation) {
        debug_assert!(generation <= self.current);
        // The fresh range was the newest generation's; the older one's is not known.
        self.fresh = 0..0;
        self.floor = generation;
    }

    /// Makes every run changeable again (no savepoint is left).
    pub fn thaw_all(&mut self) {
        self.fresh = 0..0;
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
        self.fresh = 0..0;
        self.current = 0;
        self.floor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A transaction that grew the file by pages 10..13 (one skipped page, 12, left free at a
    /// segment's end) and reused page 4 from the free list.
    fn grown() -> Dirty {
        let mut d = Dirty::new();
        d.insert_grown(10, 2);
        d.insert(4, 1);
        d.insert_grown(13, 1);
        d
    }

    #[test]
    fn grown_pages_are_changeable_and_writable_without_their_own_run() {
        let d = grown();
        for no in [10, 11, 12, 13] {
            assert!(d.changeable(no), "page {no}");
            assert!(d.writable(no, 1), "page {no}");
        }
        assert!(d.writable(10, 4), "the whole fresh range");
        assert!(!d.writable(10, 5), "past the fresh range");
        assert!(
            !d.writable(14, 1) && !d.changeable(14),
            "past the high water"
        );
        assert!(
            !d.changeable(9) && !d.writable(9, 2),
            "before the fresh range"
        );
        assert!(
            d.changeable(4) && d.writable(4, 1) && !d.writable(4, 2),
            "a reused run"
        );
        assert_eq!(
            d.len(),
            3,
            "every run is still recorded, for the commit's seal"
        );
    }

    #[test]
    fn a_savepoint_freezes_the_fresh_range_and_starts_a_new_one() {
        let mut d = grown();
        let generation = d.freeze();
        assert!(!d.changeable(10) && !d.changeable(4), "frozen runs");
        assert!(d.writable(10, 2), "frozen runs stay writable for the seal");
        assert!(!d.writable(12, 1), "a skipped page has no run of its own");
        d.insert_grown(14, 2);
        assert!(d.changeable(14) && d.changeable(15) && !d.changeable(13));
        // Rolling back removes the newer runs; the older generation's pages are looked up.
        d.remove_run(14);
        d.thaw_to(generation - 1);
        assert!(!d.changeable(14), "a rolled-back page");
        assert!(d.changeable(10) && d.changeable(4) && !d.changeable(12));
    }

    #[test]
    fn growth_below_the_fresh_end_restarts_the_range() {
        let mut d = grown();
        d.insert_grown(8, 1);
        assert!(d.changeable(8));
        assert!(d.changeable(10), "still a run of its own");
        assert!(!d.changeable(12), "no longer known fresh");
        d.clear();
        assert!(!d.changeable(8) && !d.writable(8, 1));
    }
}
