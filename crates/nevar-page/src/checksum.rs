//! Page checksums.
//!
//! The checksum is the low 32 bits of XXH3-64 over every byte after the checksum field, i.e.
//! over the page (or whole overflow run) as if the field were absent. XXH3 was chosen over
//! CRC32C by measurement on this project's machines: see `benches/` (`checksum` group) and the
//! numbers in `docs/format.md`.

use crate::error::{Result, corrupted};
use crate::header::{PageNo, header, header_mut};

/// Byte offset where checksummed content starts (just after the checksum field).
const CHECKSUMMED_FROM: usize = 4;

/// The checksum `bytes` (a page or a run) should carry.
pub fn page_checksum(bytes: &[u8]) -> u32 {
    let body = bytes.get(CHECKSUMMED_FROM..).unwrap_or(&[]);
    xxhash_rust::xxh3::xxh3_64(body) as u32
}

/// Computes and stores the checksum of a page or run about to be made durable.
pub fn seal(bytes: &mut [u8], no: PageNo) -> Result<()> {
    let sum = page_checksum(bytes);
    header_mut(bytes, no)?.checksum.set(sum);
    Ok(())
}

/// Checks the stored checksum of a page or run.
pub fn verify_checksum(bytes: &[u8], no: PageNo) -> Result<()> {
    let stored = header(bytes, no)?.checksum.get();
    if stored == page_checksum(bytes) {
        Ok(())
    } else {
        Err(corrupted(no, "checksum mismatch"))
    }
}
