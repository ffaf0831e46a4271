//! Operations built on get, insert and remove: read-modify-write on write-side trees
//! (`take`, `pop_first`, `pop_last`, `update`, `append`, `retain`, `retain_in`), range
//! removal, prefix scans on both sides, and renaming a tree.

use std::ops::{Bound, RangeBounds};

use nevar_btree::{insert, remove};

use crate::catalog::{self, check_name};
use crate::error::{Error, Result};
use crate::read::{Tree, TreeIter, bounds};
use crate::write::{WriteTree, WriteTxn};

/// The bounds of the keys that start with `prefix`: from `prefix` itself up to (excluding)
/// the next key that does not start with it. That key is the prefix with its trailing 0xFF
/// bytes dropped and the last byte left incremented; there is none (the range is open at
/// the top) when the prefix is empty or all 0xFF. Appending a zero byte to the prefix, the
/// usual shortcut, is wrong: it excludes every key that continues with bytes above zero.
pub(crate) fn prefix_bounds(prefix: &[u8]) -> (Bound<&[u8]>, Bound<Vec<u8>>) {
    let mut end = prefix.to_vec();
    while end.last() == Some(&0xFF) {
        end.pop();
    }
    let upper = match end.last_mut() {
        Some(last) => {
            *last += 1;
            Bound::Excluded(end)
        }
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix), upper)
}

impl<'r> Tree<'r> {
    /// The entries whose keys start with `prefix`, in order; reversible. The empty prefix
    /// gives every entry.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// for k in [&b"user/1"[..], b"user/2", b"users", b"v"] {
    ///     w.open_tree("t")?.insert(k, b"")?;
    /// }
    /// w.commit()?;
    /// let r = db.begin_read()?;
    /// let t = r.open_tree("t")?;
    /// let keys: Vec<&[u8]> = t.prefix(b"user/")?.map(|e| e.map(|(k, _)| k)).collect::<nevar::Result<_>>()?;
    /// assert_eq!(keys, [&b"user/1"[..], b"user/2"]);
    /// assert_eq!(t.prefix(b"user/")?.rev().next().transpose()?.map(|(k, _)| k), Some(&b"user/2"[..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn prefix(&self, prefix: &[u8]) -> Result<TreeIter<'r>> {
        let (lo, hi) = prefix_bounds(prefix);
        self.range((lo, hi.as_ref().map(Vec::as_slice)))
    }
}

impl WriteTree<'_, '_> {
    /// The entries whose keys start with `prefix`, as this transaction sees them; reversible.
    pub fn prefix(&self, prefix: &[u8]) -> Result<TreeIter<'_>> {
        let (lo, hi) = prefix_bounds(prefix);
        self.range((lo, hi.as_ref().map(Vec::as_slice)))
    }

    /// Removes `key` and returns the value it had.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut t = w.open_tree("t")?;
    /// t.insert(b"k", b"v")?;
    /// assert_eq!(t.take(b"k")?, Some(b"v".to_vec()));
    /// assert_eq!(t.take(b"k")?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn take(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        let Some(old) = self.get(key)?.map(<[u8]>::to_vec) else {
            return Ok(None);
        };
        self.remove(key)?;
        Ok(Some(old))
    }

    /// Removes the smallest entry and returns it: with big-endian sequence numbers as keys,
    /// the tree is a durable FIFO queue.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut jobs = w.open_tree("jobs")?;
    /// for (seq, job) in [(1u64, "build"), (2, "test")] {
    ///     jobs.append(&seq.to_be_bytes(), job.as_bytes())?;
    /// }
    /// assert_eq!(jobs.pop_first()?, Some((1u64.to_be_bytes().to_vec(), b"build".to_vec())));
    /// assert_eq!(jobs.pop_last()?.map(|(_, v)| v), Some(b"test".to_vec()));
    /// assert_eq!(jobs.pop_first()?, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn pop_first(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let first = self.first()?.map(|(k, v)| (k.to_vec(), v.to_vec()));
        self.pop(first)
    }

    /// Removes the largest entry and returns it.
    pub fn pop_last(&mut self) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let last = self.last()?.map(|(k, v)| (k.to_vec(), v.to_vec()));
        self.pop(last)
    }

    /// Removes `entry`, copied out of the tree, and returns it.
    fn pop(&mut self, entry: Option<(Vec<u8>, Vec<u8>)>) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        if let Some((key, _)) = &entry {
            self.remove(key)?;
        }
        Ok(entry)
    }

    /// Read-modify-write of one key: `f` gets the current value (or `None`) and returns the
    /// new one; `None` removes the key. Returns whether the key holds a value afterwards.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut t = w.open_tree("counters")?;
    /// let bump = |old: Option<&[u8]>| {
    ///     let n = old.map_or(0, |b| u64::from_be_bytes(b.try_into().unwrap()));
    ///     Some((n + 1).to_be_bytes().to_vec())
    /// };
    /// t.update(b"hits", bump)?;
    /// t.update(b"hits", bump)?;
    /// assert_eq!(t.get(b"hits")?, Some(&2u64.to_be_bytes()[..]));
    /// assert!(!t.update(b"hits", |_| None)?); // None removes
    /// # Ok(())
    /// # }
    /// ```
    pub fn update(
        &mut self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> Option<Vec<u8>>,
    ) -> Result<bool> {
        match f(self.get(key)?) {
            Some(new) => {
                self.insert(key, &new)?;
                Ok(true)
            }
            None => {
                self.remove(key)?;
                Ok(false)
            }
        }
    }

    /// Removes every entry with a key in `range` and returns how many there were. Subtrees
    /// inside the range are freed whole, their pages walked only to free them, so removing
    /// most of a large tree costs far less than removing its keys one at a time.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut t = w.open_tree("events")?;
    /// for ts in 0u64..1000 {
    ///     t.insert(&ts.to_be_bytes(), b"event")?;
    /// }
    /// // Expire everything before timestamp 900.
    /// let expired = t.remove_range(..&900u64.to_be_bytes()[..])?;
    /// assert_eq!((expired, t.len()?), (900, 100));
    /// # Ok(())
    /// # }
    /// ```
    pub fn remove_range<'k, R: RangeBounds<&'k [u8]>>(&mut self, range: R) -> Result<u64> {
        let (lo, hi) = bounds(&range);
        self.change(|store, tree| {
            tree.tail.forget();
            nevar_btree::remove_range(store, &mut tree.desc, lo, hi)
        })
    }

    /// Keeps the entries for which `keep` returns true and removes the others; returns how
    /// many it removed.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut t = w.open_tree("t")?;
    /// for (k, v) in [(&b"a"[..], &b"x"[..]), (b"b", b"long value"), (b"c", b"yy")] {
    ///     t.insert(k, v)?;
    /// }
    /// assert_eq!(t.retain(|_, v| v.len() > 3)?, 2);
    /// assert_eq!(t.retain_in(&b"a"[..].., |k, _| k != b"b")?, 1);
    /// assert!(t.is_empty()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn retain(&mut self, keep: impl FnMut(&[u8], &[u8]) -> bool) -> Result<u64> {
        self.retain_in::<(Bound<&[u8]>, Bound<&[u8]>)>((Bound::Unbounded, Bound::Unbounded), keep)
    }

    /// [`WriteTree::retain`] over the keys in `range` only; entries outside it stay.
    pub fn retain_in<'k, R: RangeBounds<&'k [u8]>>(
        &mut self,
        range: R,
        mut keep: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<u64> {
        // Decide first, then remove: the scan borrows the pages the removals copy and free.
        let mut doomed = Vec::new();
        for item in self.range(range)? {
            let (k, v) = item?;
            if !keep(k, v) {
                doomed.push(k.to_vec());
            }
        }
        for key in &doomed {
            self.remove(key)?;
        }
        Ok(doomed.len() as u64)
    }

    /// Inserts `key`, which must sort after every key of the tree (a queue's or a log's next
    /// entry); otherwise [`Error::KeyOutOfOrder`] and nothing changes. Goes straight to the
    /// tree's last leaf when it fits there.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// let mut log = w.open_tree("log")?;
    /// log.append(b"0001", b"first")?;
    /// log.append(b"0002", b"second")?;
    /// assert!(matches!(log.append(b"0001", b"again"), Err(nevar::Error::KeyOutOfOrder)));
    /// assert_eq!(log.len()?, 2);
    /// # Ok(())
    /// # }
    /// ```
    pub fn append(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        if let Some((last, _)) = self.last()?
            && last >= key
        {
            return Err(Error::KeyOutOfOrder);
        }
        self.insert(key, value)?;
        Ok(())
    }
}

impl WriteTxn<'_> {
    /// Renames tree `from` to `to`: one catalog change, whatever the tree holds. Returns
    /// whether `from` existed; [`Error::TreeExists`] (and nothing changes) if `to` does.
    ///
    /// ```
    /// # use nevar_txn as nevar;
    /// # fn main() -> nevar::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let db = nevar::Database::open(dir.path().join("db"))?;
    /// let mut w = db.begin_write()?;
    /// w.open_tree("staging")?.insert(b"k", b"v")?;
    /// w.open_tree("live")?;
    /// assert!(matches!(w.rename_tree("staging", "live"), Err(nevar::Error::TreeExists(_))));
    /// w.delete_tree("live")?;
    /// assert!(w.rename_tree("staging", "live")?);
    /// w.commit()?;
    /// assert_eq!(db.begin_read()?.open_tree("live")?.get(b"k")?, Some(&b"v"[..]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn rename_tree(&mut self, from: &str, to: &str) -> Result<bool> {
        check_name(from)?;
        check_name(to)?;
        // Open trees' descriptors go into the catalog first, so it knows every tree.
        self.sync_catalog()?;
        let Some(entry) = catalog::lookup(&self.shared.store, &self.roots.catalog, from)? else {
            return Ok(false);
        };
        if from == to {
            return Ok(true);
        }
        if catalog::lookup(&self.shared.store, &self.roots.catalog, to)?.is_some() {
            return Err(Error::TreeExists(to.to_owned()));
        }
        let value = catalog::encode(&entry.desc, entry.types.as_ref());
        self.change(|store, roots| {
            remove(store, &mut roots.catalog, from.as_bytes())?;
            insert(store, &mut roots.catalog, to.as_bytes(), &value)
        })?;
        if let Some(open) = self.roots.trees.iter_mut().find(|t| t.name == from) {
            open.name = to.to_owned();
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(prefix: &[u8]) -> Bound<Vec<u8>> {
        prefix_bounds(prefix).1
    }

    #[test]
    fn prefix_bounds_end_at_the_first_key_past_the_prefix() {
        assert_eq!(upper(b"user/"), Bound::Excluded(b"user0".to_vec()));
        assert_eq!(upper(b"a\xff"), Bound::Excluded(b"b".to_vec()));
        assert_eq!(upper(b"a\xfe\xff\xff"), Bound::Excluded(b"a\xff".to_vec()));
        assert_eq!(upper(b"\xff\xff"), Bound::Unbounded);
        assert_eq!(upper(b""), Bound::Unbounded);
        assert_eq!(prefix_bounds(b"ab").0, Bound::Included(&b"ab"[..]));
    }
}
