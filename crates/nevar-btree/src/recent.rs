//! Walking the pages written after a given transaction (recovery's check of a commit).

use nevar_page::{ChildRef, LeafValue, PageNo, TxnId, overflow_pages};

use crate::desc::TreeDesc;
use crate::error::Result;
use crate::node::{Node, load};
use crate::store::PageStore;

/// Calls `visit(first_page, bytes)` for every page and overflow run of the tree written by a
/// transaction newer than `since`, descending only into such pages (older pages, and so their
/// whole subtrees, were written by durable commits and are trusted). `visit` runs before a
/// page is interpreted, so it can reject a torn page by its checksum first.
pub fn visit_newer<S: PageStore + ?Sized>(
    store: &S,
    desc: &TreeDesc,
    since: TxnId,
    visit: &mut dyn FnMut(PageNo, &[u8]) -> Result<()>,
) -> Result<()> {
    if desc.root == 0 || desc.root_txn <= since {
        return Ok(());
    }
    walk(store, desc.root_ref(), desc.depth, since, visit)
}

fn walk<S: PageStore + ?Sized>(
    store: &S,
    node: ChildRef,
    level: u32,
    since: TxnId,
    visit: &mut dyn FnMut(PageNo, &[u8]) -> Result<()>,
) -> Result<()> {
    visit(node.page, store.page(node.page)?)?;
    match load(store, node, level)? {
        Node::Leaf(leaf) => {
            for i in 0..leaf.len() {
                if let LeafValue::Overflow { page, txn, len } = leaf.value(i)?
                    && txn > since
                {
                    visit(
                        page,
                        store.run(page, overflow_pages(len, store.page_size()))?,
                    )?;
                }
            }
        }
        Node::Branch(b) => {
            for i in 0..b.len() {
                let child = b.child(i)?;
                if child.txn > since {
                    walk(store, child, level - 1, since, visit)?;
                }
            }
        }
    }
    Ok(())
}
