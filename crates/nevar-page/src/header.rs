//! The fixed 32-byte header at the start of every page.
//!
//! ```text
//!  0        4      5        6       8                16               24          28           30         32
//!  +--------+------+--------+-------+----------------+----------------+-----------+------------+----------+
//!  |checksum| kind |head_gap| count |    page_no     |     txn_id     | run_pages | cell_bytes |prefix_len|
//!  |  u32   |  u8  |   u8   |  u16  |      u64       |      u64       |    u32    |    u16     |   u16    |
//!  +--------+------+--------+-------+----------------+----------------+-----------+------------+----------+
//! ```
//! All integers are little-endian. `checksum` covers every byte of the page (or overflow run)
//! after itself, so it sits first and needs no zeroing. `count` and `cell_bytes` describe the
//! slotted layout of leaf and branch pages; `run_pages` is the length of an overflow run (1 for
//! every other kind).

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Result, corrupted};

/// A page number: the page's offset in the file divided by the page size.
pub type PageNo = u64;
/// A transaction id. Ids grow by one per commit; 0 is never a committed transaction.
pub type TxnId = u64;

/// Length of [`PageHeader`] in bytes.
pub const HEADER_LEN: usize = 32;
/// The page size of a database created with default options.
pub const DEFAULT_PAGE_SIZE: usize = 4096;
/// Smallest page size a database may be created with.
pub const MIN_PAGE_SIZE: usize = 4096;
/// Largest page size a database may be created with.
pub const MAX_PAGE_SIZE: usize = 65536;

/// Whether `size` is an allowed page size: a power of two from 4 KiB to 64 KiB.
pub fn valid_page_size(size: usize) -> bool {
    size.is_power_of_two() && (MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&size)
}

/// The header every page starts with.
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C, packed)]
pub struct PageHeader {
    /// Checksum over the rest of the page (or run), see [`crate::page_checksum`].
    pub checksum: U32,
    /// A [`PageKind`] as its byte.
    pub kind: u8,
    /// Slotted pages: where the slot heads skip bytes every keyed key shares (the lead and
    /// gap lengths, see `head.rs`); 0 on other kinds.
    pub head_gap: u8,
    /// Slotted pages: number of cells.
    pub count: U16,
    /// The page's own number; a page found at another position is misplaced.
    pub page_no: U64,
    /// The transaction that wrote this page.
    pub txn_id: U64,
    /// Overflow pages: pages in the run. Every other kind: 1.
    pub run_pages: U32,
    /// Slotted pages: bytes used by cells, which grow down from the end of the page.
    pub cell_bytes: U16,
    /// Slotted pages: bytes every keyed entry's key shares with the first (see `slotted.rs`);
    /// zero on other kinds.
    pub prefix_len: U16,
}

const _: () = assert!(size_of::<PageHeader>() == HEADER_LEN);
const _: () = assert!(std::mem::offset_of!(PageHeader, kind) == 4);
const _: () = assert!(std::mem::offset_of!(PageHeader, count) == 6);
const _: () = assert!(std::mem::offset_of!(PageHeader, page_no) == 8);
const _: () = assert!(std::mem::offset_of!(PageHeader, txn_id) == 16);
const _: () = assert!(std::mem::offset_of!(PageHeader, run_pages) == 24);
const _: () = assert!(std::mem::offset_of!(PageHeader, cell_bytes) == 28);

/// What a page holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PageKind {
    /// One of the meta slots at the start of the file.
    Meta = 1,
    /// An interior B+tree node: child pointers and separator keys.
    Branch = 2,
    /// A B+tree leaf: keys and values (or overflow references).
    Leaf = 3,
    /// The first page of a run holding one large value.
    Overflow = 4,
}

impl PageKind {
    /// Decodes a kind byte.
    pub fn from_byte(byte: u8) -> Option<PageKind> {
        match byte {
            1 => Some(PageKind::Meta),
            2 => Some(PageKind::Branch),
            3 => Some(PageKind::Leaf),
            4 => Some(PageKind::Overflow),
            _ => None,
        }
    }
}

/// Reads the header of `page`, which must be at least [`HEADER_LEN`] bytes.
pub fn header(page: &[u8], no: PageNo) -> Result<&PageHeader> {
    PageHeader::ref_from_prefix(page)
        .map(|(h, _)| h)
        .map_err(|_| corrupted(no, "page shorter than its header"))
}

/// Mutable access to the header of `page`.
pub fn header_mut(page: &mut [u8], no: PageNo) -> Result<&mut PageHeader> {
    PageHeader::mut_from_prefix(page)
        .map(|(h, _)| h)
        .map_err(|_| corrupted(no, "page shorter than its header"))
}

impl PageHeader {
    /// The decoded kind, or an error naming the page.
    pub fn page_kind(&self) -> Result<PageKind> {
        let no = self.page_no.get();
        PageKind::from_byte(self.kind).ok_or(corrupted(no, "unknown page kind"))
    }

    /// Writes a fresh header for page `no` of `kind`, written by `txn`.
    pub fn init(&mut self, kind: PageKind, no: PageNo, txn: TxnId) {
        *self = PageHeader {
            checksum: U32::new(0),
            kind: kind as u8,
            head_gap: 0,
            count: U16::new(0),
            page_no: U64::new(no),
            txn_id: U64::new(txn),
            run_pages: U32::new(1),
            cell_bytes: U16::new(0),
            prefix_len: U16::new(0),
        };
    }
}
