//! Rebuilding the free-page index from what the trees reach (`nevar check --repair`).
//!
//! When the checker's only findings are leaked pages (neither reachable nor free) or pages the
//! free list holds twice or holds although a tree uses them, the trees themselves are intact
//! and the free list can be derived from them: every page below the high-water mark that is
//! not a meta and not reachable from the catalog or a user tree is free. The rebuild commits
//! that list durably in one write transaction. It follows the one rule every commit follows:
//! no page reachable from the last durable snapshot is rewritten before a newer commit is
//! durable. So every page found free is recorded as freed by the rebuild itself (reusable
//! once it is durable), and the new free tree's own pages come from growth.

use nevar_btree::TreeDesc;
use nevar_freelist::FreeList;

use crate::check::ProblemKind;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::options::Durability;

/// What [`Database::rebuild_free_list`] fixed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Leaked pages that are free again.
    pub leaked: u64,
    /// Pages the old free list held twice.
    pub free_twice: u64,
    /// Pages the old free list held although a tree used them.
    pub free_but_used: u64,
    /// Free pages in the rebuilt list.
    pub free_pages: u64,
    /// The commit that holds the rebuilt list.
    pub txn: u64,
}

impl Database {
    /// Checks the database and, when the only problems concern the free-page index (leaked
    /// pages, pages free twice, free pages a tree uses, malformed records), rebuilds that index from what the
    /// trees reach and commits it durably. Any other problem is refused with
    /// [`Error::NotRepairable`] and nothing is written: the report names the damage.
    pub fn rebuild_free_list(&self) -> Result<RepairReport> {
        let audit = self.audit(|_, _| {})?;
        let before = &audit.report;
        if !before.only_free_list_problems() {
            return Err(Error::NotRepairable {
                problems: before.problems.len(),
                first: before
                    .problems
                    .iter()
                    .find(|p| p.kind == ProblemKind::Damaged)
                    .map(|p| format!("page {}: {}", p.page, p.what))
                    .unwrap_or_default(),
            });
        }
        let count = |kind| before.problems.iter().filter(|p| p.kind == kind).count() as u64;
        let mut report = RepairReport {
            leaked: count(ProblemKind::Leaked),
            free_twice: count(ProblemKind::FreeTwice),
            free_but_used: count(ProblemKind::FreeButUsed),
            ..RepairReport::default()
        };
        let mut w = self.begin_write()?;
        if before.txn != w.txn - 1 {
            // A commit landed between the check and the write: its free list is its own.
            return Err(Error::NotRepairable {
                problems: 0,
                first: "the database changed during the repair; run it again".into(),
            });
        }
        // The audit's snapshot is this transaction's base, so its page ownership holds here.
        let free = audit.unused_extents();
        let mut list = FreeList::from_records(Default::default());
        list.begin(
            w.txn,
            self.shared.horizons(w.txn - 1),
            w.freelist.high_water(),
        );
        for &(start, len) in &free {
            // Recorded as freed by this transaction from the durable snapshot: not reused
            // before this commit is durable, so a crash falls back to an untouched snapshot.
            list.free(start, len, false, 0);
        }
        list.grow_only();
        report.free_pages = free.iter().map(|e| e.1).sum();
        w.freelist = list;
        w.roots.free = TreeDesc::default();
        w.set_durability(Durability::Immediate);
        report.txn = w.txn;
        w.commit()?;
        Ok(report)
    }
}

/// What a clean check after a repair proves.
#[cfg(test)]
fn assert_repaired(db: &Database) -> crate::check::CheckReport {
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{:?}", report.problems);
    report
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::FileExt;

    use nevar_page::PageNo;

    use super::*;
    use crate::catalog;
    use crate::options::Options;

    /// A database with a busy tree `t` (several commits of inserts and removes, so the free
    /// list holds pages) and a tree `cold` written once and never touched again.
    fn filled(dir: &std::path::Path) -> Database {
        let db = Options::new().open(dir.join("db")).unwrap();
        for round in 0u32..5 {
            let mut w = db.begin_write().unwrap();
            if round == 0 {
                w.open_tree("cold").unwrap().insert(b"k", b"v").unwrap();
            }
            for i in 0u32..400 {
                let key = (i * 7 + round).to_be_bytes();
                let mut t = w.open_tree("t").unwrap();
                if round % 2 == 1 && i % 3 == 0 {
                    t.remove(&key).unwrap();
                } else {
                    t.insert(&key, &[round as u8; 90]).unwrap();
                }
            }
            w.commit().unwrap();
        }
        db
    }

    fn cold_root(db: &Database) -> PageNo {
        let snap = db.shared.current.load();
        catalog::lookup(&db.shared.store, &snap.catalog, "cold")
            .unwrap()
            .unwrap()
            .desc
            .root
    }

    /// Commits a transaction whose free tree also holds `pages`, as a damaged file's would:
    /// one extra record per page, written straight into the tree, past the in-memory free
    /// list (which debug builds verify at commit, and would refuse).
    fn commit_with_extra_free(db: &Database, pages: &[PageNo]) {
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(b"poke", b"x").unwrap();
        let txn = w.txn;
        for (seq, &p) in pages.iter().enumerate() {
            let key = nevar_freelist::encode_key((txn, 1000 + seq as u32));
            let value = nevar_freelist::encode_value(&[(p, 1)]);
            w.change(|store, roots| nevar_btree::insert(store, &mut roots.free, &key, &value))
                .unwrap();
        }
        w.commit().unwrap();
    }

    fn kinds(report: &crate::check::CheckReport) -> Vec<ProblemKind> {
        report.problems.iter().map(|p| p.kind).collect()
    }

    #[test]
    fn pages_free_twice_or_free_but_used_are_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path());
        let cold = cold_root(&db);
        // A reader keeps the pages the next commit frees from being reused after it.
        let reader = db.begin_read().unwrap();
        commit_with_extra_free(&db, &[]);
        let snap = db.shared.current.load();
        let list = nevar_freelist::load(&db.shared.store, &snap.free).unwrap();
        let newest = list.records().last().expect("a free record");
        assert_eq!(newest.0.0, snap.txn);
        let already_free = newest.1[0].0;
        commit_with_extra_free(&db, &[cold, already_free]);
        drop(reader);
        let found = db.check().unwrap();
        assert!(
            kinds(&found).contains(&ProblemKind::FreeButUsed),
            "{:?}",
            found.problems
        );
        assert!(
            kinds(&found).contains(&ProblemKind::FreeTwice),
            "{:?}",
            found.problems
        );
        assert!(found.only_free_list_problems());
        let fixed = db.rebuild_free_list().unwrap();
        assert!(
            fixed.free_but_used >= 1 && fixed.free_twice >= 1,
            "{fixed:?}"
        );
        assert_repaired(&db);
        // The rebuilt list works: later commits stay clean and reuse the freed pages.
        let pages_before = db.stats().unwrap().high_water;
        for round in 0..4u8 {
            let mut w = db.begin_write().unwrap();
            for i in 0u32..200 {
                w.open_tree("t")
                    .unwrap()
                    .insert(&i.to_be_bytes(), &[round; 90])
                    .unwrap();
            }
            w.commit().unwrap();
        }
        assert_repaired(&db);
        assert!(db.stats().unwrap().high_water <= pages_before + 8);
        drop(db);
        let db = Options::new().open(dir.path().join("db")).unwrap();
        assert_repaired(&db);
        assert_eq!(
            db.begin_read()
                .unwrap()
                .open_tree("cold")
                .unwrap()
                .get(b"k")
                .unwrap(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn damage_to_a_tree_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = filled(dir.path());
        let cold = cold_root(&db);
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("db"))
            .unwrap();
        file.write_at(b"garbage", cold * db.page_size() as u64 + 200)
            .unwrap();
        let txn = db.last_txn();
        match db.rebuild_free_list() {
            Err(Error::NotRepairable { first, .. }) => {
                assert!(first.contains(&format!("page {cold}")), "{first}")
            }
            other => panic!("repaired a damaged tree: {other:?}"),
        }
        assert_eq!(db.last_txn(), txn, "nothing committed");
    }
}
