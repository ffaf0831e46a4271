//! The catalog: a B+tree from tree name to the tree's descriptor.

use nevar_btree::{PageStore, TreeDesc, get};

use crate::error::{Error, Result, corrupted};

/// Longest tree name in bytes.
pub(crate) const MAX_NAME: usize = 255;

/// Checks a tree name: non-empty, at most [`MAX_NAME`] bytes (it is UTF-8 by type).
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(Error::InvalidTreeName(name.to_owned()));
    }
    Ok(())
}

/// The descriptor of tree `name`, if the catalog has it.
pub(crate) fn lookup<S: PageStore + ?Sized>(
    store: &S,
    catalog: &TreeDesc,
    name: &str,
) -> Result<Option<TreeDesc>> {
    match get(store, catalog, name.as_bytes())? {
        Some(bytes) => decode(bytes)
            .map(Some)
            .ok_or(corrupted(catalog.root, "malformed catalog entry")),
        None => Ok(None),
    }
}

/// A descriptor as stored in the catalog.
pub(crate) fn encode(desc: &TreeDesc) -> Vec<u8> {
    nevar_page::tree_root_bytes(&nevar_page::TreeRoot::from(desc)).to_vec()
}

/// Decodes a catalog value.
pub(crate) fn decode(bytes: &[u8]) -> Option<TreeDesc> {
    nevar_page::tree_root_from_bytes(bytes).map(|r| TreeDesc::from(&r))
}
