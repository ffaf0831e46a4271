//! The three engines behind one trait, each used the way its documentation recommends.

use std::path::{Path, PathBuf};

/// Key/value pairs of the workload.
pub type Pairs = [(Vec<u8>, Vec<u8>)];

/// What the benchmark asks of an engine.
pub trait Engine: Sync {
    /// Inserts `pairs` in transactions of `per_txn`, durable or not.
    fn write(&mut self, pairs: &Pairs, per_txn: usize, durable: bool);
    /// Inserts `pairs` one durable commit each, from the calling thread; several threads call
    /// it at once on one engine (how a server commits).
    fn commit_each(&self, pairs: &Pairs);
    /// Inserts sorted `pairs` in one transaction using the engine's append path if it has one.
    fn append(&mut self, pairs: &Pairs);
    /// Entries in the table.
    fn len(&self) -> u64;
    /// Reads every key; returns the summed value lengths.
    fn get_all(&self, keys: &[&[u8]]) -> u64;
    /// Scans `count` entries from each start key; returns the entries seen.
    fn scan(&self, starts: &[&[u8]], count: usize) -> u64;
    /// Removes `keys` in one transaction.
    fn remove(&mut self, keys: &[&[u8]]);
    /// Bytes on disk.
    fn file_size(&self) -> u64;
    /// Runs the engine's compacting copy (or in-place compaction); returns the bytes after.
    fn compact(&mut self, scratch: &Path) -> u64;
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum()
}

/// nevar.
pub struct Nevar {
    db: nevar::Database,
    path: PathBuf,
}

impl Nevar {
    /// A fresh database in `dir`.
    pub fn open(dir: &Path) -> Nevar {
        let path = dir.join("bench.nevar");
        Nevar {
            db: nevar::Database::open(&path).unwrap(),
            path,
        }
    }
}

impl Engine for Nevar {
    fn write(&mut self, pairs: &Pairs, per_txn: usize, durable: bool) {
        for chunk in pairs.chunks(per_txn) {
            let mut w = self.db.begin_write().unwrap();
            if !durable {
                w.set_durability(nevar::Durability::NoSync);
            }
            let mut t = w.open_tree("bench").unwrap();
            for (k, v) in chunk {
                t.insert(k, v).unwrap();
            }
            w.commit().unwrap();
        }
    }
    fn commit_each(&self, pairs: &Pairs) {
        for (k, v) in pairs {
            let mut w = self.db.begin_write().unwrap();
            w.open_tree("bench").unwrap().insert(k, v).unwrap();
            w.commit().unwrap();
        }
    }
    fn append(&mut self, pairs: &Pairs) {
        self.write(pairs, pairs.len(), true);
    }
    fn len(&self) -> u64 {
        self.db
            .begin_read()
            .unwrap()
            .open_tree("bench")
            .unwrap()
            .len()
            .unwrap()
    }
    fn get_all(&self, keys: &[&[u8]]) -> u64 {
        let r = self.db.begin_read().unwrap();
        let t = r.open_tree("bench").unwrap();
        keys.iter()
            .map(|k| t.get(k).unwrap().unwrap().len() as u64)
            .sum()
    }
    fn scan(&self, starts: &[&[u8]], count: usize) -> u64 {
        let r = self.db.begin_read().unwrap();
        let t = r.open_tree("bench").unwrap();
        starts
            .iter()
            .map(|s| {
                t.range(*s..)
                    .unwrap()
                    .take(count)
                    .fold(0u64, |n, e| n + u64::from(!e.unwrap().1.is_empty()))
            })
            .sum()
    }
    fn remove(&mut self, keys: &[&[u8]]) {
        let mut w = self.db.begin_write().unwrap();
        let mut t = w.open_tree("bench").unwrap();
        for k in keys {
            t.remove(k).unwrap();
        }
        w.commit().unwrap();
    }
    fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).unwrap().len()
    }
    fn compact(&mut self, scratch: &Path) -> u64 {
        let target = scratch.join("compact.nevar");
        self.db.copy_to(&target, true).unwrap();
        std::fs::metadata(&target).unwrap().len()
    }
}

/// LMDB through heed, default (durable) flags.
pub struct Lmdb {
    env: heed::Env,
    db: heed::Database<heed::types::Bytes, heed::types::Bytes>,
    dir: PathBuf,
}

impl Lmdb {
    /// A fresh environment in `dir`.
    pub fn open(dir: &Path) -> Lmdb {
        let dir = dir.join("lmdb");
        std::fs::create_dir_all(&dir).unwrap();
        // The map is address space, not memory. Under valgrind (instruction counts) 64 GiB
        // does not fit, so NEVAR_BENCH_LMDB_MAP_GIB can shrink it.
        let map_gib: usize = std::env::var("NEVAR_BENCH_LMDB_MAP_GIB")
            .ok()
            .and_then(|g| g.parse().ok())
            .unwrap_or(64);
        // SAFETY: one environment per directory, opened once in this process.
        let env = unsafe {
            heed::EnvOpenOptions::new()
                .map_size(map_gib << 30)
                .max_dbs(4)
                .open(&dir)
                .unwrap()
        };
        let mut w = env.write_txn().unwrap();
        let db = env.create_database(&mut w, Some("bench")).unwrap();
        w.commit().unwrap();
        Lmdb { env, db, dir }
    }
}

impl Engine for Lmdb {
    fn write(&mut self, pairs: &Pairs, per_txn: usize, durable: bool) {
        // SAFETY: toggling NO_SYNC between transactions, with no transaction open.
        unsafe {
            let mode = if durable {
                heed::FlagSetMode::Disable
            } else {
                heed::FlagSetMode::Enable
            };
            self.env.set_flags(heed::EnvFlags::NO_SYNC, mode).unwrap();
        }
        for chunk in pairs.chunks(per_txn) {
            let mut w = self.env.write_txn().unwrap();
            for (k, v) in chunk {
                self.db.put(&mut w, k, v).unwrap();
            }
            w.commit().unwrap();
        }
        // SAFETY: as above.
        unsafe {
            self.env
                .set_flags(heed::EnvFlags::NO_SYNC, heed::FlagSetMode::Disable)
                .unwrap()
        };
    }
    fn commit_each(&self, pairs: &Pairs) {
        for (k, v) in pairs {
            let mut w = self.env.write_txn().unwrap();
            self.db.put(&mut w, k, v).unwrap();
            w.commit().unwrap();
        }
    }
    fn append(&mut self, pairs: &Pairs) {
        let mut w = self.env.write_txn().unwrap();
        for (k, v) in pairs {
            self.db
                .put_with_flags(&mut w, heed::PutFlags::APPEND, k, v)
                .unwrap();
        }
        w.commit().unwrap();
    }
    fn len(&self) -> u64 {
        let r = self.env.read_txn().unwrap();
        self.db.len(&r).unwrap()
    }
    fn get_all(&self, keys: &[&[u8]]) -> u64 {
        let r = self.env.read_txn().unwrap();
        keys.iter()
            .map(|k| self.db.get(&r, k).unwrap().unwrap().len() as u64)
            .sum()
    }
    fn scan(&self, starts: &[&[u8]], count: usize) -> u64 {
        let r = self.env.read_txn().unwrap();
        starts
            .iter()
            .map(|s| {
                self.db
                    .range(
                        &r,
                        &(std::ops::Bound::Included(*s), std::ops::Bound::Unbounded),
                    )
                    .unwrap()
                    .take(count)
                    .fold(0u64, |n, e| n + u64::from(!e.unwrap().1.is_empty()))
            })
            .sum()
    }
    fn remove(&mut self, keys: &[&[u8]]) {
        let mut w = self.env.write_txn().unwrap();
        for k in keys {
            self.db.delete(&mut w, k).unwrap();
        }
        w.commit().unwrap();
    }
    fn file_size(&self) -> u64 {
        dir_size(&self.dir)
    }
    fn compact(&mut self, scratch: &Path) -> u64 {
        let target = scratch.join("lmdb-compact.mdb");
        self.env
            .copy_to_path(&target, heed::CompactionOption::Enabled)
            .unwrap();
        std::fs::metadata(&target).unwrap().len()
    }
}

use redb::ReadableDatabase;

const TABLE: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("bench");

/// redb with its default (immediate) durability.
pub struct Redb {
    db: redb::Database,
    path: PathBuf,
}

impl Redb {
    /// A fresh database in `dir`.
    pub fn open(dir: &Path) -> Redb {
        let path = dir.join("bench.redb");
        Redb {
            db: redb::Database::create(&path).unwrap(),
            path,
        }
    }
}

impl Engine for Redb {
    fn write(&mut self, pairs: &Pairs, per_txn: usize, durable: bool) {
        for chunk in pairs.chunks(per_txn) {
            let mut w = self.db.begin_write().unwrap();
            if !durable {
                w.set_durability(redb::Durability::None).unwrap();
            }
            {
                let mut t = w.open_table(TABLE).unwrap();
                for (k, v) in chunk {
                    t.insert(k.as_slice(), v.as_slice()).unwrap();
                }
            }
            w.commit().unwrap();
        }
    }
    fn commit_each(&self, pairs: &Pairs) {
        for (k, v) in pairs {
            let w = self.db.begin_write().unwrap();
            w.open_table(TABLE)
                .unwrap()
                .insert(k.as_slice(), v.as_slice())
                .unwrap();
            w.commit().unwrap();
        }
    }
    fn append(&mut self, pairs: &Pairs) {
        self.write(pairs, pairs.len(), true);
    }
    fn len(&self) -> u64 {
        use redb::ReadableTableMetadata;
        self.db
            .begin_read()
            .unwrap()
            .open_table(TABLE)
            .unwrap()
            .len()
            .unwrap()
    }
    fn get_all(&self, keys: &[&[u8]]) -> u64 {
        let r = self.db.begin_read().unwrap();
        let t = r.open_table(TABLE).unwrap();
        keys.iter()
            .map(|k| t.get(*k).unwrap().unwrap().value().len() as u64)
            .sum()
    }
    fn scan(&self, starts: &[&[u8]], count: usize) -> u64 {
        let r = self.db.begin_read().unwrap();
        let t = r.open_table(TABLE).unwrap();
        starts
            .iter()
            .map(|s| {
                t.range(*s..)
                    .unwrap()
                    .take(count)
                    .fold(0u64, |n, e| n + u64::from(!e.unwrap().1.value().is_empty()))
            })
            .sum()
    }
    fn remove(&mut self, keys: &[&[u8]]) {
        let w = self.db.begin_write().unwrap();
        {
            let mut t = w.open_table(TABLE).unwrap();
            for k in keys {
                t.remove(*k).unwrap();
            }
        }
        w.commit().unwrap();
    }
    fn file_size(&self) -> u64 {
        std::fs::metadata(&self.path).unwrap().len()
    }
    fn compact(&mut self, _scratch: &Path) -> u64 {
        self.db.compact().unwrap();
        std::fs::metadata(&self.path).unwrap().len()
    }
}
