//! A copy-on-write B+tree over a [`PageStore`].
//!
//! The tree knows nothing of transactions or free-page policy: it reads pages through
//! [`PageStore`], and when changing a page reachable from a committed root it allocates a
//! copy, edits the copy and hands the old page to [`PageStoreMut::free`]. Pages the store
//! reports dirty (allocated in the current write transaction) are edited in place. A tree is
//! named by its [`TreeDesc`], which the caller stores wherever it likes.
//!
//! Keys are 0 to [`nevar_page::Limits::max_key`] bytes (the empty key is allowed), compared
//! as bytes. Values up to [`MAX_VALUE`] bytes; those too big to sit in a leaf live in an
//! overflow run of contiguous pages and are still returned as one slice.
#![forbid(unsafe_code)]

mod build;
mod cursor;
mod desc;
mod edit;
mod error;
mod mem;
mod node;
mod range_remove;
mod rebalance;
mod recent;
mod split;
mod store;
mod tail;
mod value;
mod verify;
mod write;

pub use build::{PageSink, TreeBuilder};
pub use cursor::Range;
pub use desc::TreeDesc;
pub use error::{BtreeError, Result};
pub use mem::MemStore;
pub use node::{MAX_DEPTH, first, get, last};
pub use range_remove::remove_range;
pub use recent::visit_newer;
pub use store::{PageStore, PageStoreMut};
pub use tail::Tail;
pub use value::MAX_VALUE;
pub use verify::{VerifyReport, verify};
pub use write::{clear, insert, remove};
