//! The in-memory index of free pages used by the writer.

use std::collections::{BTreeMap, BTreeSet};

use nevar_page::{PageNo, TxnId};

use crate::record::{EXTENTS_PER_RECORD, Extent, RecordKey, VOLATILE, is_volatile};

/// Free-page counts for statistics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FreeStats {
    /// Pages reusable by the next write transaction.
    pub free: u64,
    /// Pages freed by transactions newer than the horizon: waiting for readers (or a durable
    /// commit) to move on.
    pub pending: u64,
}

/// What may still see pages freed by a transaction: reader snapshots, and the last durable
/// commit (recovery may fall back to it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Horizons {
    /// The oldest snapshot any reader holds; `TxnId::MAX` without readers.
    pub readers: TxnId,
    /// The last durable commit.
    pub durable: TxnId,
}

impl Horizons {
    /// Whether pages of record `key` can be reused. Pages freed by transaction T belong to
    /// snapshots before T: they are reusable once every reader and the durable commit are at T
    /// or later. Volatile records hold pages written after the durable commit, which it cannot
    /// reach: readers decide. `alloc` applies the same rule through its two index ranges.
    fn reusable(&self, key: RecordKey) -> bool {
        let readers = key.0 <= self.readers;
        readers && (key.0 <= self.durable || is_volatile(key))
    }
}

/// The lengths of a transaction's lists of freed committed pages at a savepoint: pages are
/// only ever appended to them until the commit stages them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FreeMark {
    freed_now: usize,
    freed_volatile: usize,
}

/// Mirror of the free tree plus this transaction's changes.
///
/// Invariants: `records` equals the free tree after the last commit plus the changes listed
/// in `changed`; `volatile` holds exactly the volatile keys of `records`; a page is in at most
/// one of `records`, `txn_free`, `freed_now`, `freed_volatile`; pages below `high_water` that
/// are in none of them belong to a tree or a meta.
#[derive(Debug, Default, Clone)]
pub struct FreeList {
    records: BTreeMap<RecordKey, Vec<Extent>>,
    /// The volatile record keys, so allocation finds them without walking the records that
    /// wait for a durable commit.
    volatile: BTreeSet<RecordKey>,
    changed: BTreeSet<RecordKey>,
    txn: TxnId,
    horizons: Horizons,
    /// Allocated and freed in this transaction: reusable now.
    txn_free: Vec<Extent>,
    /// Committed pages freed in this transaction that the durable commit can reach.
    freed_now: Vec<Extent>,
    /// Committed pages freed in this transaction, written after the durable commit.
    freed_volatile: Vec<Extent>,
    high_water: PageNo,
    /// Newest commit that may still become durable while this transaction is live (its
    /// group is syncing or queued): pages written by it or earlier are not volatile, since a
    /// durable snapshot may hold them. Equals `horizons.durable` when nothing is syncing.
    durable_ceiling: TxnId,
    /// Set by a flush that did not settle quickly: allocate only by growing the file.
    grow_only: bool,
}

impl FreeList {
    /// An index holding `records` (the decoded free tree).
    pub fn from_records(records: BTreeMap<RecordKey, Vec<Extent>>) -> FreeList {
        FreeList {
            volatile: records
                .keys()
                .copied()
                .filter(|&k| is_volatile(k))
                .collect(),
            records,
            ..FreeList::default()
        }
    }

    /// Starts write transaction `txn`; `horizons` decide which records are reusable. New pages
    /// start at `high_water`.
    pub fn begin(&mut self, txn: TxnId, horizons: Horizons, high_water: PageNo) {
        self.txn = txn;
        self.horizons = Horizons {
            readers: horizons.readers.min(txn - 1),
            durable: horizons.durable.min(txn - 1),
        };
        self.high_water = high_water;
        self.durable_ceiling = self.horizons.durable;
        self.txn_free.clear();
        self.freed_now.clear();
        self.freed_volatile.clear();
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

    /// Commits up to `txn` may become durable before this transaction commits (group commit:
    /// their sync is in flight or queued), so pages they wrote are freed as pages a durable
    /// snapshot can reach, never as volatile. Called right after [`FreeList::begin`].
    pub fn may_become_durable(&mut self, txn: TxnId) {
        self.durable_ceiling = self.durable_ceiling.max(txn.min(self.txn - 1));
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
        let Horizons { readers, durable } = self.horizons;
        // Every record up to both horizons, then volatile records up to the readers'.
        let both = durable.min(readers);
        let settled = self.records.range(..=(both, u32::MAX));
        let volatile = self
            .volatile
            .range((both + 1, 0)..)
            .take_while(|k| k.0 <= readers)
            .map(|k| (k, &self.records[k]));
        let found = settled
            .chain(volatile)
            .find_map(|(key, extents)| find_run(extents, count, &segment_end).map(|i| (*key, i)));
        match found {
            Some((key, i)) => self.take(key, i, count),
            None => self.grow(count, &segment_end),
        }
    }

    /// Takes `count` pages from extent `i` of record `key`, which holds that many.
    fn take(&mut self, key: RecordKey, i: usize, count: u64) -> PageNo {
        let extents = self.records.get_mut(&key).expect("key just found");
        let page = cut(extents, i, count);
        if extents.is_empty() {
            self.remove_record(key);
        }
        self.changed.insert(key);
        page
    }

    fn remove_record(&mut self, key: RecordKey) {
        self.records.remove(&key);
        self.volatile.remove(&key);
    }

    fn set_record(&mut self, key: RecordKey, extents: Vec<Extent>) {
        if is_volatile(key) {
            self.volatile.insert(key);
        }
        self.records.insert(key, extents);
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

    /// Frees `count` pages at `start`, written by transaction `written`. `dirty` pages
    /// (allocated in this transaction) are reusable at once; committed ones wait for the
    /// horizons to pass this transaction.
    pub fn free(&mut self, start: PageNo, count: u64, dirty: bool, written: TxnId) {
        if dirty {
            self.txn_free.push((start, count))
        } else if written > self.durable_ceiling && written < self.txn {
            self.freed_volatile.push((start, count))
        } else {
            self.freed_now.push((start, count))
        }
    }

    /// Where this transaction's frees of committed pages stand, for a savepoint.
    pub fn mark(&self) -> FreeMark {
        FreeMark {
            freed_now: self.freed_now.len(),
            freed_volatile: self.freed_volatile.len(),
        }
    }

    /// Rolling back to a savepoint: committed pages freed since `mark` are live again.
    /// (Pages allocated since come back through [`FreeList::give_back`].)
    pub fn forget_frees_since(&mut self, mark: FreeMark) {
        debug_assert!(self.freed_now.len() >= mark.freed_now);
        self.freed_now.truncate(mark.freed_now);
        self.freed_volatile.truncate(mark.freed_volatile);
    }

    /// Returns pages allocated in this transaction and no longer used by it: reusable now,
    /// like pages it allocated and freed.
    pub fn give_back(&mut self, start: PageNo, count: u64) {
        self.txn_free.push((start, count));
    }

    /// Writes this transaction's frees into records `(txn, 0..)` and volatile ones into
    /// `(txn, VOLATILE | 0..)`, marking changed ones. Pages allocated by this transaction
    /// itself are volatile: they are reusable by later transactions once readers allow (not by
    /// this one: it has committed nothing yet that could make them safe earlier).
    pub fn stage(&mut self) {
        self.stage_records(0, self.freed_now.clone());
        let volatile: Vec<Extent> = self
            .freed_volatile
            .iter()
            .chain(&self.txn_free)
            .copied()
            .collect();
        self.stage_records(VOLATILE, volatile);
    }

    /// Writes `all` as records `(txn, first_seq..)` and drops older ones of that kind.
    fn stage_records(&mut self, first_seq: u32, mut all: Vec<Extent>) {
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
            let key = (self.txn, first_seq | seq as u32);
            if self.records.get(&key).map(Vec::as_slice) != Some(*chunk) {
                self.set_record(key, chunk.to_vec());
                self.changed.insert(key);
            }
        }
        let last_seq = first_seq | (VOLATILE - 1);
        let stale: Vec<RecordKey> = self
            .records
            .range((self.txn, first_seq | chunks.len() as u32)..=(self.txn, last_seq))
            .map(|(k, _)| *k)
            .collect();
        for key in stale {
            self.remove_record(key);
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
            let horizons = self.horizons;
            let found = self
                .records
                .range(..=(horizons.readers, u32::MAX))
                .filter(|(key, _)| horizons.reusable(**key))
                .find_map(|(key, extents)| {
                    extents
                        .iter()
                        .position(|&(s, l)| s + l == hw)
                        .map(|i| (*key, i))
                });
            let Some((key, i)) = found else { break };
            let extents = self.records.get_mut(&key).expect("key just found");
            self.high_water = extents.remove(i).0;
            if extents.is_empty() {
                self.remove_record(key);
            }
            self.changed.insert(key);
        }
        before - self.high_water
    }

    /// The transaction begun last.
    pub(crate) fn txn_id(&self) -> TxnId {
        self.txn
    }

    /// The set of volatile record keys (for [`FreeList::verify`]).
    pub(crate) fn volatile_keys(&self) -> &BTreeSet<RecordKey> {
        &self.volatile
    }

    /// Whether record `key` exists.
    pub(crate) fn has_record(&self, key: RecordKey) -> bool {
        self.records.contains_key(&key)
    }

    /// This transaction's frees: (allocated and freed, freed reachable from the durable
    /// commit, freed written after it).
    pub(crate) fn txn_extents(&self) -> (&[Extent], &[Extent], &[Extent]) {
        (&self.txn_free, &self.freed_now, &self.freed_volatile)
    }

    /// Free and pending page counts for a transaction that would begin with `horizons`.
    pub fn stats(&self, horizons: Horizons) -> FreeStats {
        let mut stats = FreeStats::default();
        for (key, extents) in &self.records {
            let pages: u64 = extents.iter().map(|e| e.1).sum();
            if horizons.reusable(*key) {
                stats.free += pages
            } else {
                stats.pending += pages
            }
        }
        stats
    }
}

/// The extent of `extents` to take a run of `count` pages from (a run must not cross a
/// segment end). The lowest extent, so allocation drifts toward the start of the file and a
/// free tail can be given back.
fn find_run(
    extents: &[Extent],
    count: u64,
    segment_end: &impl Fn(PageNo) -> PageNo,
) -> Option<usize> {
    if count == 1 {
        (!extents.is_empty()).then_some(0)
    } else {
        extents
            .iter()
            .position(|&(s, l)| l >= count && s + count <= segment_end(s))
    }
}

/// Takes `count` contiguous pages from `extents`, if they hold such a run.
fn take_from(
    extents: &mut Vec<Extent>,
    count: u64,
    segment_end: &impl Fn(PageNo) -> PageNo,
) -> Option<PageNo> {
    let i = find_run(extents, count, segment_end)?;
    Some(cut(extents, i, count))
}

/// Takes the first `count` pages of extent `i`, which holds at least that many.
fn cut(extents: &mut Vec<Extent>, i: usize, count: u64) -> PageNo {
    let (start, len) = extents[i];
    if len == count {
        extents.remove(i);
    } else {
        extents[i] = (start + count, len - count);
    }
    start
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
        let horizons = Horizons {
            readers: 6,
            durable: 8,
        };
        fl.begin(9, horizons, 100);
        assert_eq!(fl.alloc(1, seg), 10);
        assert_eq!(fl.alloc(1, seg), 11);
        assert_eq!(
            fl.alloc(1, seg),
            100,
            "txn 8's pages wait: the horizon is 6"
        );
        assert_eq!(
            fl.stats(horizons),
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
        fl.begin(
            2,
            Horizons {
                readers: 1,
                durable: 1,
            },
            10,
        );
        let p = fl.alloc(1, seg);
        fl.free(p, 1, true, 2);
        assert_eq!(fl.alloc(1, seg), p);
        let small_seg = |p: PageNo| if p < 16 { 16 } else { 48 };
        assert_eq!(
            fl.alloc(8, small_seg),
            16,
            "a run crossing page 16 starts at the next segment"
        );
        assert_eq!(fl.alloc(1, small_seg), 11, "the skipped tail is reused");
        fl.free(40, 3, false, 1);
        fl.stage();
        let records: Vec<_> = fl.records().filter(|(k, _)| k.0 == 2).collect();
        assert_eq!(
            records,
            vec![(&(2, 0), &vec![(40, 3)]), (&(2, VOLATILE), &vec![(12, 4)])],
            "the skipped tail was never committed: volatile"
        );
    }

    /// Pages written after the durable commit (by NoSync commits) are reusable once readers
    /// move on; pages the durable commit holds wait for the next durable commit.
    #[test]
    fn volatile_records_wait_only_for_readers() {
        let mut fl = FreeList::default();
        // Durable commit 3; txn 4 and 5 are NoSync commits.
        let nosync = Horizons {
            readers: TxnId::MAX,
            durable: 3,
        };
        fl.begin(5, nosync, 100);
        fl.free(10, 1, false, 2); // written by 2, durable: settled record
        fl.free(20, 1, false, 4); // written by 4, after the durable commit: volatile
        fl.stage();
        assert_eq!(
            fl.take_changed(),
            vec![
                ((5, 0), Some(vec![(10, 1)])),
                ((5, VOLATILE), Some(vec![(20, 1)]))
            ]
        );
        let committed: BTreeMap<_, _> = fl.records().map(|(k, v)| (*k, v.clone())).collect();
        fl.begin(6, nosync, 100);
        assert_eq!(
            fl.alloc(1, seg),
            20,
            "volatile: no durable snapshot holds it"
        );
        assert_eq!(fl.alloc(1, seg), 100, "page 10 waits for a durable commit");
        assert_eq!(
            fl.stats(nosync),
            FreeStats {
                free: 0,
                pending: 1
            }
        );

        let mut fl = FreeList::from_records(committed.clone());
        let reader_on_4 = Horizons {
            readers: 4,
            durable: 3,
        };
        fl.begin(6, reader_on_4, 101);
        assert_eq!(
            fl.alloc(1, seg),
            101,
            "a reader of snapshot 4 still sees page 20"
        );
        let durable_5 = Horizons {
            readers: TxnId::MAX,
            durable: 5,
        };
        let mut fl = FreeList::from_records(committed.clone());
        fl.begin(7, durable_5, 101);
        assert_eq!(fl.alloc(1, seg), 10);
        assert_eq!(fl.alloc(1, seg), 20);

        // The durable commit ahead of the oldest reader.
        let mut fl = FreeList::from_records(committed);
        let reader_on_3 = Horizons {
            readers: 3,
            durable: 5,
        };
        fl.begin(7, reader_on_3, 101);
        assert_eq!(
            fl.alloc(1, seg),
            101,
            "a reader of snapshot 3 sees both pages"
        );
    }
}
