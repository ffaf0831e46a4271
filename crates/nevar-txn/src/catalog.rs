//! The catalog: a B+tree from tree name to the tree's descriptor, and for typed trees the
//! names of their key and value types.
//!
//! ```text
//! catalog value of a raw tree:
//! +----------------------+
//! | TreeRoot (56 bytes)  |
//! +----------------------+
//! catalog value of a typed tree:
//! +----------------------+-----------+----------------+-----------+------------------+
//! | TreeRoot (56 bytes)  | k: u16 LE | key type name  | v: u16 LE | value type name  |
//! |                      |           | (k bytes UTF-8)|           | (v bytes UTF-8)  |
//! +----------------------+-----------+----------------+-----------+------------------+
//! ```

use std::fmt;

use nevar_btree::{PageStore, TreeDesc, get};

use crate::error::{Error, Result, corrupted};

/// Longest tree name in bytes.
pub(crate) const MAX_NAME: usize = 255;

/// Longest recorded type name in bytes.
pub(crate) const MAX_TYPE_NAME: usize = u16::MAX as usize;

const ROOT_LEN: usize = size_of::<nevar_page::TreeRoot>();

/// The key and value type names a typed tree was created with (see
/// [`Value::type_name`](nevar_codec::Value::type_name)).
///
/// ```
/// # use nevar_txn as nevar;
/// # fn main() -> nevar::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let db = nevar::Database::open(dir.path().join("db"))?;
/// const EVENTS: nevar::TreeDef<(u32, &str), &[u8]> = nevar::TreeDef::new("events");
/// let mut w = db.begin_write()?;
/// w.open_tree(EVENTS)?;
/// w.commit()?;
/// let stats = db.stats()?;
/// let types = stats.trees[0].types.as_ref().unwrap();
/// assert_eq!((types.key.as_str(), types.value.as_str()), ("(u32,str)", "bytes"));
/// assert_eq!(types.to_string(), "keys (u32,str) and values bytes");
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeTypes {
    /// The key type's name, as `u64` or `(u32,str)`.
    pub key: String,
    /// The value type's name.
    pub value: String,
}

impl fmt::Display for TreeTypes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "keys {} and values {}", self.key, self.value)
    }
}

/// One catalog value, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub desc: TreeDesc,
    /// `None` for a tree only ever opened raw.
    pub types: Option<TreeTypes>,
}

/// Checks a tree name: non-empty, at most [`MAX_NAME`] bytes (it is UTF-8 by type).
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Error::InvalidTreeName(name.to_owned()));
    }
    Ok(())
}

/// The entry of tree `name`, if the catalog has it.
pub(crate) fn lookup<S: PageStore + ?Sized>(
    store: &S,
    catalog: &TreeDesc,
    name: &str,
) -> Result<Option<Entry>> {
    match get(store, catalog, name.as_bytes())? {
        Some(bytes) => decode(bytes)
            .map(Some)
            .ok_or(corrupted(catalog.root, "malformed catalog entry")),
        None => Ok(None),
    }
}

/// A catalog value. Type names longer than [`MAX_TYPE_NAME`] are refused before this.
pub(crate) fn encode(desc: &TreeDesc, types: Option<&TreeTypes>) -> Vec<u8> {
    let mut out = nevar_page::tree_root_bytes(&nevar_page::TreeRoot::from(desc)).to_vec();
    if let Some(types) = types {
        for name in [&types.key, &types.value] {
            let len = u16::try_from(name.len()).expect("type names are checked at open");
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
    }
    out
}

/// Decodes a catalog value; `None` if it is malformed.
pub(crate) fn decode(bytes: &[u8]) -> Option<Entry> {
    let (root, mut rest) = bytes.split_at_checked(ROOT_LEN)?;
    let desc = TreeDesc::from(&nevar_page::tree_root_from_bytes(root)?);
    if rest.is_empty() {
        return Some(Entry { desc, types: None });
    }
    let mut name = || -> Option<String> {
        let (len, tail) = rest.split_at_checked(2)?;
        let len = usize::from(u16::from_le_bytes([len[0], len[1]]));
        let (name, tail) = tail.split_at_checked(len)?;
        rest = tail;
        String::from_utf8(name.to_vec()).ok()
    };
    let types = TreeTypes {
        key: name()?,
        value: name()?,
    };
    rest.is_empty().then_some(Entry {
        desc,
        types: Some(types),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_is_refused() {
        let desc = TreeDesc {
            root: 9,
            entries: 3,
            depth: 1,
            ..TreeDesc::default()
        };
        let types = TreeTypes {
            key: "(u32,str)".into(),
            value: "bytes".into(),
        };
        let raw = encode(&desc, None);
        assert_eq!(raw.len(), ROOT_LEN);
        assert_eq!(decode(&raw), Some(Entry { desc, types: None }));
        let typed = encode(&desc, Some(&types));
        assert_eq!(decode(&typed).unwrap().types, Some(types));
        for cut in ROOT_LEN + 1..typed.len() {
            assert_eq!(decode(&typed[..cut]), None, "cut at {cut}");
        }
        let mut longer = typed.clone();
        longer.push(0);
        assert_eq!(decode(&longer), None);
    }
}
