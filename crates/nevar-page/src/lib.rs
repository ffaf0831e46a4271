//! The on-disk format of a nevar file: fixed page headers, the slotted layout shared by leaf and
//! branch pages, overflow runs, meta pages and checksums. No I/O happens here: every type is an
//! accessor over `&[u8]` or a mutator over `&mut [u8]`, and every field read from a page is
//! bounds-checked so that a damaged page becomes [`PageError::Corrupted`], never a panic.
//!
//! The byte-level layout is documented in `docs/format.md` and beside each type.
#![forbid(unsafe_code)]

mod branch;
mod checksum;
mod error;
mod head;
mod header;
mod leaf;
mod meta;
mod order;
mod overflow;
mod slotted;

pub use branch::{BRANCH_CELL_FIXED, Branch, BranchMut, ChildRef, branch_cell_len};
pub use checksum::{page_checksum, seal, verify_checksum};
pub use error::{PageError, Result};
pub use header::{
    DEFAULT_PAGE_SIZE, HEADER_LEN, MAX_PAGE_SIZE, MIN_PAGE_SIZE, PageHeader, PageKind, PageNo,
    TxnId, header, header_mut, valid_page_size,
};
pub use leaf::{
    LEAF_CELL_FIXED, Leaf, LeafMut, LeafValue, OVERFLOW_REF_LEN, ValueRef, encode_leaf_cell,
    leaf_cell_len,
};
pub use meta::{
    FORMAT_VERSION, MAGIC, MAX_TXN_ID, META_CLEAN_SHUTDOWN, META_PAGES, Meta, MetaFields, TreeRoot,
    tree_root_bytes, tree_root_from_bytes,
};
pub use order::compare_keys;
pub use overflow::{Overflow, overflow_pages};
pub use slotted::{Limits, SLOT_LEN};
