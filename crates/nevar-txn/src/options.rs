//! Open options and durability modes.

use std::path::Path;
use std::sync::Arc;

use nevar_page::{DEFAULT_PAGE_SIZE, valid_page_size};
use nevar_pager::{Access, Directory, OsDirectory, Storage};

use crate::db::Database;
use crate::error::{Error, Result};
use crate::location::{Location, Staging};
use crate::recovery;

/// When a commit reaches stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// `commit()` returns once the commit is on stable storage: one sync per commit.
    #[default]
    Immediate,
    /// No sync. After a power loss the database opens at the last durable commit or a later
    /// intact one, never corrupted.
    NoSync,
}

/// How to open a database.
#[derive(Debug, Clone)]
pub struct Options {
    pub(crate) durability: Durability,
    pub(crate) page_size: usize,
    pub(crate) segment_base: u64,
    pub(crate) read_only: bool,
    pub(crate) huge_pages: bool,
    /// The file, when opened by name in a directory (needed by in-place compaction).
    pub(crate) location: Option<Location>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Immediate,
            page_size: DEFAULT_PAGE_SIZE,
            segment_base: nevar_pager::DEFAULT_SEGMENT_BASE,
            read_only: false,
            huge_pages: false,
            location: None,
        }
    }
}

impl Options {
    /// Default options: durable commits, 4 KiB pages.
    pub fn new() -> Options {
        Options::default()
    }

    /// The default durability of write transactions.
    pub fn durability(mut self, durability: Durability) -> Options {
        self.durability = durability;
        self
    }

    /// Page size for a new database: a power of two from 4 KiB to 64 KiB. An existing
    /// database keeps the page size it was created with.
    pub fn page_size(mut self, page_size: usize) -> Options {
        self.page_size = page_size;
        self
    }

    /// Size of the first mapped segment (a power of two); later segments double. Mostly for
    /// tests that want many segments quickly.
    pub fn segment_size(mut self, bytes: u64) -> Options {
        self.segment_base = bytes;
        self
    }

    /// Opens an existing database without write access: the file is opened read-only, no
    /// recovery sync or clean-shutdown commit is written, and
    /// [`begin_write`](Database::begin_write) fails with [`Error::ReadOnly`]. Recovery still
    /// picks the newest commit that verifies. A missing or empty file is an error. The file is
    /// still locked exclusively (nevar is single-process).
    pub fn read_only(mut self, read_only: bool) -> Options {
        self.read_only = read_only;
        self
    }

    /// With [`read_only`](Options::read_only), advises the maps to use huge pages
    /// (`MADV_HUGEPAGE`). Where the kernel backs the file's page cache with 2 MiB folios
    /// (file transparent huge pages; large folios on ext4 and xfs), random reads of a file
    /// that fits in memory take fewer TLB misses (`docs/performance.md` has the measurement).
    /// Off by default: each page-cache miss may then read up to 2 MiB, which costs a file
    /// larger than memory dearly. Writable opens ignore it: their maps keep page-sized folios
    /// so that a commit writes back only the pages it changed.
    pub fn huge_pages(mut self, huge_pages: bool) -> Options {
        self.huge_pages = huge_pages;
        self
    }

    /// Opens (or, unless read-only, creates) the database file at `path`.
    ///
    /// Only a missing or empty (0-byte) file is created, and atomically: the empty database
    /// is built and synced under `<path>.creating`, renamed into place and the directory
    /// synced, so a crash leaves no database or a complete one. Any other file that is not a
    /// nevar database (zeros, text, random bytes) is refused with [`Error::NotADatabase`]
    /// and left unchanged.
    pub fn open(self, path: impl AsRef<Path>) -> Result<Database> {
        let (dir, name) = OsDirectory::of(path.as_ref())?;
        self.open_in(Arc::new(dir), &name)
    }

    /// [`open`](Options::open) for file `name` of any [`Directory`], such as a simulated one
    /// in crash tests.
    pub fn open_in(mut self, dir: Arc<dyn Directory>, name: &str) -> Result<Database> {
        self.validate()?;
        let location = Location::new(dir, name);
        self.location = Some(location.clone());
        if self.read_only || location.holds_bytes()? {
            let access = match (self.read_only, self.huge_pages) {
                (true, true) => Access::ReadOnlyHugePages,
                (true, false) => Access::ReadOnly,
                (false, _) => Access::ReadWrite,
            };
            let storage = location.open(access)?;
            return Database::open_with(recovery::open(storage, &self)?, self);
        }
        let opened = create_at(&location, &self)?;
        Database::open_with(opened, self)
    }

    /// Opens a database on any storage backend, such as a simulated disk. Empty storage is
    /// initialized in place: there is no directory to make that atomic, so a crash during it
    /// can leave zeros, which a later open refuses. Prefer [`open_in`](Options::open_in).
    pub fn open_storage(self, storage: Box<dyn Storage>) -> Result<Database> {
        self.validate()?;
        // Read-only, empty storage goes to `recovery::open`, which refuses it as no database.
        let opened = if storage.len()? == 0 && !self.read_only {
            recovery::create(storage, &self)?
        } else {
            recovery::open(storage, &self)?
        };
        Database::open_with(opened, self)
    }

    fn validate(&self) -> Result<()> {
        if !valid_page_size(self.page_size) {
            return Err(Error::InvalidOption {
                option: "page_size",
                why: "a power of two from 4 KiB to 64 KiB",
            });
        }
        if !self.segment_base.is_power_of_two()
            || self.segment_base < nevar_page::MAX_PAGE_SIZE as u64
        {
            return Err(Error::InvalidOption {
                option: "segment_size",
                why: "a power of two of at least 64 KiB",
            });
        }
        Ok(())
    }
}

/// Creates the empty database at `location` (see [`Options::open`]).
fn create_at(location: &Location, options: &Options) -> Result<recovery::Opened> {
    let staging = location.staging(Staging::Create);
    let storage = staging.open_empty()?;
    // Another handle may have finished creating the file since we looked: then open that.
    if location.holds_bytes()? {
        drop(storage);
        staging.remove()?;
        return recovery::open(location.open(Access::ReadWrite)?, options);
    }
    let opened = recovery::create(storage, options)?;
    staging.publish(location)?;
    Ok(opened)
}
