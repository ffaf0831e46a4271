//! Encoding of free-tree records.
//!
//! ```text
//!  key (12 bytes, big-endian so records sort by txn):   value (12 bytes per extent):
//!  +------------------+-------------+                   +-------------+----------+----
//!  | freeing txn u64  | seq u32     |                   | start u64le | len u32le| ...
//!  +------------------+-------------+                   +-------------+----------+----
//! ```
//! One transaction's frees are spread over records `(txn, 0)`, `(txn, 1)`, ... of at most
//! [`EXTENTS_PER_RECORD`] extents each, so every record stays inline in a leaf.
//!
//! The top bit of `seq` ([`VOLATILE`]) marks records of pages that were written after the last
//! durable commit when they were freed. No durable snapshot holds them, so only readers gate
//! their reuse (see `docs/freelist.md`). Files written before the bit existed have no such
//! records; their records simply wait for a durable commit, as all records did then.

use nevar_page::{PageNo, TxnId};

/// A run of free pages: (first page, pages).
pub type Extent = (PageNo, u64);
/// A record's key: (freeing transaction, sequence number).
pub type RecordKey = (TxnId, u32);

/// The `seq` bit of a record whose pages no durable snapshot holds.
pub const VOLATILE: u32 = 1 << 31;

/// Whether record `key` holds pages no durable snapshot holds.
pub fn is_volatile(key: RecordKey) -> bool {
    key.1 & VOLATILE != 0
}

/// Most extents in one record (keeps records inline on 4 KiB pages).
pub const EXTENTS_PER_RECORD: usize = 128;
const KEY_LEN: usize = 12;
const EXTENT_LEN: usize = 12;

/// Encodes a record key.
pub fn encode_key(key: RecordKey) -> [u8; KEY_LEN] {
    let mut out = [0u8; KEY_LEN];
    out[..8].copy_from_slice(&key.0.to_be_bytes());
    out[8..].copy_from_slice(&key.1.to_be_bytes());
    out
}

/// Decodes a record key; `None` if malformed.
pub fn decode_key(bytes: &[u8]) -> Option<RecordKey> {
    let bytes: &[u8; KEY_LEN] = bytes.try_into().ok()?;
    Some((
        u64::from_be_bytes(bytes[..8].try_into().ok()?),
        u32::from_be_bytes(bytes[8..].try_into().ok()?),
    ))
}

/// Encodes a record value.
pub fn encode_value(extents: &[Extent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(extents.len() * EXTENT_LEN);
    for &(start, len) in extents {
        out.extend_from_slice(&start.to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out
}

/// Decodes a record value; `None` if malformed (bad length, empty or overflowing extent).
pub fn decode_value(bytes: &[u8]) -> Option<Vec<Extent>> {
    if !bytes.len().is_multiple_of(EXTENT_LEN) || bytes.len() / EXTENT_LEN > EXTENTS_PER_RECORD {
        return None;
    }
    bytes
        .chunks_exact(EXTENT_LEN)
        .map(|c| {
            let start = u64::from_le_bytes(c[..8].try_into().ok()?);
            let len = u64::from(u32::from_le_bytes(c[8..].try_into().ok()?));
            (len > 0 && start.checked_add(len).is_some()).then_some((start, len))
        })
        .collect()
}
