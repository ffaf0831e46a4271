//! The file under a nevar database, and its memory.
//!
//! A [`Pager`] turns page numbers into slices of mapped memory. The file grows by mapping new
//! [segments](segments) of geometrically increasing size; a segment, once mapped, never moves
//! and never unmaps while the pager lives, so a slice handed to a reader stays valid for the
//! reader's whole life. Memory comes from a [`Storage`] backend: [`FileStorage`] (a real file,
//! locked, grown with `fallocate`, mapped with `mmap`) or [`SimulatedDisk`] (heap memory that can
//! produce power-loss images for crash tests). A pager whose file grows starts one thread,
//! which prefaults each growth step writable ahead of the writer, and joins it when it drops.
//!
//! This is the only nevar crate with `unsafe` code: handing out slices of mapped memory, and
//! the CPU's prefetch instruction behind [`prefetch`].

mod dir;
mod dirty;
mod error;
mod faults;
mod file;
mod pager;
mod prefault;
mod prefetch;
pub mod segments;
mod sim;
mod sim_dir;
mod storage;

pub use dir::{Access, Directory, OsDirectory};
pub use dirty::{Dirty, DirtyRun, Generation};
pub use error::{PagerError, Result};
pub use faults::{Fault, FaultyStorage, StorageCall};
pub use file::FileStorage;
pub use pager::{DEFAULT_SEGMENT_BASE, MAX_GROWTH, MIN_GROWTH, Pager, PagerStats};
pub use prefetch::prefetch;
pub use sim::{CrashMode, DiskOp, SimulatedDisk};
pub use sim_dir::{DirOp, SimulatedDir};
pub use storage::{Region, Storage};

/// A page number (same as `nevar_page::PageNo`).
pub type PageNo = u64;
