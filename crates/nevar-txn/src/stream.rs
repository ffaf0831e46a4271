//! The compact stream: a read snapshot written out as a fresh, compact database file to any
//! `io::Write`, while writers keep committing.
//!
//! Every tree is rebuilt bottom-up in key order ([`TreeBuilder`]), so leaves and branches
//! are full and no free page remains; every page is written once, in page-number order, so
//! the output needs no seeking. The file starts with its two meta pages, which describe the
//! roots, so the stream is built twice: a first pass that writes nowhere and yields the
//! layout (the same snapshot, the same builder: the same pages), then the real one, metas
//! first. Both passes read the snapshot; neither holds anything in memory beyond one page per
//! tree level.
//!
//! ```text
//! output: | meta 0 | meta 1 | tree "a" pages | tree "b" pages | ... | catalog | free tree |
//! ```
//!
//! All pages carry the snapshot's transaction id, both metas the same commit with the
//! clean-shutdown flag. Pages skipped so that an overflow run stays inside one segment (the
//! segment geometry is the source's) are zero on the stream and recorded in the free tree.

use std::io::Write;

use nevar_btree::{BtreeError, PageSink, Range, TreeBuilder, TreeDesc};
use nevar_freelist::{EXTENTS_PER_RECORD, Extent, encode_key, encode_value};
use nevar_page::{PageNo, TxnId};
use nevar_pager::{Dirty, Pager};

use crate::catalog;
use crate::error::{Error, Result, corrupted};
use crate::read::ReadTxn;
use crate::recovery::META_SLOTS;
use crate::snapshot::Snapshot;

/// Pages written in sequence to `out`, numbered from the first page after the metas.
struct StreamSink<'a, W: Write + ?Sized> {
    out: &'a mut W,
    page_size: usize,
    next: PageNo,
    segment_end: &'a dyn Fn(PageNo) -> PageNo,
    /// Pages skipped at segment ends, free in the output.
    skipped: Vec<Extent>,
}

fn io_error(e: std::io::Error) -> BtreeError {
    BtreeError::Store(Box::new(e))
}

impl<W: Write + ?Sized> PageSink for StreamSink<'_, W> {
    fn page_size(&self) -> usize {
        self.page_size
    }

    fn next_run(&mut self, count: u64) -> PageNo {
        let start = self.next;
        let mut first = start;
        while first + count > (self.segment_end)(first) {
            first = (self.segment_end)(first);
        }
        if first > start {
            self.skipped.push((start, first - start));
        }
        self.next = first + count;
        first
    }

    fn write(&mut self, no: PageNo, bytes: &[u8]) -> nevar_btree::Result<()> {
        if let Some(&(start, len)) = self.skipped.last()
            && start + len == no
        {
            // The skipped pages come first on the stream, as zeros.
            let zeros = vec![0u8; self.page_size];
            for _ in 0..len {
                self.out.write_all(&zeros).map_err(io_error)?;
            }
        }
        self.out.write_all(bytes).map_err(io_error)
    }
}

/// What a pass built: the roots and the end of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    catalog: TreeDesc,
    free: TreeDesc,
    high_water: PageNo,
}

impl ReadTxn {
    /// Streams this snapshot to `out` as a compact database file: every tree rewritten in key
    /// order with full pages and no free page, readable by [`Database::open`] once written to
    /// a file. Writers keep committing meanwhile; the output is exactly this snapshot.
    /// Returns the bytes written. The trees are read twice (a sizing pass first, since the
    /// file begins with the meta pages that name the roots).
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// w.open_tree("t")?.insert(b"k", b"v")?;
    /// w.commit()?;
    ///
    /// let mut backup = Vec::new();
    /// let bytes = db.begin_read()?.write_to(&mut backup)?;
    /// assert_eq!(bytes, backup.len() as u64);
    ///
    /// let path = dir.path().join("restored");
    /// std::fs::write(&path, &backup).unwrap();
    /// let restored = nevar::Database::open(&path)?;
    /// assert_eq!(restored.begin_read()?.open_tree("t")?.get(b"k")?, Some(&b"v"[..]));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [`Database::open`]: crate::Database::open
    pub fn write_to<W: Write + ?Sized>(&self, out: &mut W) -> Result<u64> {
        self.write_trees_to(out, |_| true)
    }

    /// [`write_to`](ReadTxn::write_to) with only the trees whose names `keep` accepts: a
    /// compact database holding just those (a replicated state machine's snapshot, say).
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// w.open_tree("state/users")?.insert(b"ada", b"1")?;
    /// w.open_tree("log")?.insert(b"1", b"set ada")?;
    /// w.commit()?;
    /// let mut out = Vec::new();
    /// db.begin_read()?.write_trees_to(&mut out, |name| name.starts_with("state/"))?;
    /// let path = dir.path().join("state");
    /// std::fs::write(&path, &out).unwrap();
    /// let state = nevar::Database::open(&path)?;
    /// assert_eq!(state.begin_read()?.tree_names()?, ["state/users"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_trees_to<W: Write + ?Sized>(
        &self,
        out: &mut W,
        keep: impl Fn(&str) -> bool,
    ) -> Result<u64> {
        let keep = |name: &[u8]| std::str::from_utf8(name).is_ok_and(&keep);
        let ps = self.page_size();
        let layout = self.build(&mut std::io::sink(), &keep)?;
        let snapshot = self.compact_snapshot(layout);
        let mut meta = vec![0u8; ps];
        for slot in 0..META_SLOTS {
            snapshot.to_meta(ps, true).write(&mut meta, slot)?;
            out.write_all(&meta).map_err(|e| Error::Io {
                op: "write_to",
                source: e,
            })?;
        }
        let written = self.build(out, &keep)?;
        if written != layout {
            return Err(corrupted(
                0,
                "the snapshot read differently in the second pass",
            ));
        }
        out.flush().map_err(|e| Error::Io {
            op: "write_to",
            source: e,
        })?;
        Ok(layout.high_water * ps as u64)
    }

    /// The meta of the compact file whose roots are `layout`.
    fn compact_snapshot(&self, layout: Layout) -> Snapshot {
        let txn = self.snapshot().txn;
        Snapshot {
            txn,
            durable_before: txn - 1,
            high_water: layout.high_water,
            catalog: layout.catalog,
            free: layout.free,
        }
    }

    /// One pass: every tree, then the catalog, then the free tree, written to `out` from the
    /// first page after the metas.
    fn build<W: Write + ?Sized>(
        &self,
        out: &mut W,
        keep: &dyn Fn(&[u8]) -> bool,
    ) -> Result<Layout> {
        let store = self.store();
        let pager = &store.0;
        let segment_end = |p: PageNo| pager.segment_end(p);
        let mut sink = StreamSink {
            out,
            page_size: pager.page_size(),
            next: META_SLOTS,
            segment_end: &segment_end,
            skipped: Vec::new(),
        };
        let txn: TxnId = self.snapshot().txn;
        let catalog_desc = self.snapshot().catalog;
        let mut entries: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for item in Range::new(
            store,
            &catalog_desc,
            std::ops::Bound::Unbounded,
            std::ops::Bound::Unbounded,
        )? {
            let (name, value) = item?;
            if !keep(name) {
                continue;
            }
            let entry = catalog::decode(value)
                .ok_or(corrupted(catalog_desc.root, "malformed catalog entry"))?;
            let mut tree = TreeBuilder::new(&mut sink, txn);
            for item in Range::new(
                store,
                &entry.desc,
                std::ops::Bound::Unbounded,
                std::ops::Bound::Unbounded,
            )? {
                let (k, v) = item?;
                tree.push(k, v)?;
            }
            let desc = tree.finish()?;
            entries.push((name.to_vec(), catalog::encode(&desc, entry.types.as_ref())));
        }
        let mut tree = TreeBuilder::new(&mut sink, txn);
        for (name, value) in &entries {
            tree.push(name, value)?;
        }
        let catalog = tree.finish()?;
        // Skipped pages are free from the start: recorded as freed by this transaction.
        let skipped = std::mem::take(&mut sink.skipped);
        let mut tree = TreeBuilder::new(&mut sink, txn);
        for (seq, extents) in skipped.chunks(EXTENTS_PER_RECORD).enumerate() {
            tree.push(&encode_key((txn, seq as u32)), &encode_value(extents))?;
        }
        let free = tree.finish()?;
        debug_assert!(
            sink.skipped.is_empty(),
            "the free tree's pages are single pages"
        );
        Ok(Layout {
            catalog,
            free,
            high_water: sink.next,
        })
    }
}

/// An `io::Write` into a pager's pages from page 0 on, growing the file as it goes: the
/// compacting copy streams into a new database file through it.
pub(crate) struct PagerWriter<'a> {
    pager: &'a Pager,
    dirty: Dirty,
    /// Bytes written.
    pos: u64,
}

impl<'a> PagerWriter<'a> {
    pub fn new(pager: &'a Pager) -> PagerWriter<'a> {
        PagerWriter {
            pager,
            dirty: Dirty::new(),
            pos: 0,
        }
    }
}

impl Write for PagerWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let ps = self.pager.page_size() as u64;
        let page = self.pos / ps;
        let offset = (self.pos % ps) as usize;
        let n = buf.len().min(ps as usize - offset);
        let to_io = |e: nevar_pager::PagerError| std::io::Error::other(e);
        self.pager.grow_to(page + 1).map_err(to_io)?;
        self.dirty.insert(page, 1);
        let result = self
            .pager
            .page_mut(&mut self.dirty, page)
            .map(|bytes| bytes[offset..offset + n].copy_from_slice(&buf[..n]));
        self.dirty.remove(page);
        result.map_err(to_io)?;
        self.pos += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
