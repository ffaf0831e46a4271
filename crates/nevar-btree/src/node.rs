//! Loading nodes on descent, and the point reads built on it.

use nevar_page::{Branch, ChildRef, Leaf, header};

use crate::desc::TreeDesc;
use crate::error::{Result, corrupted};
use crate::store::PageStore;
use crate::value::{read_entry, read_value};

/// Deepest tree accepted; a deeper descriptor or descent is corruption (a cycle, typically).
pub const MAX_DEPTH: u32 = 24;

/// A page of a tree, checked against what its parent recorded.
#[derive(Clone, Copy)]
pub(crate) enum Node<'a> {
    Leaf(Leaf<'a>),
    Branch(Branch<'a>),
}

/// Loads `node` as the node at `level` (1 = leaf), checking that it was written by the
/// transaction its parent recorded.
#[inline]
pub(crate) fn load<S: PageStore + ?Sized>(
    store: &S,
    node: ChildRef,
    level: u32,
) -> Result<Node<'_>> {
    let no = node.page;
    let page = store.page(no)?;
    if header(page, no)?.txn_id.get() != node.txn {
        return Err(corrupted(
            no,
            "page written by another transaction than its parent records",
        ));
    }
    match level {
        1 => Ok(Node::Leaf(Leaf::new(page, no)?)),
        2..=MAX_DEPTH => Ok(Node::Branch(Branch::new(page, no)?)),
        _ => Err(corrupted(no, "tree deeper than the maximum depth")),
    }
}

/// Loads the root, or `None` for an empty tree.
pub(crate) fn load_root<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
) -> Result<Option<Node<'a>>> {
    match (desc.root, desc.depth) {
        (0, 0) => Ok(None),
        (0, _) | (_, 0) => Err(corrupted(
            desc.root,
            "tree descriptor has a root without depth or the reverse",
        )),
        (_, depth) => load(store, desc.root_ref(), depth).map(Some),
    }
}

/// Descends from the root to a leaf, taking at each branch the child `pick` chooses.
#[inline]
fn descend<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
    pick: impl Fn(&Branch<'a>) -> Result<usize>,
) -> Result<Option<Leaf<'a>>> {
    let Some(mut node) = load_root(store, desc)? else {
        return Ok(None);
    };
    let mut level = desc.depth;
    loop {
        match node {
            Node::Leaf(leaf) => return Ok(Some(leaf)),
            Node::Branch(branch) => {
                let child = branch.child(pick(&branch)?)?;
                level -= 1;
                node = load(store, child, level)?;
            }
        }
    }
}

/// Descends from the root to the leaf whose range holds `key`.
#[inline]
pub(crate) fn find_leaf<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
    key: &[u8],
) -> Result<Option<Leaf<'a>>> {
    descend(store, desc, |b| Ok(b.search(key)?))
}

/// The value stored under `key`, borrowed from the store.
#[inline]
pub fn get<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
    key: &[u8],
) -> Result<Option<&'a [u8]>> {
    let Some(leaf) = find_leaf(store, desc, key)? else {
        return Ok(None);
    };
    match leaf.search(key)? {
        Ok(i) => read_value(store, &leaf, i).map(Some),
        Err(_) => Ok(None),
    }
}

/// Descends along the first (`last == false`) or last child at every level.
fn edge_leaf<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
    last: bool,
) -> Result<Option<Leaf<'a>>> {
    descend(store, desc, |b| Ok(if last { b.len() - 1 } else { 0 }))
}

/// The smallest entry.
pub fn first<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
) -> Result<Option<(&'a [u8], &'a [u8])>> {
    edge_entry(store, desc, false)
}

/// The largest entry.
pub fn last<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
) -> Result<Option<(&'a [u8], &'a [u8])>> {
    edge_entry(store, desc, true)
}

fn edge_entry<'a, S: PageStore + ?Sized>(
    store: &'a S,
    desc: &TreeDesc,
    last: bool,
) -> Result<Option<(&'a [u8], &'a [u8])>> {
    let Some(leaf) = edge_leaf(store, desc, last)? else {
        return Ok(None);
    };
    if leaf.is_empty() {
        return if desc.depth == 1 {
            Ok(None)
        } else {
            Err(corrupted(leaf.page_no(), "empty leaf in a non-empty tree"))
        };
    }
    let i = if last { leaf.len() - 1 } else { 0 };
    read_entry(store, &leaf, i).map(Some)
}
