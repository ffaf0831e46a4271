//! Helpers shared by nevar's tests (bbolt's `internal/btesting` plays this part there): a
//! database in a temporary directory, seeds from `NEVAR_SEED`, a small deterministic
//! generator, "check is clean, else print every problem", and reading a database back.
//! Dev-only: no published crate depends on it.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nevar::{Database, Options};

/// Every tree of a commit with its entries.
pub type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Everything the last commit of `db` holds.
pub fn contents(db: &Database) -> Trees {
    let r = db.begin_read().expect("begin_read");
    r.tree_names()
        .expect("tree_names")
        .into_iter()
        .map(|name| {
            let t = r.open_tree(&name).expect("open_tree");
            let entries = t
                .iter()
                .expect("iter")
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).expect("entry"))
                .collect();
            (name, entries)
        })
        .collect()
}

/// Runs the full checker on `db` and fails, listing every problem and `what`, unless clean.
pub fn assert_clean(db: &Database, what: &str) {
    let report = db
        .check()
        .unwrap_or_else(|e| panic!("{what}: check failed: {e}"));
    assert!(
        report.is_clean(),
        "{what}: check found {} problems: {:#?}",
        report.problems.len(),
        report.problems
    );
}

/// `NEVAR_SEED` when set, else `default`. Tests print the seed they ran with when they fail.
pub fn seed(default: u64) -> u64 {
    std::env::var("NEVAR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Whether the long mode (`NEVAR_LONG`) is asked for.
pub fn long() -> bool {
    std::env::var("NEVAR_LONG").is_ok()
}

/// Xorshift64: tiny, deterministic, good enough to draw workloads. The seed must not be 0.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits. (Not an `Iterator`: it never ends, and callers want `u64`.)
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A temporary directory with a database path in it, removed when dropped.
pub struct TempDb {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempDb {
    /// A new directory; the database file (not created yet) is `data.nevar` in it.
    pub fn new() -> TempDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data.nevar");
        TempDb { dir, path }
    }

    /// The database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Another path in the same directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Opens (creating) the database with default options.
    pub fn open(&self) -> Database {
        self.open_with(Options::new())
    }

    /// Opens (creating) the database with `options`.
    pub fn open_with(&self, options: Options) -> Database {
        options.open(&self.path).expect("open database")
    }
}

impl Default for TempDb {
    fn default() -> Self {
        TempDb::new()
    }
}
