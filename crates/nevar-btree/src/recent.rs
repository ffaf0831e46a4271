//! Walking the pages written after a given transaction (recovery's check of a commit).

use nevar_page::{LeafValue, PageNo, TxnId, overflow_pages};

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
    walk(store, (desc.root, desc.root_txn, desc.depth), since, visit)
}

fn walk<S: PageStore + ?Sized>(
    store: &S,
    (no, txn, level): (PageNo, TxnId, u32),
    since: TxnId,
    visit: &mut dyn FnMut(PageNo, &[u8]) -> Result<()>,
) -> Result<()> {
    visit(no, store.page(no)?)?;
    match load(store, no, txn, level)? {
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
                let (child, child_txn) = b.child(i)?;
                if child_txn > since {
                    walk(store, (child, child_txn, level - 1), since, visit)?;
                }
            }
        }
    }
    Ok(())
}
