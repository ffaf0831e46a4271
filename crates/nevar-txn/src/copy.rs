//! Hot backup and compacting copy.

use std::io::Write;
use std::path::Path;

use nevar_btree::PageStore;
use nevar_page::PageNo;

use crate::db::Database;
use crate::error::{Error, Result};
use crate::options::{Durability, Options};
use crate::read::Tree;
use crate::recovery::META_SLOTS;

fn io(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |source| Error::Io { op, source }
}

impl Database {
    /// Copies the last commit to a new file at `path` while writers keep committing (the copy
    /// reads a snapshot).
    ///
    /// Without `compact`, pages are copied as they are (free pages included): fast, same size.
    /// With `compact`, every tree is rewritten in key order into a fresh database, so leaves
    /// are packed full (the append path) and no free page remains: usually much smaller than
    /// the source. There is no in-place compaction: copy, then replace the file.
    pub fn copy_to(&self, path: impl AsRef<Path>, compact: bool) -> Result<()> {
        let path = path.as_ref();
        if path.exists() && std::fs::metadata(path).map_err(io("stat"))?.len() > 0 {
            return Err(Error::Io {
                op: "copy",
                source: std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "copy target exists and is not empty",
                ),
            });
        }
        if compact {
            self.copy_compact(path)
        } else {
            self.copy_pages(path)
        }
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

    fn copy_compact(&self, path: &Path) -> Result<()> {
        let read = self.begin_read()?;
        let target = Options::new()
            .page_size(self.page_size())
            .durability(Durability::NoSync)
            .open(path)?;
        let mut w = target.begin_write()?;
        for name in read.tree_names()? {
            let source: Tree<'_> = read.open_tree(&name)?;
            let mut tree = w.open_tree(&name)?;
            for item in source.iter()? {
                let (k, v) = item?;
                tree.insert(k, v)?;
            }
        }
        w.set_durability(Durability::Immediate);
        w.commit()?;
        drop(target);
        Ok(())
    }
}
