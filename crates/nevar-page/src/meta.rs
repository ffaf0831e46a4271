//! Meta pages: the root of everything, one per slot at the start of the file.
//!
//! ```text
//!  0            32       40        44          48       56            64           72      73     80
//!  +------------+--------+---------+-----------+--------+-------------+------------+-------+------+
//!  | PageHeader | magic  | version | page_size | txn_id | durable_txn | high_water | flags | pad  |
//!  |  kind=Meta | [u8;8] |   u32   |    u32    |  u64   |     u64     |    u64     |  u8   | [7]  |
//!  +------------+--------+---------+-----------+--------+-------------+------------+-------+------+
//!  80                            136                            192
//!  +-----------------------------+------------------------------+---- zero to page end
//!  | catalog: TreeRoot (56)      | free pages: TreeRoot (56)    |
//!  +-----------------------------+------------------------------+----
//! ```
//! `txn_id` is the transaction this meta commits. `durable_txn` is the newest transaction
//! known to be on stable storage when it was written (equal to `txn_id` for a durable commit).
//! `high_water` is the number of pages in use: every page number below it is a meta, a tree
//! page, or free. The header checksum covers the whole page.
//!
//! A [`TreeRoot`] describes one B+tree:
//! ```text
//!  0      8          16        24            32          40              48      52         56
//!  +------+----------+---------+-------------+-----------+---------------+-------+----------+
//!  | root | root_txn | entries | branch_pgs  | leaf_pgs  | overflow_pgs  | depth | reserved |
//!  | u64  |   u64    |   u64   |    u64      |   u64     |     u64       |  u32  |   u32    |
//!  +------+----------+---------+-------------+-----------+---------------+-------+----------+
//! ```
//! An empty tree has root 0 and depth 0 (page 0 is always a meta, never a tree page).

use zerocopy::little_endian::{U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum::verify_checksum;
use crate::error::{Result, corrupted};
use crate::header::{HEADER_LEN, PageKind, PageNo, TxnId, header, header_mut, valid_page_size};

/// The first eight bytes after a meta page's header.
pub const MAGIC: [u8; 8] = *b"nevar\0db";
/// The format version this code writes and reads.
/// Version 2: catalog values of typed trees carry their key and value type names. Version 3:
/// slots carry key heads and leaf and branch headers a prefix length (`slotted.rs`). Version 4:
/// heads may skip a gap of bytes every key of the page shares (`head_gap`, `head.rs`).
pub const FORMAT_VERSION: u32 = 4;
/// Meta flag: the database was closed cleanly after this commit.
pub const META_CLEAN_SHUTDOWN: u8 = 1;
/// The largest transaction id a meta may carry. Far beyond any real count (2^62 commits are
/// 146,000 years at a million a second), it leaves room for `txn + 1` and for `TxnId::MAX`
/// as the "no reader" sentinel, so arithmetic on ids read from disk cannot overflow.
pub const MAX_TXN_ID: TxnId = 1 << 62;
/// Pages 0 and 1 hold the two meta slots; every high-water mark covers them.
pub const META_PAGES: PageNo = 2;

/// Descriptor of one B+tree, stored in the meta (catalog, free pages) and in the catalog.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C, packed)]
pub struct TreeRoot {
    /// Root page, 0 when the tree is empty.
    pub root: U64,
    /// Transaction that wrote the root page.
    pub root_txn: U64,
    /// Number of entries.
    pub entries: U64,
    /// Branch pages in the tree.
    pub branch_pages: U64,
    /// Leaf pages in the tree.
    pub leaf_pages: U64,
    /// Overflow pages (all runs) owned by the tree.
    pub overflow_pages: U64,
    /// Levels: 0 when empty, 1 when the root is a leaf.
    pub depth: U32,
    /// Zero.
    pub reserved: U32,
}

const _: () = assert!(size_of::<TreeRoot>() == 56);

/// The fields after a meta page's header.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C, packed)]
pub struct MetaFields {
    /// [`MAGIC`].
    pub magic: [u8; 8],
    /// [`FORMAT_VERSION`] of the writer.
    pub version: U32,
    /// Page size of the file.
    pub page_size: U32,
    /// The transaction this meta commits.
    pub txn_id: U64,
    /// Newest transaction known durable when this meta was written.
    pub durable_txn: U64,
    /// Pages in use.
    pub high_water: U64,
    /// [`META_CLEAN_SHUTDOWN`] and future flags.
    pub flags: u8,
    /// Zero.
    pub pad: [u8; 7],
    /// The catalog of named trees.
    pub catalog: TreeRoot,
    /// The free-page tree.
    pub free: TreeRoot,
}

const META_FIELDS_AT: usize = HEADER_LEN;
const _: () = assert!(size_of::<MetaFields>() == 160);
const _: () = assert!(std::mem::offset_of!(MetaFields, txn_id) == 48 - META_FIELDS_AT);
const _: () = assert!(std::mem::offset_of!(MetaFields, catalog) == 80 - META_FIELDS_AT);
const _: () = assert!(std::mem::offset_of!(MetaFields, free) == 136 - META_FIELDS_AT);

/// A decoded, verified meta page.
#[derive(Debug, Clone, Copy)]
pub struct Meta {
    /// The meta's fields.
    pub fields: MetaFields,
}

impl Meta {
    /// Reads and verifies the meta in slot `no`. Distinguishes "not a nevar file" (bad magic),
    /// "a nevar file of another version" and "a damaged meta" through the error's `what`.
    pub fn read(page: &[u8], no: PageNo) -> Result<Meta> {
        let h = header(page, no)?;
        let (fields, _) = MetaFields::read_from_prefix(&page[HEADER_LEN..])
            .map_err(|_| corrupted(no, "meta page too short"))?;
        if fields.magic != MAGIC {
            return Err(corrupted(no, "bad magic"));
        }
        if h.kind != PageKind::Meta as u8 || h.page_no.get() != no {
            return Err(corrupted(no, "meta header damaged"));
        }
        verify_checksum(page, no)?;
        if fields.version.get() != FORMAT_VERSION {
            return Err(corrupted(no, "unsupported format version"));
        }
        let page_size = fields.page_size.get() as usize;
        if !valid_page_size(page_size) || page_size != page.len() {
            return Err(corrupted(no, "bad page size"));
        }
        if fields.durable_txn.get() > fields.txn_id.get() || h.txn_id.get() != fields.txn_id.get() {
            return Err(corrupted(no, "inconsistent transaction ids"));
        }
        // Impossible values end here, so no `+ 1` / `- 1` on them downstream can overflow.
        if fields.txn_id.get() == 0 || fields.txn_id.get() > MAX_TXN_ID {
            return Err(corrupted(no, "transaction id out of range"));
        }
        if fields.high_water.get() < META_PAGES {
            return Err(corrupted(no, "high-water mark below the meta pages"));
        }
        Ok(Meta { fields })
    }

    /// The fields of a page that may be a meta, unverified: enough to learn the page size and
    /// format version of a file before its pages can be read. Trust nothing else in them.
    pub fn peek(page: &[u8]) -> Option<MetaFields> {
        let (fields, _) = MetaFields::read_from_prefix(page.get(HEADER_LEN..)?).ok()?;
        (fields.magic == MAGIC).then_some(fields)
    }

    /// Writes this meta into `page` as slot `no` and seals it with its checksum.
    pub fn write(&self, page: &mut [u8], no: PageNo) -> Result<()> {
        page.fill(0);
        header_mut(page, no)?.init(PageKind::Meta, no, self.txn_id());
        self.fields
            .write_to_prefix(&mut page[HEADER_LEN..])
            .map_err(|_| corrupted(no, "meta page too short"))?;
        crate::checksum::seal(page, no)
    }

    /// The committed transaction.
    pub fn txn_id(&self) -> TxnId {
        self.fields.txn_id.get()
    }

    /// Whether the database was closed cleanly after this commit.
    pub fn clean(&self) -> bool {
        self.fields.flags & META_CLEAN_SHUTDOWN != 0
    }
}

/// The bytes of a [`TreeRoot`] (as stored in the catalog).
pub fn tree_root_bytes(root: &TreeRoot) -> &[u8] {
    root.as_bytes()
}

/// Reads a [`TreeRoot`] from exactly its bytes.
pub fn tree_root_from_bytes(bytes: &[u8]) -> Option<TreeRoot> {
    TreeRoot::read_from_bytes(bytes).ok()
}
