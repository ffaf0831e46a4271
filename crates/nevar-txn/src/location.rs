//! Where a database file lives, and how a new file appears there all at once.
//!
//! Creation, copies and in-place compaction share one rule: a file under its final name is
//! always complete. Each builds the file under a temporary name next to the target, syncs
//! it, renames it into place and syncs the directory ([`Location::publish`]). A crash before
//! the rename leaves the old state (no file, or the file being replaced) plus a leftover
//! temporary file that the next attempt truncates; a crash after it leaves the new file.

use std::sync::Arc;

use nevar_pager::{Access, Directory, Storage};

use crate::error::Result;

/// A file of a [`Directory`].
#[derive(Clone)]
pub(crate) struct Location {
    pub dir: Arc<dyn Directory>,
    pub name: String,
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Location")
            .field("name", &self.name)
            .finish()
    }
}

/// The kinds of temporary file, each with its own suffix so that a creation, a copy and a
/// compaction of the same target never share one.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Staging {
    Create,
    Copy,
    Compact,
}

impl Staging {
    fn suffix(self) -> &'static str {
        match self {
            Staging::Create => ".creating",
            Staging::Copy => ".copying",
            Staging::Compact => ".compacting",
        }
    }
}

impl Location {
    /// File `name` of `dir`.
    pub fn new(dir: Arc<dyn Directory>, name: &str) -> Location {
        Location {
            dir,
            name: name.to_owned(),
        }
    }

    /// The temporary file a `staging` of this location is built in.
    pub fn staging(&self, staging: Staging) -> Location {
        Location {
            dir: Arc::clone(&self.dir),
            name: format!("{}{}", self.name, staging.suffix()),
        }
    }

    /// Whether the file exists and holds at least one byte.
    pub fn holds_bytes(&self) -> Result<bool> {
        Ok(self.dir.file_len(&self.name)?.is_some_and(|len| len > 0))
    }

    /// Opens (creating when missing and writable) and locks the file.
    pub fn open(&self, access: Access) -> Result<Box<dyn Storage>> {
        Ok(self.dir.open(&self.name, access)?)
    }

    /// Opens, locks and empties this temporary file: a leftover from a crashed attempt is
    /// discarded, and a concurrent attempt holding it makes this one fail with `AlreadyOpen`.
    pub fn open_empty(&self) -> Result<Box<dyn Storage>> {
        let storage = self.open(Access::ReadWrite)?;
        storage.truncate(0)?;
        Ok(storage)
    }

    /// Moves this synced temporary file over `target` and makes the rename durable.
    pub fn publish(&self, target: &Location) -> Result<()> {
        debug_assert!(
            Arc::ptr_eq(&self.dir, &target.dir),
            "renames stay in one directory"
        );
        self.dir.rename(&self.name, &target.name)?;
        self.dir.sync()?;
        Ok(())
    }

    /// Removes the file (used for a temporary file that turned out not to be needed).
    pub fn remove(&self) -> Result<()> {
        Ok(self.dir.remove(&self.name)?)
    }
}
