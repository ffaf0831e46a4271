//! One module per command (bbolt's `cmd/bbolt/command/` layout); each exposes `run`.

pub mod check;
pub mod compact;
pub mod copy;
pub mod del;
pub mod dump;
pub mod get;
pub mod load;
pub mod page;
pub mod put;
pub mod stat;
pub mod trees;
