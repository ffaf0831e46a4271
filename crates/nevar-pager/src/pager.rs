//! Page numbers to memory, growth, sync.

use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::PageNo;
use crate::dirty::Dirty;
use crate::error::{PagerError, Result};
use crate::prefault::{MAX_JOB, PrefaultJob, Prefaulter};
use crate::segments::{Geometry, MAX_SEGMENTS};
use crate::storage::{Region, Storage};

/// Default size of segment 0: 64 MiB of address space (the file itself grows in smaller steps).
pub const DEFAULT_SEGMENT_BASE: u64 = 64 << 20;
/// Smallest growth step of the file (also the size of a freshly created file).
pub const MIN_GROWTH: u64 = 1 << 20;
/// Largest growth step: the most space a grown file holds beyond what it uses. An eighth of
/// the file (the step below this cap) keeps growth rare while the file is small; the cap keeps
/// a large file from carrying reserved but unused blocks. A quarter of a 600 MiB file made it
/// 17% larger than LMDB's after `cargo xtask bench`'s write phases, a 16 MiB cap 3.4% (11 MiB of
/// it slack); at 2 MiB a 530 MiB load makes 270 `fallocate` calls of 16 us each.
pub const MAX_GROWTH: u64 = 2 << 20;

/// Counters for statistics and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PagerStats {
    /// Sync points (`sync` calls that reached the storage).
    pub syncs: u64,
    /// Times the file was extended.
    pub grows: u64,
    /// Pages in the file.
    pub file_pages: u64,
    /// Segments mapped.
    pub segments: usize,
}

/// Hands out pages of mapped memory by page number.
///
/// Invariants:
/// - `segments[k]` is written once (null to the mapping's address) and never changes again;
///   the mapping it points to lives as long as the pager (kept in `regions`).
/// - `file_pages` only counts pages backed by the storage, so a checked access never faults.
/// - No mutable page is handed out over a read-only storage (`writable` is false).
pub struct Pager {
    /// First field, so it drops (joining its thread) before the mappings and the storage.
    prefaulter: Prefaulter,
    storage: Box<dyn Storage>,
    writable: bool,
    page_size: usize,
    page_shift: u32,
    geometry: Geometry,
    segments: [AtomicPtr<u8>; MAX_SEGMENTS],
    regions: Mutex<Vec<Arc<dyn Region>>>,
    file_pages: AtomicU64,
    syncs: AtomicU64,
    grows: AtomicU64,
}

impl Pager {
    /// A pager over `storage` with pages of `page_size` bytes and segment 0 of `segment_base`
    /// bytes (a power of two, at least the page size). Maps the storage's current length.
    pub fn new(storage: Box<dyn Storage>, page_size: usize, segment_base: u64) -> Result<Pager> {
        assert!(page_size.is_power_of_two() && segment_base >= page_size as u64);
        let len = storage.len()?;
        let pager = Pager {
            prefaulter: Prefaulter::default(),
            writable: storage.writable(),
            storage,
            page_size,
            page_shift: page_size.trailing_zeros(),
            geometry: Geometry::new(segment_base),
            segments: std::array::from_fn(|_| AtomicPtr::new(std::ptr::null_mut())),
            regions: Mutex::new(Vec::new()),
            file_pages: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
            grows: AtomicU64::new(0),
        };
        let pages = len / page_size as u64;
        pager.map_through(pages)?;
        pager.file_pages.store(pages, Ordering::Release);
        Ok(pager)
    }

    /// The page size.
    pub fn page_size(&self) -> usize {
        self.page_size
    }

    /// The storage under this pager.
    pub fn storage(&self) -> &dyn Storage {
        &*self.storage
    }

    /// Pages the file holds now.
    #[inline]
    pub fn file_pages(&self) -> u64 {
        self.file_pages.load(Ordering::Acquire)
    }

    /// Counters.
    pub fn stats(&self) -> PagerStats {
        PagerStats {
            syncs: self.syncs.load(Ordering::Relaxed),
            grows: self.grows.load(Ordering::Relaxed),
            file_pages: self.file_pages(),
            segments: self.regions.lock().expect("pager lock").len(),
        }
    }

    /// First page of the segment after the one holding page `no`: a run starting at `no`
    /// must end at or before it.
    pub fn segment_end(&self, no: PageNo) -> PageNo {
        let k = self.geometry.segment_of(no << self.page_shift);
        self.geometry.end(k) >> self.page_shift
    }

    /// Checks the run `[no, no + count)` and returns the address of its first byte.
    #[inline]
    fn locate(&self, no: PageNo, count: u64) -> Result<*mut u8> {
        let file_pages = self.file_pages();
        match no.checked_add(count) {
            Some(end) if count > 0 && end <= file_pages => {}
            _ => {
                return Err(PagerError::OutOfBounds {
                    page: no,
                    count,
                    file_pages,
                });
            }
        }
        let offset = no << self.page_shift;
        let k = self.geometry.segment_of(offset);
        let last = (no + count) << self.page_shift;
        if last > self.geometry.end(k) {
            return Err(PagerError::StraddlesSegment { page: no, count });
        }
        let base = self.segments[k].load(Ordering::Acquire);
        debug_assert!(!base.is_null(), "pages below file_pages are mapped");
        if base.is_null() {
            return Err(PagerError::OutOfBounds {
                page: no,
                count,
                file_pages,
            });
        }
        // SAFETY: `offset - start(k)` is inside segment k's mapping (checked against its end
        // above), so the pointer stays within one allocated object.
        Ok(unsafe { base.add((offset - self.geometry.start(k)) as usize) })
    }

    /// The bytes of page `no`.
    #[inline]
    pub fn page(&self, no: PageNo) -> Result<&[u8]> {
        self.run(no, 1)
    }

    /// The bytes of the `count` pages starting at `no`, as one slice.
    #[inline]
    pub fn run(&self, no: PageNo, count: u64) -> Result<&[u8]> {
        let ptr = self.locate(no, count)?;
        // SAFETY: `locate` proved the range lies inside one live mapping backed by the file,
        // and mappings live as long as `self`. Nobody writes these bytes while the slice lives:
        // writers only write pages in their `Dirty` set, which by the MVCC invariant are
        // unreachable from any snapshot a reader reads through.
        Ok(unsafe { std::slice::from_raw_parts(ptr, (count << self.page_shift) as usize) })
    }

    /// Page `no` for writing; it must be a dirty page of the caller's transaction.
    #[inline]
    pub fn page_mut<'a>(&'a self, dirty: &'a mut Dirty, no: PageNo) -> Result<&'a mut [u8]> {
        self.run_mut(dirty, no, 1)
    }

    /// The dirty run of `count` pages at `no`, for writing.
    pub fn run_mut<'a>(
        &'a self,
        dirty: &'a mut Dirty,
        no: PageNo,
        count: u64,
    ) -> Result<&'a mut [u8]> {
        if !dirty.writable(no, count) || !self.writable {
            return Err(PagerError::NotWritable { page: no });
        }
        let ptr = self.locate(no, count)?;
        // SAFETY: the range is inside one live mapping (see `run`). The run is in `dirty`, the
        // single writer's token, borrowed mutably for the slice's life, so no other mutable
        // slice of it exists; no reader can reach it (MVCC invariant: a dirty run, or pages
        // past the high water every snapshot was taken at, see `Dirty::insert_grown`).
        Ok(unsafe { std::slice::from_raw_parts_mut(ptr, (count << self.page_shift) as usize) })
    }

    /// Maps every segment needed to cover `pages` pages.
    fn map_through(&self, pages: u64) -> Result<()> {
        if pages == 0 {
            return Ok(());
        }
        let last = self.geometry.segment_of((pages << self.page_shift) - 1);
        if last >= MAX_SEGMENTS {
            return Err(PagerError::TooLarge { pages });
        }
        let mut regions = self.regions.lock().expect("pager lock");
        for k in 0..=last {
            if !self.segments[k].load(Ordering::Acquire).is_null() {
                continue;
            }
            let len = usize::try_from(self.geometry.len(k))
                .map_err(|_| PagerError::TooLarge { pages })?;
            let region = self.storage.map(self.geometry.start(k), len)?;
            self.segments[k].store(region.as_ptr(), Ordering::Release);
            regions.push(Arc::from(region));
            tracing::debug!(segment = k, bytes = len, "mapped segment");
        }
        Ok(())
    }

    /// Makes the file hold at least `pages` pages, growing it by an eighth, at least
    /// [`MIN_GROWTH`] and at most [`MAX_GROWTH`], so growth is rare. Space is reserved now: a
    /// full disk fails here.
    pub fn grow_to(&self, pages: PageNo) -> Result<()> {
        let have = self.file_pages();
        if pages <= have {
            return Ok(());
        }
        let step = (have / 8).clamp(MIN_GROWTH >> self.page_shift, MAX_GROWTH >> self.page_shift);
        let target = pages.max(have + step);
        let _span = tracing::debug_span!("grow", from_pages = have, to_pages = target).entered();
        self.map_through(target)?;
        self.storage.grow(target << self.page_shift)?;
        self.prefault(have << self.page_shift, target << self.page_shift);
        self.grows.fetch_add(1, Ordering::Relaxed);
        self.file_pages.store(target, Ordering::Release);
        Ok(())
    }

    /// Has the grown bytes `[from, to)` prefaulted writable, segment by segment, by the
    /// prefault thread (see `prefault.rs` for why and why it is sound). It does not wait: the
    /// writer starts on the step's first pages while the thread runs ahead of it, and the
    /// advice changes no byte of them.
    fn prefault(&self, from: u64, to: u64) {
        let regions = self.regions.lock().expect("pager lock");
        let mut at = from;
        while at < to {
            let k = self.geometry.segment_of(at);
            let end = to.min(self.geometry.end(k));
            let start = self.geometry.start(k);
            let region = &regions[k];
            let (offset, len) = ((at - start) as usize, (end - at) as usize);
            if region.prefaults() {
                for chunk in (0..len).step_by(MAX_JOB) {
                    self.prefaulter.submit(PrefaultJob {
                        region: Arc::clone(region),
                        offset: offset + chunk,
                        len: MAX_JOB.min(len - chunk),
                    });
                }
            }
            at = end;
        }
    }

    /// Blocks until the prefault of every growth step so far has run (for tests that look at
    /// the page tables).
    pub fn wait_prefaulted(&self) {
        self.prefaulter.wait_idle();
    }

    /// Shrinks the file to `pages` pages. The caller guarantees no snapshot can reach a page at
    /// or beyond `pages`; the mappings stay (only file blocks are given back).
    pub fn shrink_to(&self, pages: PageNo) -> Result<()> {
        if pages >= self.file_pages() {
            return Ok(());
        }
        self.file_pages.store(pages, Ordering::Release);
        self.storage.truncate(pages << self.page_shift)
    }

    /// Makes every page written so far durable: one sync point.
    pub fn sync(&self) -> Result<()> {
        self.storage.sync()?;
        self.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}
