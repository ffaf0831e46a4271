//! Overflow runs: one large value on contiguous pages.
//!
//! ```text
//!  first page                                   following pages (no headers)
//!  +------------+------------------------------+------------------------------+----
//!  | PageHeader | value bytes ...              | ... value bytes ...          | ...
//!  +------------+------------------------------+------------------------------+----
//!  0            32
//! ```
//! The header's `run_pages` gives the run length; the value's byte length is kept in the leaf
//! cell that refers to the run. The checksum covers the whole run, so the value is returned as
//! one slice straight from the map.

use crate::error::{Result, corrupted};
use crate::header::{HEADER_LEN, PageKind, PageNo, TxnId, header};

/// Pages needed by an overflow run holding `len` value bytes.
pub fn overflow_pages(len: u64, page_size: usize) -> u64 {
    (len + HEADER_LEN as u64).div_ceil(page_size as u64)
}

/// Read access to an overflow run.
pub struct Overflow<'a> {
    run: &'a [u8],
}

impl<'a> Overflow<'a> {
    /// Validates `run` (all its pages) as the overflow run starting at `no`, written by `txn`.
    pub fn new(run: &'a [u8], no: PageNo, txn: TxnId, page_size: usize) -> Result<Self> {
        let h = header(run, no)?;
        if h.kind != PageKind::Overflow as u8 {
            return Err(corrupted(no, "expected an overflow page"));
        }
        if h.page_no.get() != no {
            return Err(corrupted(
                no,
                "page number in header does not match its position",
            ));
        }
        if h.txn_id.get() != txn {
            return Err(corrupted(
                no,
                "overflow run written by another transaction than its reference says",
            ));
        }
        if h.run_pages.get() as usize * page_size != run.len() {
            return Err(corrupted(
                no,
                "overflow run length does not match its reference",
            ));
        }
        Ok(Overflow { run })
    }

    /// The first `len` value bytes.
    pub fn value(&self, len: u64, no: PageNo) -> Result<&'a [u8]> {
        let end = (HEADER_LEN as u64)
            .checked_add(len)
            .ok_or(corrupted(no, "overflow length overflows"))?;
        self.run
            .get(HEADER_LEN..end as usize)
            .ok_or(corrupted(no, "value longer than its overflow run"))
    }
}
