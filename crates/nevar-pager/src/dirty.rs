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
#[derive(Default)]
pub struct Dirty {
    runs: HashMap<PageNo, u32, BuildHasherDefault<PageNoHasher>>,
}

impl Dirty {
    /// An empty set.
    pub fn new() -> Dirty {
        Dirty::default()
    }

    /// Records that the run of `count` pages at `first` belongs to this transaction.
    pub fn insert(&mut self, first: PageNo, count: u32) {
        self.runs.insert(first, count);
    }

    /// Forgets the run starting at `first`, returning its length.
    pub fn remove(&mut self, first: PageNo) -> Option<u32> {
        self.runs.remove(&first)
    }

    /// Length of the dirty run starting at `first`, if there is one.
    #[inline]
    pub fn run_len(&self, first: PageNo) -> Option<u32> {
        self.runs.get(&first).copied()
    }

    /// Whether page `no` starts a dirty run.
    #[inline]
    pub fn contains(&self, no: PageNo) -> bool {
        self.runs.contains_key(&no)
    }

    /// Every dirty run as (first page, pages).
    pub fn runs(&self) -> impl Iterator<Item = (PageNo, u32)> + '_ {
        self.runs.iter().map(|(&p, &n)| (p, n))
    }

    /// Number of runs.
    pub fn len(&self) -> usize {
        self.runs.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Empties the set.
    pub fn clear(&mut self) {
        self.runs.clear();
    }
}
