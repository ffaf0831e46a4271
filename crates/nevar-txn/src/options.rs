//! Open options and durability modes.

use std::path::{Path, PathBuf};

use nevar_page::{DEFAULT_PAGE_SIZE, valid_page_size};
use nevar_pager::{FileStorage, Storage};

use crate::db::Database;
use crate::error::{Error, Result};

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
    /// The file, when opened by path (needed by in-place compaction).
    pub(crate) path: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            durability: Durability::Immediate,
            page_size: DEFAULT_PAGE_SIZE,
            segment_base: nevar_pager::DEFAULT_SEGMENT_BASE,
            read_only: false,
            path: None,
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

    /// Opens (or, unless read-only, creates) the database file at `path`.
    pub fn open(mut self, path: impl AsRef<Path>) -> Result<Database> {
        self.path = Some(path.as_ref().to_owned());
        let storage = if self.read_only {
            FileStorage::open_read_only(path.as_ref())?
        } else {
            FileStorage::open(path.as_ref())?
        };
        self.open_storage(Box::new(storage))
    }

    /// Opens a database on any storage backend, such as a
    /// [`SimulatedDisk`](nevar_pager::SimulatedDisk).
    pub fn open_storage(self, storage: Box<dyn Storage>) -> Result<Database> {
        if !valid_page_size(self.page_size) {
            return Err(Error::Io {
                op: "open",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "page size must be a power of two from 4 KiB to 64 KiB",
                ),
            });
        }
        if !self.segment_base.is_power_of_two()
            || self.segment_base < nevar_page::MAX_PAGE_SIZE as u64
        {
            return Err(Error::Io {
                op: "open",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "segment size must be a power of two of at least 64 KiB",
                ),
            });
        }
        Database::open_with(storage, self)
    }
}
