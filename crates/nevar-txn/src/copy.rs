//! Hot backup, compacting copy and in-place compaction.
//!
//! All three read one snapshot, so writers keep committing while they run. A plain copy writes
//! the snapshot's pages as they are. A compacting copy re-inserts every tree in key order into
//! a fresh database, so the append path packs leaves full and no free page remains. In-place
//! compaction is a compacting copy next to the file, made durable and renamed over it: the
//! one way to give back space that is not at the end of the file (durable commits already
//! cut a mostly-free tail on their own).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use nevar_btree::PageStore;
use nevar_page::PageNo;

use crate::db::Database;
use crate::error::{Error, Result};
use crate::options::Durability;
use crate::recovery::META_SLOTS;

fn io(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { op, source }
}

fn refuse(op: &'static str, kind: std::io::ErrorKind, why: &'static str) -> Error {
    Error::Io {
        op,
        source: std::io::Error::new(kind, why),
    }
}

impl Database {
    /// Copies the last commit to a new file at `path` while writers keep committing (the copy
    /// reads a snapshot). `path` must not exist or be empty.
    ///
    /// Without `compact`, pages are copied as they are (free pages included): fast, same size.
    /// With `compact`, every tree is rewritten in key order into a fresh database, so leaves
    /// are packed full (the append path) and no free page remains: usually much smaller than
    /// the source. See [`compact`](Database::compact) for doing this in place.
    pub fn copy_to(&self, path: impl AsRef<Path>, compact: bool) -> Result<()> {
        let path = path.as_ref();
        if path.exists() && std::fs::metadata(path).map_err(io("stat"))?.len() > 0 {
            return Err(refuse(
                "copy",
                std::io::ErrorKind::AlreadyExists,
                "copy target exists and is not empty",
            ));
        }
        if compact {
            self.compact_into(path).map(drop)
        } else {
            self.copy_pages(path)
        }
    }

    /// Compacts the file in place: a compacting copy into `<file>.compacting`, made durable,
    /// then renamed over the file, and this handle switched to it. Read transactions begun
    /// before keep reading the old file's snapshot until they end. A crash at any point
    /// leaves either the old file or the compacted one, both complete (a leftover
    /// `.compacting` file is removed by the next compaction).
    pub fn compact(&mut self) -> Result<()> {
        let Some(path) = self.shared.options.path.clone() else {
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
        let mut temp = path.clone().into_os_string();
        temp.push(".compacting");
        let temp = PathBuf::from(temp);
        match std::fs::remove_file(&temp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("compact")(e)),
            _ => {}
        }
        let mut compacted = self.compact_into(&temp)?;
        std::fs::rename(&temp, &path).map_err(io("rename"))?;
        sync_parent(&path)?;
        Arc::get_mut(&mut compacted.shared)
            .expect("nothing else holds a database that was just opened")
            .options
            .path = Some(path);
        std::mem::swap(self, &mut compacted);
        // `compacted` now holds the replaced file, unlinked: skip its clean-shutdown commit.
        compacted.shared.broken.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn copy_pages(&self, path: &Path) -> Result<()> {
        let read = self.begin_read()?;
        let snap = *read.snapshot();
        let store = &self.shared.store;
        let file = std::fs::File::create(path).map_err(io("create"))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
        let mut meta = vec![0u8; store.page_size()];
        snap.to_meta(store.page_size(), true).write(&mut meta, 0)?;
        out.write_all(&meta).map_err(io("copy"))?;
        out.write_all(&vec![0u8; store.page_size()])
            .map_err(io("copy"))?;
        for page in META_SLOTS..snap.high_water {
            out.write_all(store.page(page as PageNo)?)
                .map_err(io("copy"))?;
        }
        out.flush().map_err(io("copy"))?;
        drop(out);
        file.sync_all().map_err(io("sync"))
    }

    /// Re-inserts every tree of the last commit, in key order, into a new database at `path`
    /// (same page size and options), committed durably; returns it still open and locked.
    fn compact_into(&self, path: &Path) -> Result<Database> {
        let read = self.begin_read()?;
        let mut options = self.shared.options.clone();
        options.read_only = false;
        let target = options.open(path)?;
        let mut w = target.begin_write()?;
        for name in read.tree_names()? {
            let source = read.open_tree(&name)?;
            let mut tree = w.open_tree(&name)?;
            for item in source.iter()? {
                let (k, v) = item?;
                tree.insert(k, v)?;
            }
        }
        w.set_durability(Durability::Immediate);
        w.commit()?;
        // Growth rounds the file up; a compacted file ends at its last page.
        let pager = &target.shared.store.0;
        pager.shrink_to(target.shared.current.load().high_water)?;
        pager.sync()?;
        Ok(target)
    }
}

/// Makes a rename in `path`'s directory durable.
fn sync_parent(path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync directory"))
}
