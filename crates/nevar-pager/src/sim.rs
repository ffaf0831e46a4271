//! `SimulatedDisk`: heap memory standing in for a file, able to produce power-loss images.
//!
//! The disk keeps two states: the *volatile* one (what the regions hold, like a page cache)
//! and the *durable* one (what the last `sync` saw). [`SimulatedDisk::crash_image`] builds the
//! bytes a real disk might hold after losing power now: every 4 KiB block whose volatile
//! content differs from its durable content is kept, dropped, torn at 512-byte sectors or
//! filled with garbage, as a seed decides; the length is the durable or the volatile one.

use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::storage::{Region, Storage};

/// Granularity at which unsynced data is lost.
const BLOCK: usize = 4096;
/// Granularity of a torn write.
const SECTOR: usize = 512;

/// What may happen to each unsynced block in a crash image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashMode {
    /// Each unsynced block is kept, dropped or torn at random.
    Mixed,
    /// Every unsynced block reaches the disk.
    KeepAll,
    /// No unsynced block reaches the disk.
    DropAll,
    /// Each unsynced block is kept, dropped, torn, or filled with garbage.
    Hostile,
}

/// Heap-backed memory of one mapped range, allocated zeroed (the OS commits it lazily). Its
/// buffer never moves while the region lives.
struct HeapRegion {
    ptr: *mut u8,
    len: usize,
}

// SAFETY: the bytes are plain memory; concurrent access follows the pager's page discipline
// (readers read committed pages, the single writer writes only its own dirty pages), exactly
// as for a shared file mapping.
unsafe impl Sync for HeapRegion {}
// SAFETY: as above; the allocation is owned and may be freed from any thread.
unsafe impl Send for HeapRegion {}

impl HeapRegion {
    fn layout(len: usize) -> std::alloc::Layout {
        std::alloc::Layout::from_size_align(len.max(1), 4096).expect("region layout")
    }

    fn new(len: usize) -> HeapRegion {
        // SAFETY: the layout has non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(Self::layout(len)) };
        if ptr.is_null() {
            std::alloc::handle_alloc_error(Self::layout(len));
        }
        HeapRegion { ptr, len }
    }

    /// The bytes `[at, at + out.len())` of the region, copied out.
    fn read(&self, at: usize, out: &mut [u8]) {
        assert!(at + out.len() <= self.len);
        // SAFETY: in bounds (asserted); sync and crash calls come from the single writer thread,
        // so no write to these bytes runs concurrently.
        unsafe { std::ptr::copy_nonoverlapping(self.ptr.add(at), out.as_mut_ptr(), out.len()) }
    }

    /// Overwrites `[at, at + src.len())` (used while the region is not yet shared).
    fn write(&self, at: usize, src: &[u8]) {
        assert!(at + src.len() <= self.len);
        // SAFETY: in bounds (asserted); called before the region is handed to the pager.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr.add(at), src.len()) }
    }
}

impl Drop for HeapRegion {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout, freed once.
        unsafe { std::alloc::dealloc(self.ptr, Self::layout(self.len)) }
    }
}

// SAFETY: the allocation of `len` bytes lives as long as the last `Arc` and never moves; maps
// of one range share it like maps of one file share the page cache.
unsafe impl Region for Arc<HeapRegion> {
    fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }
    fn len(&self) -> usize {
        self.len
    }
}

/// A storage call, as seen by a hook (see [`SimulatedDisk::on_op`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskOp {
    /// The storage is about to be extended to this many bytes.
    Grow(u64),
    /// The storage is about to be cut to this many bytes.
    Truncate(u64),
    /// A range at this offset, of this length, is about to be mapped.
    Map(u64, usize),
    /// Everything written so far is about to become durable.
    Sync,
}

/// A function run at the start of every storage call it watches, before the call acts.
type OpHook = Arc<dyn Fn(DiskOp) + Send + Sync>;

#[derive(Default)]
struct SimState {
    len: u64,
    durable: Vec<u8>,
    regions: Vec<(u64, Arc<HeapRegion>)>,
    syncs: u64,
    hook: Option<OpHook>,
}

impl SimState {
    /// The volatile bytes `[at, at + out.len())`: from regions where mapped, else durable.
    fn volatile(&self, at: u64, out: &mut [u8]) {
        out.fill(0);
        let end = at + out.len() as u64;
        let known = (self.durable.len() as u64).clamp(at, end);
        if known > at {
            out[..(known - at) as usize]
                .copy_from_slice(&self.durable[at as usize..known as usize]);
        }
        for (start, region) in &self.regions {
            let (from, to) = (at.max(*start), end.min(start + region.len as u64));
            if from < to {
                region.read(
                    (from - start) as usize,
                    &mut out[(from - at) as usize..(to - at) as usize],
                );
            }
        }
    }

    /// Makes the volatile bytes durable, in place (no second copy of the disk).
    fn persist(&mut self) {
        let len = self.len as usize;
        self.durable.resize(len, 0);
        for (start, region) in &self.regions {
            let start = *start as usize;
            let end = (start + region.len).min(len);
            if start < end {
                region.read(0, &mut self.durable[start..end]);
            }
        }
    }
}

/// A simulated disk for crash tests. Clones share the same disk.
#[derive(Clone, Default)]
pub struct SimulatedDisk {
    state: Arc<Mutex<SimState>>,
}

impl SimulatedDisk {
    /// An empty disk.
    pub fn new() -> SimulatedDisk {
        SimulatedDisk::default()
    }

    /// A disk whose durable content is `image` (e.g. a crash image of another disk).
    pub fn from_image(image: Vec<u8>) -> SimulatedDisk {
        let disk = SimulatedDisk::new();
        {
            let mut s = disk.state.lock().expect("sim lock");
            s.len = image.len() as u64;
            s.durable = image;
        }
        disk
    }

    /// Runs `hook` at the start of every sync, before anything becomes durable: the moment a
    /// power loss hurts most. Crash tests take their images there.
    pub fn on_sync(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.on_op(move |op| {
            if op == DiskOp::Sync {
                hook()
            }
        });
    }

    /// Runs `hook` at the start of every grow, truncate, map and sync call, before it acts
    /// (replacing any earlier hook). Growth crash tests take images at each of these steps.
    pub fn on_op(&self, hook: impl Fn(DiskOp) + Send + Sync + 'static) {
        self.state.lock().expect("sim lock").hook = Some(Arc::new(hook));
    }

    fn run_hook(&self, op: DiskOp) {
        let hook = self.state.lock().expect("sim lock").hook.clone();
        if let Some(hook) = hook {
            hook(op);
        }
    }

    /// Number of sync calls so far.
    pub fn syncs(&self) -> u64 {
        self.state.lock().expect("sim lock").syncs
    }

    /// What the disk would hold after losing power now.
    pub fn crash_image(&self, seed: u64, mode: CrashMode) -> Vec<u8> {
        let s = self.state.lock().expect("sim lock");
        let mut rng = SplitMix(seed);
        let len = if s.len as usize == s.durable.len() || rng.next().is_multiple_of(2) {
            s.durable.len()
        } else {
            s.len as usize
        };
        let mut image = s.durable.clone();
        image.resize(len, 0);
        let mut block = vec![0u8; BLOCK];
        for (b, chunk) in image.chunks_mut(BLOCK).enumerate() {
            let at = b * BLOCK;
            if at + chunk.len() > s.len as usize {
                continue;
            }
            let new = &mut block[..chunk.len()];
            s.volatile(at as u64, new);
            let new = &*new;
            if new == chunk {
                continue;
            }
            let choice = match mode {
                CrashMode::KeepAll => 0,
                CrashMode::DropAll => 1,
                CrashMode::Mixed => rng.next() % 3,
                CrashMode::Hostile => rng.next() % 4,
            };
            match choice {
                0 => chunk.copy_from_slice(new),
                1 => {}
                2 => {
                    for (sector, (dst, src)) in
                        chunk.chunks_mut(SECTOR).zip(new.chunks(SECTOR)).enumerate()
                    {
                        if (rng.next() >> (sector % 8)) & 1 == 1 {
                            dst.copy_from_slice(src);
                        }
                    }
                }
                _ => chunk.iter_mut().for_each(|b| *b = rng.next() as u8),
            }
        }
        image
    }

    /// The durable bytes (what a crash that drops every unsynced block would leave).
    pub fn durable_image(&self) -> Vec<u8> {
        self.state.lock().expect("sim lock").durable.clone()
    }
}

impl Storage for SimulatedDisk {
    fn len(&self) -> Result<u64> {
        Ok(self.state.lock().expect("sim lock").len)
    }

    fn grow(&self, len: u64) -> Result<()> {
        self.run_hook(DiskOp::Grow(len));
        let mut s = self.state.lock().expect("sim lock");
        s.len = s.len.max(len);
        Ok(())
    }

    fn truncate(&self, len: u64) -> Result<()> {
        self.run_hook(DiskOp::Truncate(len));
        let mut s = self.state.lock().expect("sim lock");
        s.len = len;
        Ok(())
    }

    fn map(&self, offset: u64, len: usize) -> Result<Box<dyn Region>> {
        self.run_hook(DiskOp::Map(offset, len));
        let mut s = self.state.lock().expect("sim lock");
        // Maps of one range share memory, as shared file maps share the page cache: a handle
        // reopened after a failed sync sees what the old one wrote, through maps and reads.
        if let Some((_, region)) = s.regions.iter().find(|(o, r)| *o == offset && r.len == len) {
            return Ok(Box::new(Arc::clone(region)));
        }
        let region = Arc::new(HeapRegion::new(len));
        let known = (s.len.saturating_sub(offset) as usize).min(len);
        if known > 0 {
            let mut bytes = vec![0u8; known];
            s.volatile(offset, &mut bytes);
            region.write(0, &bytes);
        }
        s.regions.push((offset, Arc::clone(&region)));
        Ok(Box::new(region))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        let s = self.state.lock().expect("sim lock");
        let n = (s.len.saturating_sub(offset) as usize).min(buf.len());
        s.volatile(offset, &mut buf[..n]);
        Ok(n)
    }

    fn sync(&self) -> Result<()> {
        self.run_hook(DiskOp::Sync);
        let mut s = self.state.lock().expect("sim lock");
        s.persist();
        s.syncs += 1;
        Ok(())
    }
}

/// A tiny deterministic generator for crash choices (splitmix64).
pub(crate) struct SplitMix(pub(crate) u64);

impl SplitMix {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}
