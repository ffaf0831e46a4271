//! Transactions over the pager and the B+tree: meta pages, the commit protocol and recovery,
//! MVCC readers, the single writer, the catalog of named trees and durability modes.
//!
//! The public types here are re-exported by the `nevar` facade, which is where users meet
//! them; see its documentation for examples.
#![forbid(unsafe_code)]

mod catalog;
mod check;
mod commit;
mod copy;
mod db;
mod error;
mod group;
mod location;
mod ops;
mod options;
mod read;
mod readers;
mod recovery;
mod repair;
mod savepoint;
#[cfg(test)]
mod schedules;
mod snapshot;
mod stats;
mod store;
mod stream;
mod typed;
mod write;

pub use catalog::TreeTypes;
pub use check::{CheckReport, Problem, ProblemKind};
pub use db::Database;
pub use error::{Error, Result};
#[cfg(feature = "serde")]
pub use nevar_codec::Serde;
pub use nevar_codec::{DecodeError, Key, Value};
pub use options::{Durability, Options};
pub use read::{ReadTxn, Tree, TreeIter};
pub use repair::RepairReport;
pub use savepoint::Savepoint;
pub use stats::{Stats, TreeStats};
pub use typed::{TreeDef, TreeSpec, TypedIter, TypedTree, TypedWriteTree};
pub use write::{WriteTree, WriteTxn};
