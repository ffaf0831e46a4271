//! Typed write-side trees: [`WriteTree`]'s methods with typed keys and values.
//!
//! Operations that read before they change (`take`, `pop_*`, `update`, `retain*`) decode
//! everything they need first, so bytes that do not decode are an error that changed nothing.

use std::marker::PhantomData;
use std::ops::RangeBounds;

use nevar_codec::{Key, Value};

use crate::error::Result;
use crate::typed::{EncodedRange, TypedIter, decode, decode_entry, decode_found};
use crate::write::WriteTree;

/// A typed tree inside the write transaction: [`WriteTree`]'s methods with typed keys and
/// values.
///
/// ```
/// # use nevar_txn as nevar;
/// use nevar::TreeDef;
///
/// const COUNTERS: TreeDef<&str, u64> = TreeDef::new("counters");
/// const QUEUE: TreeDef<u64, String> = TreeDef::new("queue");
/// # fn main() -> nevar::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = nevar::Database::open(dir.path().join("db"))?;
/// let mut w = db.begin_write()?;
/// let mut counters = w.open_tree(COUNTERS)?;
/// for _ in 0..3 {
///     counters.update("visits", |old| Some(old.unwrap_or(0) + 1))?;
/// }
/// assert_eq!(counters.get("visits")?, Some(3));
/// assert_eq!(counters.take("visits")?, Some(3));
///
/// let mut queue = w.open_tree(QUEUE)?;
/// for id in 1..=5 {
///     queue.append(id, &format!("job {id}"))?;
/// }
/// assert_eq!(queue.pop_first()?, Some((1, "job 1".to_owned())));
/// assert_eq!(queue.remove_range(2..4)?, 2);
/// assert_eq!(queue.retain(|id, _| id != 5)?, 1);
/// assert_eq!(queue.pop_last()?, Some((4, "job 4".to_owned())));
/// assert!(queue.is_empty()?);
/// w.commit()?;
/// # Ok(())
/// # }
/// ```
pub struct TypedWriteTree<'t, 'db, K, V> {
    raw: WriteTree<'t, 'db>,
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

/// An owned entry, as removing operations return it.
type OwnedEntry<K, V> = (<K as Value>::Owned, <V as Value>::Owned);

impl<'t, 'db, K: Key, V: Value> TypedWriteTree<'t, 'db, K, V> {
    pub(crate) fn new(raw: WriteTree<'t, 'db>, name: &'static str) -> Self {
        TypedWriteTree {
            raw,
            name,
            types: PhantomData,
        }
    }

    /// The same tree, raw.
    pub fn raw(&mut self) -> &mut WriteTree<'t, 'db> {
        &mut self.raw
    }

    /// Inserts or overwrites; returns whether the key existed.
    #[inline]
    pub fn insert(&mut self, key: K::Write<'_>, value: V::Write<'_>) -> Result<bool> {
        self.raw
            .insert(K::encode(&key).as_ref(), V::encode(&value).as_ref())
    }

    /// Removes `key`; returns whether it existed.
    pub fn remove(&mut self, key: K::Write<'_>) -> Result<bool> {
        self.raw.remove(K::encode(&key).as_ref())
    }

    /// The value of `key`, as this transaction sees it.
    #[inline]
    pub fn get(&self, key: K::Write<'_>) -> Result<Option<V::Read<'_>>> {
        match self.raw.get(K::encode(&key).as_ref())? {
            Some(bytes) => decode::<V>(self.name, bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Entries with keys in `range`, in order; reversible.
    pub fn range<'k, R>(&self, range: R) -> Result<TypedIter<'_, K, V>>
    where
        K: 'k,
        R: RangeBounds<K::Write<'k>>,
    {
        let bounds = EncodedRange::new::<K, R>(&range);
        Ok(TypedIter::new(self.raw.range(bounds.raw())?, self.name))
    }

    /// All entries, in order; reversible.
    pub fn iter(&self) -> Result<TypedIter<'_, K, V>> {
        Ok(TypedIter::new(self.raw.iter()?, self.name))
    }

    /// Entries whose encoded key starts with the encoding of `prefix` (see
    /// [`TypedTree::prefix`](crate::TypedTree::prefix)).
    pub fn prefix(&self, prefix: K::Write<'_>) -> Result<TypedIter<'_, K, V>> {
        Ok(TypedIter::new(
            self.raw.prefix(K::encode(&prefix).as_ref())?,
            self.name,
        ))
    }

    /// Number of entries, in O(1).
    pub fn len(&self) -> Result<u64> {
        self.raw.len()
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> Result<bool> {
        self.raw.is_empty()
    }

    /// The smallest entry.
    pub fn first(&self) -> Result<Option<(K::Read<'_>, V::Read<'_>)>> {
        decode_found::<K, V>(self.name, self.raw.first()?)
    }

    /// The largest entry.
    pub fn last(&self) -> Result<Option<(K::Read<'_>, V::Read<'_>)>> {
        decode_found::<K, V>(self.name, self.raw.last()?)
    }

    /// Removes `key` and returns its value.
    pub fn take(&mut self, key: K::Write<'_>) -> Result<Option<V::Owned>> {
        let key = K::encode(&key);
        let Some(old) = self.owned_value(key.as_ref())? else {
            return Ok(None);
        };
        self.raw.remove(key.as_ref())?;
        Ok(Some(old))
    }

    fn owned_value(&self, key: &[u8]) -> Result<Option<V::Owned>> {
        match self.raw.get(key)? {
            Some(bytes) => Ok(Some(V::to_owned(decode::<V>(self.name, bytes)?))),
            None => Ok(None),
        }
    }

    /// Removes and returns the smallest entry.
    pub fn pop_first(&mut self) -> Result<Option<OwnedEntry<K, V>>> {
        let first = self.raw.first()?.map(|(k, _)| k.to_vec());
        self.pop(first)
    }

    /// Removes and returns the largest entry.
    pub fn pop_last(&mut self) -> Result<Option<OwnedEntry<K, V>>> {
        let last = self.raw.last()?.map(|(k, _)| k.to_vec());
        self.pop(last)
    }

    fn pop(&mut self, key: Option<Vec<u8>>) -> Result<Option<OwnedEntry<K, V>>> {
        let Some(key) = key else { return Ok(None) };
        let owned_key = K::to_owned(decode::<K>(self.name, &key)?);
        let value = self.owned_value(&key)?.expect("the entry was just read");
        self.raw.remove(&key)?;
        Ok(Some((owned_key, value)))
    }

    /// Read-modify-write of one key: `f` gets the current value and returns the new one, or
    /// `None` to remove the key. Returns whether the key holds a value afterwards.
    pub fn update(
        &mut self,
        key: K::Write<'_>,
        f: impl FnOnce(Option<V::Read<'_>>) -> Option<V::Owned>,
    ) -> Result<bool> {
        let key = K::encode(&key);
        let old = match self.raw.get(key.as_ref())? {
            Some(bytes) => Some(decode::<V>(self.name, bytes)?),
            None => None,
        };
        match f(old) {
            Some(new) => {
                self.raw
                    .insert(key.as_ref(), V::encode(&V::as_write(&new)).as_ref())?;
                Ok(true)
            }
            None => {
                self.raw.remove(key.as_ref())?;
                Ok(false)
            }
        }
    }

    /// Inserts an entry whose key sorts after every key in the tree:
    /// [`Error::KeyOutOfOrder`](crate::Error::KeyOutOfOrder) otherwise.
    pub fn append(&mut self, key: K::Write<'_>, value: V::Write<'_>) -> Result<()> {
        self.raw
            .append(K::encode(&key).as_ref(), V::encode(&value).as_ref())
    }

    /// Removes every entry with a key in `range`, freeing whole subtrees inside it without
    /// visiting their entries; returns how many were removed.
    pub fn remove_range<'k, R>(&mut self, range: R) -> Result<u64>
    where
        K: 'k,
        R: RangeBounds<K::Write<'k>>,
    {
        let bounds = EncodedRange::new::<K, R>(&range);
        self.raw.remove_range(bounds.raw())
    }

    /// Keeps the entries for which `keep` is true and removes the others; returns how many
    /// were removed.
    pub fn retain(&mut self, keep: impl FnMut(K::Read<'_>, V::Read<'_>) -> bool) -> Result<u64> {
        self.retain_in::<std::ops::RangeFull>(.., keep)
    }

    /// [`retain`](TypedWriteTree::retain) over the keys in `range` only.
    pub fn retain_in<'k, R>(
        &mut self,
        range: R,
        mut keep: impl FnMut(K::Read<'_>, V::Read<'_>) -> bool,
    ) -> Result<u64>
    where
        K: 'k,
        R: RangeBounds<K::Write<'k>>,
    {
        let bounds = EncodedRange::new::<K, R>(&range);
        // Decide first, then remove: a decode error is found before anything changes.
        let mut doomed = Vec::new();
        for item in self.raw.range(bounds.raw())? {
            let raw = item?;
            let (k, v) = decode_entry::<K, V>(self.name, raw)?;
            if !keep(k, v) {
                doomed.push(raw.0.to_vec());
            }
        }
        for key in &doomed {
            self.raw.remove(key)?;
        }
        Ok(doomed.len() as u64)
    }
}
