//! Helpers shared by the integration tests: reading a whole database back, seeds and a small
//! deterministic generator. Each test crate uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;

use nevar::Database;

/// Every tree of a commit with its entries.
pub type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

/// Everything the last commit holds.
pub fn contents(db: &Database) -> Trees {
    let r = db.begin_read().unwrap();
    r.tree_names()
        .unwrap()
        .into_iter()
        .map(|name| {
            let t = r.open_tree(&name).unwrap();
            let entries = t
                .iter()
                .unwrap()
                .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                .collect();
            (name, entries)
        })
        .collect()
}

/// `NEVAR_SEED`, else `default`.
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
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}
