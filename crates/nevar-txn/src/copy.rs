//! Hot backup, compacting copy and in-place compaction.
//!
//! All three read one snapshot, so writers keep committing while they run, and all three are
//! all or nothing: the new file is built under a temporary name, synced, renamed into place
//! and the directory synced (see `location.rs`). A plain copy writes the snapshot's pages as
//! they are, its meta pages last. A compacting copy is the compact stream of `stream.rs`
//! ([`ReadTxn::write_to`](crate::ReadTxn::write_to)) written into the new file: every tree
//! rebuilt bottom-up with full pages, no free page left. In-place
//! compaction is a compacting copy next to the file, renamed over it: the one way to give
//! back space that is not at the end of the file (durable commits already cut a mostly-free
//! tail on their own).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nevar_page::{Meta, PageNo};
use nevar_pager::{Directory, Dirty, OsDirectory, Pager, Storage};

use crate::db::Database;
use crate::error::{Error, Result};
use crate::location::{Location, Staging};
use crate::recovery::{META_SLOTS, Opened, write_meta};
use crate::snapshot::Snapshot;
use crate::store::ReadStore;
use crate::stream::PagerWriter;

/// Pages a plain copy moves per step (bounded so that one step's slices stay small).
const COPY_STEP: u64 = 256;

fn refuse(op: &'static str, kind: std::io::ErrorKind, why: &'static str) -> Error {
    Error::Io {
        op,
        source: std::io::Error::new(kind, why),
    }
}

impl Database {
    /// Copies the last commit to a new file at `path` while writers keep committing (the copy
    /// reads a snapshot). `path` must not exist or be empty. The copy appears at `path` only
    /// once it is complete and durable; an interrupted copy leaves no file there.
    ///
    /// Without `compact`, pages are copied as they are (free pages included): fast, same size.
    /// With `compact`, every tree is rewritten in key order into a fresh database, so leaves
    /// are packed full (the append path) and no free page remains: usually much smaller than
    /// the source. See [`compact`](Database::compact) for doing this in place.
    pub fn copy_to(&self, path: impl AsRef<Path>, compact: bool) -> Result<()> {
        let (dir, name) = OsDirectory::of(path.as_ref())?;
        self.copy_into(Arc::new(dir), &name, compact)
    }

    /// [`copy_to`](Database::copy_to) for file `name` of any [`Directory`].
    pub fn copy_into(&self, dir: Arc<dyn Directory>, name: &str, compact: bool) -> Result<()> {
        let target = Location::new(dir, name);
        if target.holds_bytes()? {
            return Err(refuse(
                "copy",
                std::io::ErrorKind::AlreadyExists,
                "copy target exists and is not empty",
            ));
        }
        let staging = target.staging(Staging::Copy);
        if compact {
            // Kept open (and locked) until published, so no other copy can empty it first.
            let copy = self.compact_into(&staging)?;
            staging.publish(&target)?;
            drop(copy);
        } else {
            let storage = staging.open_empty()?;
            self.copy_pages(storage)?;
            staging.publish(&target)?;
        }
        Ok(())
    }

    /// Compacts the file in place: a compacting copy into `<file>.compacting`, made durable,
    /// then renamed over the file, and this handle switched to it. Read transactions begun
    /// before keep reading the old file's snapshot until they end. A crash at any point
    /// leaves either the old file or the compacted one, both complete (a leftover
    /// `.compacting` file is emptied by the next compaction).
    pub fn compact(&mut self) -> Result<()> {
        let Some(target) = self.shared.options.location.clone() else {
            return Err(refuse(
                "compact",
                std::io::ErrorKind::Unsupported,
                "only a database opened from a file path can be compacted in place",
            ));
        };
        if self.shared.options.read_only {
            return Err(Error::ReadOnly);
        }
        if self.shared.broken.load(Ordering::SeqCst) {
            return Err(Error::NeedsReopen);
        }
        let staging = target.staging(Staging::Compact);
        let mut compacted = self.compact_into(&staging)?;
        staging.publish(&target)?;
        Arc::get_mut(&mut compacted.shared)
            .expect("nothing else holds a database that was just opened")
            .options
            .location = Some(target);
        std::mem::swap(self, &mut compacted);
        // `compacted` now holds the replaced file, unlinked: skip its clean-shutdown commit.
        compacted.shared.broken.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Writes the last commit's pages into empty `storage`, the meta pages last, and syncs.
    fn copy_pages(&self, storage: Box<dyn Storage>) -> Result<()> {
        let read = self.begin_read()?;
        let snap = *read.snapshot();
        let source = &self.shared.store.0;
        let target = Pager::new(
            storage,
            source.page_size(),
            self.shared.options.segment_base,
        )?;
        target.grow_to(snap.high_water)?;
        let mut dirty = Dirty::new();
        let mut page: PageNo = META_SLOTS;
        while page < snap.high_water {
            // Both files have the same segment geometry, so a step inside one source segment
            // is inside one target segment too.
            let count = (source.segment_end(page).min(snap.high_water) - page).min(COPY_STEP);
            dirty.insert(page, count as u32);
            target
                .run_mut(&mut dirty, page, count)?
                .copy_from_slice(source.run(page, count)?);
            dirty.remove(page);
            page += count;
        }
        // Last, so that no meta ever describes pages not yet written; clean, because the copy
        // is complete once this sync returns (and only then is it renamed into place).
        for slot in 0..META_SLOTS {
            write_meta(&target, &mut dirty, slot, snap, true)?;
        }
        target.shrink_to(snap.high_water)?;
        target.sync()?;
        Ok(())
    }

    /// Streams the last commit as a compact database ([`ReadTxn::write_to`]) into the
    /// emptied file `staging` (same page size and segment options), synced; returns it open
    /// and locked.
    ///
    /// [`ReadTxn::write_to`]: crate::ReadTxn::write_to
    fn compact_into(&self, staging: &Location) -> Result<Database> {
        let read = self.begin_read()?;
        let mut options = self.shared.options.clone();
        options.read_only = false;
        options.location = Some(staging.clone());
        let source = &self.shared.store.0;
        let pager = Pager::new(
            staging.open_empty()?,
            source.page_size(),
            options.segment_base,
        )?;
        let bytes = read.write_to(&mut PagerWriter::new(&pager))?;
        // Growth rounds the file up; a compacted file ends at its last page.
        pager.shrink_to(bytes / source.page_size() as u64)?;
        pager.sync()?;
        let meta = Meta::read(pager.page(0)?, 0)?;
        let opened = Opened {
            snapshot: Snapshot::from_meta(&meta),
            store: ReadStore(pager),
            slot: 0,
        };
        Database::open_with(opened, options)
    }
}
