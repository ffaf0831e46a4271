//! The free list's own checker: [`FreeList::verify`].

use nevar_page::{META_PAGES, PageNo};

use crate::list::FreeList;
use crate::record::{Extent, RecordKey, is_volatile};

/// A broken invariant of the free list, with the page where it shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("free list: page {page}: {what}")]
pub struct FreeListProblem {
    /// The first page concerned.
    pub page: PageNo,
    /// The kind of fault.
    pub kind: FreeListFault,
    /// What is wrong.
    pub what: String,
}

/// The kinds of [`FreeListProblem`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FreeListFault {
    /// Two extents share a page: a page free twice.
    Overlap,
    /// An extent reaches a meta page or past the high-water mark, or is empty.
    OutOfRange,
    /// The records or the volatile key set contradict each other.
    Malformed,
}

/// Where a free extent was found, for messages.
#[derive(Debug, Clone, Copy)]
enum Held {
    Record(RecordKey),
    FreedInTxn,
    FreedNow,
    FreedVolatile,
}

impl FreeList {
    /// Checks the index: every extent is non-empty, lies between the meta pages and the
    /// high-water mark and overlaps no other; each record's extents are sorted; the volatile
    /// key set is exactly the volatile records. Tests call it after mutating; commits call
    /// it in debug builds. That no live tree holds a free page is the database checker's part
    /// (it sees the trees).
    ///
    /// Between the first stage of a commit's flush and the next begin, this transaction's
    /// frees are held twice, in its own records and in its lists, so two sets are checked for
    /// overlaps: every record; and the records of earlier transactions with the lists.
    pub fn verify(&self) -> Result<(), FreeListProblem> {
        let mut records: Vec<(Extent, Held)> = Vec::new();
        for (key, extents) in self.records() {
            if extents.is_empty() {
                return problem(
                    FreeListFault::Malformed,
                    0,
                    format!("record {key:?} is empty"),
                );
            }
            for w in extents.windows(2) {
                let ((a, a_len), (b, _)) = (w[0], w[1]);
                if a > b {
                    return problem(
                        FreeListFault::Malformed,
                        b,
                        format!("record {key:?} is not sorted"),
                    );
                }
                if a.saturating_add(a_len) > b {
                    return problem(
                        FreeListFault::Overlap,
                        b,
                        format!("record {key:?} holds page {b} twice"),
                    );
                }
            }
            if is_volatile(*key) != self.volatile_keys().contains(key) {
                return problem(
                    FreeListFault::Malformed,
                    extents[0].0,
                    format!("record {key:?} missing from the volatile set"),
                );
            }
            records.extend(extents.iter().map(|&e| (e, Held::Record(*key))));
        }
        if let Some(key) = self.volatile_keys().iter().find(|k| !self.has_record(**k)) {
            return problem(
                FreeListFault::Malformed,
                0,
                format!("volatile key {key:?} has no record"),
            );
        }
        let (txn_free, freed_now, freed_volatile) = self.txn_extents();
        let mut earlier: Vec<(Extent, Held)> = records
            .iter()
            .filter(|(_, held)| !matches!(held, Held::Record((txn, _)) if *txn == self.txn_id()))
            .copied()
            .collect();
        earlier.extend(txn_free.iter().map(|&e| (e, Held::FreedInTxn)));
        earlier.extend(freed_now.iter().map(|&e| (e, Held::FreedNow)));
        earlier.extend(freed_volatile.iter().map(|&e| (e, Held::FreedVolatile)));
        disjoint_in_range(records, self.high_water())?;
        disjoint_in_range(earlier, self.high_water())
    }
}

/// Checks that `all` are non-empty, inside `META_PAGES..high_water` and pairwise disjoint.
fn disjoint_in_range(
    mut all: Vec<(Extent, Held)>,
    high_water: PageNo,
) -> Result<(), FreeListProblem> {
    all.sort_unstable_by_key(|((start, _), _)| *start);
    let mut previous: Option<(Extent, Held)> = None;
    for &((start, len), held) in &all {
        if len == 0 {
            return problem(
                FreeListFault::OutOfRange,
                start,
                format!("empty extent in {held:?}"),
            );
        }
        let end = start.checked_add(len).unwrap_or(PageNo::MAX);
        if start < META_PAGES || end > high_water {
            return problem(
                FreeListFault::OutOfRange,
                start,
                format!(
                    "extent of {len} pages in {held:?} outside pages {META_PAGES}..{high_water}"
                ),
            );
        }
        if let Some(((p_start, p_len), p_held)) = previous
            && p_start + p_len > start
        {
            return problem(
                FreeListFault::Overlap,
                start,
                format!("free in both {p_held:?} and {held:?}"),
            );
        }
        previous = Some(((start, len), held));
    }
    Ok(())
}

fn problem(kind: FreeListFault, page: PageNo, what: String) -> Result<(), FreeListProblem> {
    Err(FreeListProblem { page, kind, what })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::list::Horizons;

    fn seg(_: PageNo) -> PageNo {
        PageNo::MAX
    }

    #[test]
    fn a_consistent_list_verifies_through_alloc_free_stage_and_trim() {
        let mut records = BTreeMap::new();
        records.insert((3, 0), vec![(10, 4), (20, 1)]);
        let mut list = FreeList::from_records(records);
        list.begin(
            5,
            Horizons {
                readers: 9,
                durable: 9,
            },
            40,
        );
        list.verify().unwrap();
        let a = list.alloc(2, seg);
        let b = list.alloc(3, seg);
        list.free(a, 2, true, 5);
        list.free(30, 2, false, 2);
        list.verify().unwrap();
        list.stage();
        list.trim_tail();
        list.verify().unwrap();
        assert!(b >= 10);
    }

    #[test]
    fn overlaps_and_out_of_range_extents_are_found() {
        let mut records = BTreeMap::new();
        records.insert((3, 0), vec![(10, 4)]);
        records.insert((4, 0), vec![(12, 1)]);
        let mut list = FreeList::from_records(records);
        list.begin(5, Horizons::default(), 40);
        let found = list.verify().unwrap_err();
        assert_eq!(found.page, 12, "{found}");

        let mut records = BTreeMap::new();
        records.insert((3, 0), vec![(38, 4)]);
        let mut list = FreeList::from_records(records);
        list.begin(5, Horizons::default(), 40);
        assert_eq!(list.verify().unwrap_err().page, 38);

        let mut records = BTreeMap::new();
        records.insert((3, 0), vec![(1, 1)]);
        let mut list = FreeList::from_records(records);
        list.begin(5, Horizons::default(), 40);
        assert!(list.verify().unwrap_err().what.contains("outside"));

        let mut list = FreeList::from_records(BTreeMap::new());
        list.begin(5, Horizons::default(), 40);
        list.free(20, 2, false, 1);
        list.free(21, 1, true, 5);
        assert!(list.verify().unwrap_err().what.contains("both"));
    }
}
