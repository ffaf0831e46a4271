//! nevar: an embedded, transactional key-value storage engine.
//!
//! One file holds many named copy-on-write B+trees. Readers get lock-free MVCC snapshots and
//! zero-copy values straight from a memory map; one writer at a time; every commit is atomic
//! and (by default) durable with a single sync. The file grows by mapping new segments, so
//! nothing is ever remapped under a reader.
//!
//! ```
//! use nevar::{Database, Durability, Options};
//!
//! # fn main() -> nevar::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("data.nevar");
//! let db = Options::new().durability(Durability::Immediate).open(&path)?;
//!
//! let mut w = db.begin_write()?;
//! {
//!     let mut users = w.open_tree("users")?;
//!     users.insert(b"alice", b"admin")?;
//!     users.insert(b"bob", b"reader")?;
//! }
//! w.commit()?;
//!
//! let r = db.begin_read()?;
//! let users = r.open_tree("users")?;
//! assert_eq!(users.get(b"alice")?, Some(&b"admin"[..]));
//! let names: Vec<&[u8]> = users.iter()?.map(|e| e.map(|(k, _)| k)).collect::<nevar::Result<_>>()?;
//! assert_eq!(names, [&b"alice"[..], &b"bob"[..]]);
//! assert!(matches!(r.open_tree("missing"), Err(nevar::Error::TreeNotFound(_))));
//! # Ok(())
//! # }
//! ```
//!
//! Typed trees name their key and value types once; keys are encoded so that byte order is
//! the type's order (`docs/encodings.md` has every encoding byte by byte), and `&str` and
//! `&[u8]` values read straight out of the map:
//!
//! ```
//! use nevar::{Database, TreeDef};
//!
//! const USERS: TreeDef<u64, &str> = TreeDef::new("users");
//! const EVENTS: TreeDef<(u32, &str), &[u8]> = TreeDef::new("events");
//! # fn main() -> nevar::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let db = Database::open(dir.path().join("data.nevar"))?;
//!
//! let mut w = db.begin_write()?;
//! w.open_tree(USERS)?.insert(7, "ada")?;
//! w.open_tree(EVENTS)?.insert((3, "login"), b"..".as_slice())?;
//! let sp = w.savepoint()?;
//! w.open_tree(USERS)?.insert(8, "grace")?;
//! w.rollback_to(&sp)?; // undoes the second insert only
//! w.commit()?;
//!
//! let r = db.begin_read()?;
//! assert_eq!(r.open_tree(USERS)?.get(7)?, Some("ada"));
//! assert_eq!(r.open_tree(USERS)?.get(8)?, None);
//! // Opening with other types is refused; the catalog recorded u64 and str.
//! assert!(matches!(
//!     r.open_tree(TreeDef::<u32, &str>::new("users")),
//!     Err(nevar::Error::TreeTypeMismatch { .. })
//! ));
//! # Ok(())
//! # }
//! ```
//!
//! Keys are 0 to `page_size / 4` bytes (1,024 on the default 4 KiB pages; the empty key is an
//! ordinary key), compared bytewise. Values are 0 bytes to 2 GiB - 1; large values live on
//! contiguous overflow pages and still come back as one slice.
//!
//! The crate root lists what applications use. [`storage`] holds the traits for running a
//! database on other backends; the `testing` module (cargo feature `testing`) holds the
//! simulated disk and fault injection the crash tests use.
#![forbid(unsafe_code)]

#[cfg(feature = "serde")]
pub use nevar_txn::Serde;
pub use nevar_txn::{
    CheckReport, Database, DecodeError, Durability, Error, Key, Options, Problem, ProblemKind,
    ReadTxn, RepairReport, Result, Savepoint, Stats, Tree, TreeDef, TreeIter, TreeSpec, TreeStats,
    TreeTypes, TypedIter, TypedTree, TypedWriteTree, Value, WriteTree, WriteTxn,
};

/// Backends a database can live on: implement [`Storage`](storage::Storage) (and
/// [`Region`](storage::Region) for its memory) to run on something other than a file, and
/// [`Directory`](storage::Directory) for where files are created and renamed. Open with
/// [`Options::open_storage`] or [`Options::open_in`].
pub mod storage {
    pub use nevar_pager::{
        Access, Directory, FileStorage, OsDirectory, PagerError, Region, Storage,
    };
}

/// Test machinery: a simulated disk and directory that produce power-loss images, and a
/// storage wrapper that fails chosen calls. Behind the cargo feature `testing`.
#[cfg(feature = "testing")]
pub mod testing {
    pub use nevar_pager::{
        CrashMode, DirOp, DiskOp, Fault, FaultyStorage, SimulatedDir, SimulatedDisk, StorageCall,
    };
}
