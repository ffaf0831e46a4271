//! Typed read-side trees and the typed iterator both sides share.

use std::marker::PhantomData;

use nevar_codec::{Key, Value};

use crate::error::Result;
use crate::read::{Tree, TreeIter};
use crate::typed::{EncodedRange, decode, decode_entry, decode_found};

/// A typed tree in a read transaction: [`Tree`]'s methods with typed keys and values.
/// Values and keys borrow the map for the transaction's lifetime where their type allows.
///
/// ```
/// # use nevar_txn as nevar;
/// use nevar::TreeDef;
///
/// const SCORES: TreeDef<(&str, u32), i64> = TreeDef::new("scores");
/// # fn main() -> nevar::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = nevar::Database::open(dir.path().join("db"))?;
/// let mut w = db.begin_write()?;
/// let mut scores = w.open_tree(SCORES)?;
/// for (player, round, score) in [("ann", 1, 10), ("ann", 2, -3), ("bob", 1, 7)] {
///     scores.insert((player, round), score)?;
/// }
/// w.commit()?;
///
/// let r = db.begin_read()?;
/// let scores = r.open_tree(SCORES)?;
/// assert_eq!(scores.get(("ann", 2))?, Some(-3));
/// assert_eq!(scores.len()?, 3);
/// // Every round of "ann": tuple keys order element by element.
/// let ann: Vec<i64> = scores
///     .range(("ann", 0)..=("ann", u32::MAX))?
///     .map(|item| item.map(|(_, score)| score))
///     .collect::<nevar::Result<_>>()?;
/// assert_eq!(ann, [10, -3]);
/// let ((player, round), _) = scores.last()?.unwrap();
/// assert_eq!((player.as_ref(), round), ("bob", 1));
/// assert_eq!(scores.iter()?.rev().count(), 3);
/// # Ok(())
/// # }
/// ```
pub struct TypedTree<'r, K, V> {
    raw: Tree<'r>,
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

impl<'r, K: Key, V: Value> TypedTree<'r, K, V> {
    pub(crate) fn new(raw: Tree<'r>, name: &'static str) -> Self {
        TypedTree {
            raw,
            name,
            types: PhantomData,
        }
    }

    /// The same tree, raw.
    pub fn raw(&self) -> &Tree<'r> {
        &self.raw
    }

    /// The value of `key`.
    #[inline]
    pub fn get(&self, key: K::Write<'_>) -> Result<Option<V::Read<'r>>> {
        match self.raw.get(K::encode(&key).as_ref())? {
            Some(bytes) => decode::<V>(self.name, bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Entries with keys in `range`, in order; reversible.
    pub fn range<'k, R>(&self, range: R) -> Result<TypedIter<'r, K, V>>
    where
        K: 'k,
        R: std::ops::RangeBounds<K::Write<'k>>,
    {
        let bounds = EncodedRange::new::<K, R>(&range);
        Ok(TypedIter::new(self.raw.range(bounds.raw())?, self.name))
    }

    /// All entries, in order; reversible.
    pub fn iter(&self) -> Result<TypedIter<'r, K, V>> {
        Ok(TypedIter::new(self.raw.iter()?, self.name))
    }

    /// Entries whose encoded key starts with the encoding of `prefix`: for string and byte
    /// keys, the keys that start with it; for a tuple, the keys equal in every element but the
    /// last, whose bytes start with the prefix's last element.
    pub fn prefix(&self, prefix: K::Write<'_>) -> Result<TypedIter<'r, K, V>> {
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
    pub fn first(&self) -> Result<Option<(K::Read<'r>, V::Read<'r>)>> {
        decode_found::<K, V>(self.name, self.raw.first()?)
    }

    /// The largest entry.
    pub fn last(&self) -> Result<Option<(K::Read<'r>, V::Read<'r>)>> {
        decode_found::<K, V>(self.name, self.raw.last()?)
    }
}

/// Iterator over typed entries, from either end.
pub struct TypedIter<'r, K, V> {
    raw: TreeIter<'r>,
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

impl<'r, K, V> TypedIter<'r, K, V> {
    pub(crate) fn new(raw: TreeIter<'r>, name: &'static str) -> Self {
        TypedIter {
            raw,
            name,
            types: PhantomData,
        }
    }
}

impl<'r, K: Key, V: Value> Iterator for TypedIter<'r, K, V> {
    type Item = Result<(K::Read<'r>, V::Read<'r>)>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let name = self.name;
        self.raw
            .next()
            .map(|item| item.and_then(|e| decode_entry::<K, V>(name, e)))
    }
}

impl<K: Key, V: Value> DoubleEndedIterator for TypedIter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let name = self.name;
        self.raw
            .next_back()
            .map(|item| item.and_then(|e| decode_entry::<K, V>(name, e)))
    }
}
