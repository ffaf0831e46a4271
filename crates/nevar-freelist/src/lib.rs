//! Free pages, stored in a B+tree keyed by the transaction that freed them.
//!
//! Pages freed by transaction `T` are still part of every snapshot older than `T`, so they
//! become reusable only once the *horizon* (the oldest snapshot any reader holds, and the last
//! durable commit) has reached `T`. Pages a transaction allocates and frees itself never
//! belonged to a snapshot and are reusable at once.
//!
//! The whole tree is mirrored in memory ([`FreeList`]) the first time a write transaction
//! needs it, so allocation never scans the tree. At commit, [`flush`] writes the records that
//! changed; writing them allocates and frees pages of the free tree itself, which changes
//! records again, so it repeats until a pass changes nothing (see `docs/freelist.md`).
#![forbid(unsafe_code)]

mod flush;
mod list;
mod record;
mod verify;

pub use flush::{FreeStore, flush, load};
pub use list::{FreeList, FreeMark, FreeStats, Horizons};
pub use record::{
    EXTENTS_PER_RECORD, Extent, RecordKey, VOLATILE, decode_key, decode_value, encode_key,
    encode_value, is_volatile,
};
pub use verify::{FreeListFault, FreeListProblem};
