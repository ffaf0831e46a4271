//! Typed trees: a [`TreeDef`] names a tree and its key and value types, and opening it gives
//! handles whose methods take and return those types, encoded by `nevar-codec`.
//!
//! A typed handle is a raw handle plus the encoding: every call encodes its arguments, runs
//! the raw operation and decodes what comes back, so typed and raw trees share one code
//! path and one file format. Bytes that do not decode are [`Error::Decode`] naming the tree.

mod read;
mod write;

use std::marker::PhantomData;

use nevar_codec::{DecodeError, Key, Value};

use crate::catalog::TreeTypes;
use crate::error::{Error, Result};
use crate::read::Tree;
use crate::write::WriteTree;

pub use read::{TypedIter, TypedTree};
pub use write::TypedWriteTree;

/// Names a tree and its key and value types; pass it to `open_tree`.
///
/// ```
/// # use nevar_txn as nevar;
/// use nevar::TreeDef;
///
/// const USERS: TreeDef<u64, &str> = TreeDef::new("users");
/// # fn main() -> nevar::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = nevar::Database::open(dir.path().join("db"))?;
/// let mut w = db.begin_write()?;
/// w.open_tree(USERS)?.insert(7, "ada")?;
/// w.commit()?;
/// let r = db.begin_read()?;
/// assert_eq!(r.open_tree(USERS)?.get(7)?, Some("ada"));
/// # Ok(())
/// # }
/// ```
pub struct TreeDef<K, V> {
    name: &'static str,
    types: PhantomData<fn() -> (K, V)>,
}

impl<K: Key, V: Value> TreeDef<K, V> {
    /// The definition of tree `name` with keys `K` and values `V`.
    pub const fn new(name: &'static str) -> TreeDef<K, V> {
        TreeDef {
            name,
            types: PhantomData,
        }
    }

    /// The tree's name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The type names the catalog records for this definition.
    pub fn types(&self) -> TreeTypes {
        TreeTypes {
            key: K::type_name(),
            value: V::type_name(),
        }
    }
}

impl<K, V> Clone for TreeDef<K, V> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K, V> Copy for TreeDef<K, V> {}

impl<K, V> std::fmt::Debug for TreeDef<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TreeDef").field(&self.name).finish()
    }
}

mod sealed {
    pub trait Sealed {}
}

/// What `open_tree` takes: a tree name, which opens the raw tree, or a [`TreeDef`], which
/// opens it typed. Implemented for a reference to any `AsRef<str>` (`&str`, `&String`,
/// `&&str`), for `String` and for `TreeDef`.
///
/// ```
/// # use nevar_txn as nevar;
/// use nevar::TreeDef;
/// # fn main() -> nevar::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = nevar::Database::open(dir.path().join("db"))?;
/// let mut w = db.begin_write()?;
/// w.open_tree(TreeDef::<u8, bool>::new("flags"))?.insert(1, true)?;
/// w.commit()?;
/// let r = db.begin_read()?;
/// let name = String::from("flags");
/// // Raw, by any kind of name: the typed tree's bytes.
/// assert_eq!(r.open_tree("flags")?.get(&[1])?, Some(&[1][..]));
/// assert_eq!(r.open_tree(&name)?.len()?, 1);
/// assert_eq!(r.open_tree(name)?.len()?, 1);
/// // Typed, with the recorded types only.
/// assert_eq!(r.open_tree(TreeDef::<u8, bool>::new("flags"))?.get(1)?, Some(true));
/// assert!(r.open_tree(TreeDef::<u8, u8>::new("flags")).is_err());
/// # Ok(())
/// # }
/// ```
pub trait TreeSpec: sealed::Sealed {
    /// The handle a read transaction gives.
    type ReadHandle<'r>;
    /// The handle a write transaction gives.
    type WriteHandle<'t, 'db: 't>;

    /// The tree's name.
    fn name(&self) -> &str;

    /// The types to record and check; `None` opens raw.
    fn types(&self) -> Option<TreeTypes>;

    /// Wraps the raw read handle.
    fn read_handle(self, tree: Tree<'_>) -> Self::ReadHandle<'_>;

    /// Wraps the raw write handle.
    fn write_handle<'t, 'db>(self, tree: WriteTree<'t, 'db>) -> Self::WriteHandle<'t, 'db>;
}

/// Implements [`TreeSpec`] for a kind of tree name.
macro_rules! name_spec {
    ($(impl$(<$param:ident>)? for $ty:ty),*) => {$(
        impl$(<$param: AsRef<str> + ?Sized>)? sealed::Sealed for $ty {}

        impl$(<$param: AsRef<str> + ?Sized>)? TreeSpec for $ty {
            type ReadHandle<'r> = Tree<'r>;
            type WriteHandle<'t, 'db: 't> = WriteTree<'t, 'db>;

            fn name(&self) -> &str {
                (**self).as_ref()
            }
            fn types(&self) -> Option<TreeTypes> {
                None
            }
            fn read_handle(self, tree: Tree<'_>) -> Tree<'_> {
                tree
            }
            fn write_handle<'t, 'db>(self, tree: WriteTree<'t, 'db>) -> WriteTree<'t, 'db> {
                tree
            }
        }
    )*};
}

name_spec!(impl<T> for &T, impl for String);

impl<K, V> sealed::Sealed for TreeDef<K, V> {}

impl<K: Key, V: Value> TreeSpec for TreeDef<K, V> {
    type ReadHandle<'r> = TypedTree<'r, K, V>;
    type WriteHandle<'t, 'db: 't> = TypedWriteTree<'t, 'db, K, V>;

    fn name(&self) -> &str {
        self.name
    }
    fn types(&self) -> Option<TreeTypes> {
        Some(TreeDef::types(self))
    }
    fn read_handle(self, tree: Tree<'_>) -> TypedTree<'_, K, V> {
        TypedTree::new(tree, self.name)
    }
    fn write_handle<'t, 'db>(self, tree: WriteTree<'t, 'db>) -> TypedWriteTree<'t, 'db, K, V> {
        TypedWriteTree::new(tree, self.name)
    }
}

/// Decodes stored bytes as `T`, or [`Error::Decode`] naming `tree`.
pub(crate) fn decode<'a, T: Value>(tree: &str, bytes: &'a [u8]) -> Result<T::Read<'a>> {
    T::decode(bytes).map_err(|e| decode_error::<T>(tree, e))
}

fn decode_error<T: Value>(tree: &str, e: DecodeError) -> Error {
    Error::Decode {
        tree: tree.to_owned(),
        type_name: T::type_name(),
        what: e.what.into_owned(),
    }
}

/// Decodes a stored entry.
pub(crate) fn decode_entry<'a, K: Key, V: Value>(
    tree: &str,
    (key, value): (&'a [u8], &'a [u8]),
) -> Result<(K::Read<'a>, V::Read<'a>)> {
    Ok((decode::<K>(tree, key)?, decode::<V>(tree, value)?))
}

/// Decodes an entry a lookup may have found (`first`, `last`).
pub(crate) fn decode_found<'a, K: Key, V: Value>(
    tree: &str,
    found: Option<(&'a [u8], &'a [u8])>,
) -> Result<Option<(K::Read<'a>, V::Read<'a>)>> {
    found.map(|e| decode_entry::<K, V>(tree, e)).transpose()
}

/// The encoded bounds of a typed key range.
pub(crate) struct EncodedRange {
    start: std::ops::Bound<Vec<u8>>,
    end: std::ops::Bound<Vec<u8>>,
}

impl EncodedRange {
    pub(crate) fn new<'k, K: Key + 'k, R: std::ops::RangeBounds<K::Write<'k>>>(
        range: &R,
    ) -> EncodedRange {
        let encode = |b: std::ops::Bound<&K::Write<'k>>| b.map(|k| K::encode(k).as_ref().to_vec());
        EncodedRange {
            start: encode(range.start_bound()),
            end: encode(range.end_bound()),
        }
    }

    /// The bounds as a raw range.
    pub(crate) fn raw(&self) -> (std::ops::Bound<&[u8]>, std::ops::Bound<&[u8]>) {
        (
            self.start.as_ref().map(Vec::as_slice),
            self.end.as_ref().map(Vec::as_slice),
        )
    }
}
