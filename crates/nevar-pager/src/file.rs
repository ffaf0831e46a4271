//! The real backend: a locked file, grown with `fallocate`, mapped with `mmap`.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::FileExt;
use std::path::Path;

use memmap2::{MmapOptions, MmapRaw};

use crate::error::{PagerError, Result};
use crate::storage::{Region, Storage};

/// A database file held under an exclusive advisory lock (`flock`), which makes a second open
/// (another process, or another handle in this one) fail with [`PagerError::AlreadyOpen`].
pub struct FileStorage {
    file: File,
    writable: bool,
    /// Advise read-only maps to use huge pages (see [`FileStorage::with_huge_pages`]).
    huge_pages: bool,
}

impl FileStorage {
    /// Opens (creating if missing) and locks the file at `path`.
    pub fn open(path: &Path) -> Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(PagerError::io("open"))?;
        FileStorage::lock(file, true)
    }

    /// Opens and locks an existing file without write access: its maps are read-only and
    /// `grow`, `truncate` and `sync` fail, so nothing can change the file through this handle.
    /// The lock is still exclusive, so no writer can change the file underneath either.
    pub fn open_read_only(path: &Path) -> Result<FileStorage> {
        let file = OpenOptions::new()
            .read(true)
            .open(path)
            .map_err(PagerError::io("open"))?;
        FileStorage::lock(file, false)
    }

    fn lock(file: File, writable: bool) -> Result<FileStorage> {
        match file.try_lock() {
            Ok(()) => Ok(FileStorage {
                file,
                writable,
                huge_pages: false,
            }),
            Err(TryLockError::WouldBlock) => Err(PagerError::AlreadyOpen),
            Err(TryLockError::Error(e)) => Err(PagerError::Io {
                op: "lock",
                source: e,
            }),
        }
    }
}

impl FileStorage {
    /// Advises every map of this read-only handle to use huge pages (`MADV_HUGEPAGE`): where
    /// the kernel keeps the file's page cache in 2 MiB folios (file-backed transparent huge
    /// pages, large folios on ext4 or xfs), one TLB entry then covers 512 pages, so random
    /// reads of a file that fits in memory miss the TLB less. The price is readahead: each
    /// page-cache miss may read up to 2 MiB, which is why it is not the default. Writable maps
    /// never get it (see `WRITABLE_MAP_ADVICE`). A kernel without the advice ignores it.
    pub fn with_huge_pages(mut self) -> FileStorage {
        self.huge_pages = !self.writable;
        self
    }

    fn check_writable(&self, op: &'static str) -> Result<()> {
        if self.writable {
            return Ok(());
        }
        Err(PagerError::Io {
            op,
            source: std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the file was opened read-only",
            ),
        })
    }
}

/// Advice for maps a writer writes through: no readahead, so a fault brings in one page.
///
/// Why: the kernel writes back whole page-cache folios, and a write through a shared map marks
/// its entire folio dirty. Readahead fills the cache with large folios (up to megabytes on
/// Linux 6.x), so a commit that changed six pages wrote 1.5 MiB (measured: 375 pages written
/// per single-insert commit, 0.67 ms per fdatasync). With page-sized folios the same commit
/// writes its six pages. LMDB offers the same choice as `MDB_NORDAHEAD`; its writes go through
/// `pwrite`, which dirties only the blocks written, so it does not need it by default.
/// Read-only opens keep readahead: nothing is written through their maps.
const WRITABLE_MAP_ADVICE: memmap2::Advice = memmap2::Advice::Random;

struct MappedRegion(MmapRaw);

// SAFETY: an `MmapRaw` is one mapping of `len()` bytes that stays put until it is dropped;
// only the pager's slices touch it.
unsafe impl Region for MappedRegion {
    fn as_ptr(&self) -> *mut u8 {
        self.0.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn prefault_writable(&self, offset: usize, len: usize) {
        // Advice only: a kernel before Linux 5.14 refuses it (EINVAL) and the first stores
        // fault as before. Bytes past the file's end (a shrink since) fail with EFAULT, not a
        // signal, and existing pages keep their bytes.
        let _ = self
            .0
            .advise_range(memmap2::Advice::PopulateWrite, offset, len);
    }
    fn prefaults(&self) -> bool {
        true
    }
}

impl Storage for FileStorage {
    fn len(&self) -> Result<u64> {
        Ok(self.file.metadata().map_err(PagerError::io("stat"))?.len())
    }

    fn grow(&self, len: u64) -> Result<()> {
        self.check_writable("grow")?;
        let old = self.len()?;
        if len <= old {
            return Ok(());
        }
        match rustix::fs::fallocate(
            &self.file,
            rustix::fs::FallocateFlags::empty(),
            old,
            len - old,
        ) {
            Ok(()) => Ok(()),
            Err(rustix::io::Errno::OPNOTSUPP) => {
                // No fallocate on this filesystem: extend, then write a zero into every block of
                // the new range so the blocks are really allocated now.
                self.file.set_len(len).map_err(PagerError::io("grow"))?;
                let mut at = old;
                while at < len {
                    self.file
                        .write_at(&[0], at)
                        .map_err(PagerError::io("grow probe"))?;
                    at += 4096;
                }
                Ok(())
            }
            Err(e) => Err(PagerError::Io {
                op: "grow",
                source: e.into(),
            }),
        }
    }

    fn truncate(&self, len: u64) -> Result<()> {
        self.check_writable("truncate")?;
        self.file.set_len(len).map_err(PagerError::io("truncate"))
    }

    fn map(&self, offset: u64, len: usize) -> Result<Box<dyn Region>> {
        // `MmapRaw` hands out a raw pointer; all access goes through the pager's checks.
        let mut options = MmapOptions::new();
        options.offset(offset).len(len);
        let map = if self.writable {
            options.map_raw(&self.file)
        } else {
            options.map_raw_read_only(&self.file)
        }
        .map_err(PagerError::io("map"))?;
        if self.writable {
            // Page-sized page-cache folios: see `WRITABLE_MAP_ADVICE`.
            map.advise(WRITABLE_MAP_ADVICE)
                .map_err(PagerError::io("madvise"))?;
        } else if self.huge_pages {
            // Advice only: a kernel built without transparent huge pages refuses it (EINVAL),
            // and the map works the same without it.
            let _ = map.advise(memmap2::Advice::HugePage);
        }
        Ok(Box::new(MappedRegion(map)))
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        self.file
            .read_at(buf, offset)
            .map_err(PagerError::io("read"))
    }

    fn writable(&self) -> bool {
        self.writable
    }

    fn sync(&self) -> Result<()> {
        self.check_writable("sync")?;
        // On Linux, pages dirtied through a shared map live in the page cache of this inode, so
        // one fdatasync makes them durable together with any change of the file's length.
        self.file.sync_data().map_err(PagerError::io("sync"))
    }
}
