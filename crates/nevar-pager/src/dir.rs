//! The directory a database file lives in: where files are created, renamed and removed.
//!
//! Creating a database, copying one and compacting one must each be all or nothing: a crash
//! must leave the old state or the finished file, never a half-written file under the final
//! name. All three do it the same way, through a [`Directory`]: write the new file under a
//! temporary name, sync it, rename it over the final name, then sync the directory so the
//! rename itself survives a power loss. [`OsDirectory`] does this on a real file system; the
//! simulated directory in `sim_dir.rs` lets crash tests cut power at every step.

use std::path::{Path, PathBuf};

use crate::error::{PagerError, Result};
use crate::file::FileStorage;
use crate::storage::Storage;

/// How a file of a directory is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read and write; the file is created when missing.
    ReadWrite,
    /// Read only; the file must exist.
    ReadOnly,
    /// Read only, with the maps advised to use huge pages (`MADV_HUGEPAGE`) where the kernel
    /// can back the file's page cache with them; the file must exist.
    ReadOnlyHugePages,
}

/// Files by name inside one directory. Every change of the directory itself (a file created,
/// renamed or removed) may be lost in a power loss until [`Directory::sync`] returns.
pub trait Directory: Send + Sync {
    /// Opens file `name` (creating it when missing, with [`Access::ReadWrite`]) and locks it
    /// exclusively: a second open fails with [`PagerError::AlreadyOpen`].
    fn open(&self, name: &str, access: Access) -> Result<Box<dyn Storage>>;
    /// The length of file `name`, `None` when there is no such file.
    fn file_len(&self, name: &str) -> Result<Option<u64>>;
    /// Renames file `from` to `to`, replacing `to` if it exists. An open handle of `from`
    /// keeps working (and keeps its lock): it now reaches the file under its new name.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Removes file `name`; a missing file is not an error.
    fn remove(&self, name: &str) -> Result<()>;
    /// Makes every create, rename and remove so far durable.
    fn sync(&self) -> Result<()>;
}

/// A directory of the real file system.
#[derive(Debug, Clone)]
pub struct OsDirectory {
    path: PathBuf,
}

impl OsDirectory {
    /// The directory at `path`.
    pub fn new(path: impl Into<PathBuf>) -> OsDirectory {
        OsDirectory { path: path.into() }
    }

    /// The directory holding `file` and the file's name in it.
    pub fn of(file: &Path) -> Result<(OsDirectory, String)> {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| PagerError::Io {
                op: "open",
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a database path must end in a UTF-8 file name",
                ),
            })?;
        let dir = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        Ok((OsDirectory::new(dir), name.to_owned()))
    }

    /// The path of file `name`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Directory for OsDirectory {
    fn open(&self, name: &str, access: Access) -> Result<Box<dyn Storage>> {
        let path = self.join(name);
        Ok(Box::new(match access {
            Access::ReadWrite => FileStorage::open(&path)?,
            Access::ReadOnly => FileStorage::open_read_only(&path)?,
            Access::ReadOnlyHugePages => FileStorage::open_read_only(&path)?.with_huge_pages(),
        }))
    }

    fn file_len(&self, name: &str) -> Result<Option<u64>> {
        match std::fs::metadata(self.join(name)) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(PagerError::Io {
                op: "stat",
                source: e,
            }),
        }
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        std::fs::rename(self.join(from), self.join(to)).map_err(PagerError::io("rename"))
    }

    fn remove(&self, name: &str) -> Result<()> {
        match std::fs::remove_file(self.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(PagerError::Io {
                op: "remove",
                source: e,
            }),
            _ => Ok(()),
        }
    }

    fn sync(&self) -> Result<()> {
        std::fs::File::open(&self.path)
            .and_then(|d| d.sync_all())
            .map_err(PagerError::io("sync directory"))
    }
}
