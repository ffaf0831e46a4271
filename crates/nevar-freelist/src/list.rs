//! The in-memory index of free pages used by the writer.

use std::collections::{BTreeMap, BTreeSet};

use nevar_page::{PageNo, TxnId};

use crate::record::{EXTENTS_PER_RECORD, Extent, RecordKey};

/// Free-page counts for statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FreeStats {
    /// Pages reusable by the next write transaction.
    pub free: u64,
    /// Pages freed by transactions newer than the horizon: waiting for readers (or a durable
    /// commit) to move on.
    pub pending: u64,
}

/// Mirror of the free tree plus this transaction's changes.
///
/// Invariants: `records` equals the free tree after the last commit plus the changes listed
/// in `changed`; a page is in at most one of `records`, `txn_free`, `freed_now`; pages below
/// `high_water` that are in none of them belong to a tree or a meta.
#[derive(Debug, Default, Clone)]
pub struct FreeList {
    records: BTreeMap<RecordKey, Vec<Extent>>,
    changed: BTreeSet<RecordKey>,
    txn: TxnId,
    horizon: TxnId,
    /// Allocated and freed in this transaction: reusable now.
    txn_free: Vec<Extent>,
    /// Committed pages freed in this transaction.
    freed_now: Vec<Extent>,
    high_water: PageNo,
    /// Set by a flush that did not settle quickly: allocate only by growing the file.
    grow_only: bool,
}

impl FreeList {
    /// An index holding `records` (the decoded free tree).
    pub fn from_records(records: BTreeMap<RecordKey, Vec<Extent>>) -> FreeList {
        FreeList {
            records,
            ..FreeList::default()
        }
    }

    /// Starts write transaction `txn`. Records of transactions up to `horizon` are reusable;
    /// new pages start at `high_water`.
    pub fn begin(&mut self, txn: TxnId, horizon: TxnId, high_water: PageNo) {
        self.txn = txn;
        self.horizon = horizon.min(txn - 1);
        self.high_water = high_water;
        self.txn_free.clear();
        self.freed_now.clear();
        self.changed.clear();
        self.grow_only = false;
    }

    /// From now until the next [`FreeList::begin`], allocate only by growing the file. Used by
    /// the flush to guarantee convergence: with no allocation taking pages out of records,
    /// records only gain pages, and there are finitely many pages to gain.
    pub fn grow_only(&mut self) {
        self.grow_only = true;
    }

    /// First page never allocated.
    pub fn high_water(&self) -> PageNo {
        self.high_water
    }

    /// Record keys changed since the last [`FreeList::take_changed`].
    pub fn take_changed(&mut self) -> Vec<(RecordKey, Option<Vec<Extent>>)> {
        let keys = std::mem::take(&mut self.changed);
        keys.into_iter()
            .map(|k| (k, self.records.get(&k).cloned()))
            .collect()
    }

    /// Whether records changed since the last [`FreeList::take_changed`].
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty()
    }

    /// Allocates `count` contiguous pages. `segment_end(p)` is the first page past the segment
    /// holding `p`: a run never crosses it. Order: pages freed in this transaction, then
    /// reusable records (oldest first), then growth of the file.
    pub fn alloc(&mut self, count: u64, segment_end: impl Fn(PageNo) -> PageNo) -> PageNo {
        if self.grow_only {
            return self.grow(count, &segment_end);
        }
        if let Some(p) = take_from(&mut self.txn_free, count, &segment_end) {
            return p;
        }
        let found = self
            .records
            .range_mut(..=(self.horizon, u32::MAX))
            .find_map(|(key, extents)| {
                take_from(extents, count, &segment_end).map(|page| (*key, page, extents.is_empty()))
            });
        if let Some((key, page, emptied)) = found {
            if emptied {
                self.records.remove(&key);
            }
            self.changed.insert(key);
            return page;
        }
        self.grow(count, &segment_end)
    }

    /// Takes `count` pages at the high-water mark, skipping to the next segment if the run
    /// would cross a segment boundary.
    fn grow(&mut self, count: u64, segment_end: &impl Fn(PageNo) -> PageNo) -> PageNo {
        let mut start = self.high_water;
        let end = segment_end(start);
        if start + count > end {
            // The run would cross a segment boundary: leave the segment's tail free for
            // single pages and start the run in a segment large enough for it.
            let mut next = end;
            while next + count > segment_end(next) {
                next = segment_end(next);
            }
            self.txn_free.push((start, next - start));
            start = next;
        }
        self.high_water = start + count;
        start
    }

    /// Frees `count` pages at `start`. `dirty` pages (allocated in this transaction) are
    /// reusable at once; committed ones wait for the horizon to pass this transaction.
    pub fn free(&mut self, start: PageNo, count: u64, dirty: bool) {
        if dirty {
            self.txn_free.push((start, count))
        } else {
            self.freed_now.push((start, count))
        }
    }

    /// Writes this transaction's frees into records `(txn, 0..)`, marking changed ones. Pages
    /// freed by this transaction itself are included: they are reusable by later transactions
    /// (not by this one: it has committed nothing yet that could make them safe earlier).
    pub fn stage(&mut self) {
        let mut all: Vec<Extent> = self
            .freed_now
            .iter()
            .chain(&self.txn_free)
            .copied()
            .collect();
        all.sort_unstable();
        let mut merged: Vec<Extent> = Vec::with_capacity(all.len());
        for (start, len) in all {
            match merged.last_mut() {
                Some((s, l)) if *s + *l == start && *l + len <= u64::from(u32::MAX) => *l += len,
                _ => merged.push((start, len)),
            }
        }
        let chunks: Vec<&[Extent]> = merged.chunks(EXTENTS_PER_RECORD).collect();
        for (seq, chunk) in chunks.iter().enumerate() {
            let key = (self.txn, seq as u32);
            if self.records.get(&key).map(Vec::as_slice) != Some(*chunk) {
                self.records.insert(key, chunk.to_vec());
                self.changed.insert(key);
            }
        }
        let stale: Vec<RecordKey> = self
            .records
            .range((self.txn, chunks.len() as u32)..=(self.txn, u32::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.records.remove(&key);
            self.changed.insert(key);
        }
    }

    /// Every free extent recorded (committed state after a flush), with its record key.
    pub fn records(&self) -> impl Iterator<Item = (&RecordKey, &Vec<Extent>)> {
        self.records.iter()
    }

    /// Gives back free pages at the end of the file: while a reusable extent (or one freed and
    /// allocated in this transaction) ends at the high-water mark, removes it and lowers the
    /// mark. Returns the pages trimmed. Only reusable pages are trimmed, so no snapshot a reader
    /// or the last durable commit holds can reach them.
    pub fn trim_tail(&mut self) -> u64 {
        let before = self.high_water;
        loop {
            let hw = self.high_water;
            if let Some(i) = self.txn_free.iter().position(|&(s, l)| s + l == hw) {
                self.high_water = self.txn_free.swap_remove(i).0;
                continue;
            }
            let found =
                self.records
                    .range(..=(self.horizon, u32::MAX))
                    .find_map(|(key, extents)| {
                        extents
                            .iter()
                            .position(|&(s, l)| s + l == hw)
                            .map(|i| (*key, i))
                    });
            let Some((key, i)) = found else { break };
            let extents = self.records.get_mut(&key).expect("key just found");
            self.high_water = extents.swap_remove(i).0;
            if extents.is_empty() {
                self.records.remove(&key);
            }
            self.changed.insert(key);
        }
        before - self.high_water
    }

    /// Free and pending page counts relative to `horizon`.
    pub fn stats(&self, horizon: TxnId) -> FreeStats {
        let mut stats = FreeStats::default();
        for ((txn, _), extents) in &self.records {
            let pages: u64 = extents.iter().map(|e| e.1).sum();
            if *txn <= horizon {
                stats.free += pages
            } else {
                stats.pending += pages
            }
        }
        stats
    }
}

/// Takes `count` contiguous pages from `extents` (a run must not cross a segment end). Takes
/// from the lowest extent, so allocation drifts toward the start of the file and a free tail
/// can be given back.
fn take_from(
    extents: &mut Vec<Extent>,
    count: u64,
    segment_end: &impl Fn(PageNo) -> PageNo,
) -> Option<PageNo> {
    let i = if count == 1 {
        (!extents.is_empty()).then_some(0)?
    } else {
        extents
            .iter()
            .position(|&(s, l)| l >= count && s + count <= segment_end(s))?
    };
    let (start, len) = extents[i];
    if len == count {
        extents.remove(i);
    } else {
        extents[i] = (start + count, len - count);
    }
    Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(_: PageNo) -> PageNo {
        1 << 40
    }

    #[test]
    fn reuse_waits_for_the_horizon() {
        let mut records = BTreeMap::new();
        records.insert((5, 0), vec![(10, 2)]);
        records.insert((8, 0), vec![(20, 1)]);
        let mut fl = FreeList::from_records(records);
        fl.begin(9, 6, 100);
        assert_eq!(fl.alloc(1, seg), 10);
        assert_eq!(fl.alloc(1, seg), 11);
        assert_eq!(
            fl.alloc(1, seg),
            100,
            "txn 8's pages wait: the horizon is 6"
        );
        assert_eq!(
            fl.stats(6),
            FreeStats {
                free: 0,
                pending: 1
            }
        );
        assert_eq!(fl.take_changed(), vec![((5, 0), None)]);
    }

    #[test]
    fn dirty_frees_are_reusable_at_once_and_runs_skip_segment_ends() {
        let mut fl = FreeList::default();
        fl.begin(2, 1, 10);
        let p = fl.alloc(1, seg);
        fl.free(p, 1, true);
        assert_eq!(fl.alloc(1, seg), p);
        let small_seg = |p: PageNo| if p < 16 { 16 } else { 48 };
        assert_eq!(
            fl.alloc(8, small_seg),
            16,
            "a run crossing page 16 starts at the next segment"
        );
        assert_eq!(fl.alloc(1, small_seg), 11, "the skipped tail is reused");
        fl.free(40, 3, false);
        fl.stage();
        assert_eq!(
            fl.records().find(|(k, _)| k.0 == 2).unwrap().1,
            &vec![(12, 4), (40, 3)]
        );
    }
}
