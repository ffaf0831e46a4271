//! The database checker.

use std::ops::Bound;

use nevar_btree::{Range, TreeDesc, verify};
use nevar_freelist::{FreeListFault, Horizons};
use nevar_page::{PageNo, TxnId, verify_checksum};

use crate::catalog;
use crate::db::Database;
use crate::error::{Error, Result};
use crate::recovery::META_SLOTS;
use crate::store::ReadStore;

/// One problem the checker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub page: PageNo,
    /// What kind of problem, for tools that act on it (such as the free-list repair).
    pub kind: ProblemKind,
    /// What, in words.
    pub what: String,
}

/// The kinds of [`Problem`]. The first four concern only the free-page index, which can be
/// rebuilt from what the trees reach ([`Database::rebuild_free_list`]); any other damage
/// cannot be repaired that way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// Neither reachable from a tree nor free: space lost until repaired.
    Leaked,
    /// Free twice over in the free-page index.
    FreeTwice,
    /// In the free-page index although a tree uses it: the next allocation would overwrite it.
    FreeButUsed,
    /// Free-page records that contradict each other (out of order, say).
    FreeListMalformed,
    /// Any other damage: a checksum, a tree's structure, a page claimed by two trees.
    Damaged,
}

impl CheckReport {
    /// Whether every problem is one a free-list rebuild fixes.
    pub fn only_free_list_problems(&self) -> bool {
        self.problems.iter().all(|p| p.kind != ProblemKind::Damaged)
    }
}

/// What [`Database::check`] found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// The commit checked.
    pub txn: TxnId,
    /// Pages below the high-water mark.
    pub pages: u64,
    /// User trees checked.
    pub trees: usize,
    /// Every problem, with its page.
    pub problems: Vec<Problem>,
}

impl CheckReport {
    /// Whether no problem was found.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The owner name of free pages.
const FREE_LIST: &str = "the free list";
/// The owner name of the free-page tree's own pages.
const FREE_TREE: &str = "free-page tree";

/// A finished check: the report, and who owns each page below the high-water mark (the first
/// claimant, `None` for a leaked page).
pub(crate) struct Audit {
    pub report: CheckReport,
    owner: Vec<Option<&'static str>>,
}

impl Audit {
    /// Pages past the metas that neither the catalog nor a user tree holds (free, leaked, or
    /// the free-page tree's own pages), as sorted extents: what a rebuilt free list holds.
    pub fn unused_extents(&self) -> Vec<(PageNo, u64)> {
        let mut extents: Vec<(PageNo, u64)> = Vec::new();
        for (page, owner) in self.owner.iter().enumerate().skip(META_SLOTS as usize) {
            if !matches!(owner, None | Some(FREE_LIST) | Some(FREE_TREE)) {
                continue;
            }
            let page = page as PageNo;
            match extents.last_mut() {
                Some((s, l)) if *s + *l == page && *l < u64::from(u32::MAX) => *l += 1,
                _ => extents.push((page, 1)),
            }
        }
        extents
    }
}

/// Who owns each page below the high-water mark.
struct Owners<'p> {
    owner: Vec<Option<&'static str>>,
    problems: Vec<Problem>,
    /// Pages claimed so far, reported to `progress` with the total.
    claimed: u64,
    progress: &'p mut dyn FnMut(u64, u64),
}

impl Owners<'_> {
    fn claim(&mut self, first: PageNo, count: u64, who: &'static str) {
        self.claimed = self.claimed.saturating_add(count);
        (self.progress)(self.claimed, self.owner.len() as u64);
        let end = first.saturating_add(count);
        let known = self.owner.len() as PageNo;
        if end > known {
            // One problem for the whole range: a damaged length must not cost a loop per page.
            let from = first.max(known);
            self.problem_of(
                ProblemKind::Damaged,
                from,
                format!(
                    "{who} references {} pages beyond the high-water mark",
                    end - from
                ),
            );
        }
        for page in first.min(known)..end.min(known) {
            match &mut self.owner[page as usize] {
                Some(other) => {
                    let other = *other;
                    let kind = match (other == FREE_LIST, who == FREE_LIST) {
                        (true, true) => ProblemKind::FreeTwice,
                        (true, false) | (false, true) => ProblemKind::FreeButUsed,
                        (false, false) => ProblemKind::Damaged,
                    };
                    let what = format!("page claimed by both {other} and {who}");
                    self.problem_of(kind, page, what)
                }
                slot => *slot = Some(who),
            }
        }
    }

    fn problem(&mut self, page: PageNo, what: String) {
        self.problem_of(ProblemKind::Damaged, page, what);
    }

    fn problem_of(&mut self, kind: ProblemKind, page: PageNo, what: String) {
        self.problems.push(Problem { page, kind, what });
    }
}

/// The damaged page, when `e` says the file is damaged; any other error (an I/O failure, say)
/// is not a finding about the file and ends the check as an error.
fn damaged_page(e: impl Into<Error>) -> Result<PageNo> {
    match e.into() {
        Error::Corrupted { page, .. } => Ok(page),
        other => Err(other),
    }
}

impl Database {
    /// Checks the last commit completely: every page below the high-water mark is a meta,
    /// belongs to exactly one tree (the catalog, the free-page tree or a user tree) or is free
    /// (reusable or pending), every checksum is valid and every tree passes its verifier.
    pub fn check(&self) -> Result<CheckReport> {
        self.check_with_progress(|_, _| {})
    }

    /// [`check`](Database::check), calling `progress(pages accounted for, total pages)` as it
    /// goes (often: keep the callback cheap).
    pub fn check_with_progress(&self, progress: impl FnMut(u64, u64)) -> Result<CheckReport> {
        Ok(self.audit(progress)?.report)
    }

    /// The check, keeping the page ownership it found.
    pub(crate) fn audit(&self, mut progress: impl FnMut(u64, u64)) -> Result<Audit> {
        let read = self.begin_read()?;
        let snap = read.snapshot();
        let store = &self.shared.store;
        let mut owners = Owners {
            owner: vec![None; snap.high_water as usize],
            problems: Vec::new(),
            claimed: 0,
            progress: &mut progress,
        };
        owners.claim(0, META_SLOTS, "meta");
        let mut report = CheckReport {
            txn: snap.txn,
            pages: snap.high_water,
            ..CheckReport::default()
        };
        check_tree(store, &snap.catalog, "catalog", &mut owners)?;
        check_tree(store, &snap.free, FREE_TREE, &mut owners)?;
        match Range::new(store, &snap.catalog, Bound::Unbounded, Bound::Unbounded) {
            Ok(range) => {
                for item in range {
                    let value = match item {
                        Ok((_, value)) => value,
                        Err(e) => {
                            owners.problem(damaged_page(e)?, "catalog unreadable".into());
                            break;
                        }
                    };
                    match catalog::decode(value) {
                        Some(entry) => check_tree(store, &entry.desc, "a user tree", &mut owners)?,
                        None => owners.problem(snap.catalog.root, "malformed catalog entry".into()),
                    }
                    report.trees += 1;
                }
            }
            Err(e) => owners.problem(damaged_page(e)?, "catalog unreadable".into()),
        }
        match nevar_freelist::load(store, &snap.free) {
            Ok(mut list) => {
                // Overlaps and extents out of range show below as pages claimed twice or past
                // the high-water mark; `verify` adds records that contradict each other.
                list.begin(
                    snap.txn.saturating_add(1),
                    Horizons::default(),
                    snap.high_water,
                );
                if let Err(p) = list.verify()
                    && p.kind == FreeListFault::Malformed
                {
                    owners.problem_of(ProblemKind::FreeListMalformed, p.page, p.to_string());
                }
                for (_, extents) in list.records() {
                    for &(start, len) in extents {
                        owners.claim(start, len, FREE_LIST);
                    }
                }
            }
            Err(e) => owners.problem(damaged_page(e)?, "free-page records unreadable".into()),
        }
        let leaked: Vec<PageNo> = owners
            .owner
            .iter()
            .enumerate()
            .filter(|(_, o)| o.is_none())
            .map(|(p, _)| p as PageNo)
            .collect();
        for page in leaked {
            owners.problem_of(
                ProblemKind::Leaked,
                page,
                "page leaked: neither reachable nor free".into(),
            );
        }
        report.problems = owners.problems;
        Ok(Audit {
            report,
            owner: owners.owner,
        })
    }
}

fn check_tree(
    store: &ReadStore,
    desc: &TreeDesc,
    who: &'static str,
    owners: &mut Owners,
) -> Result<()> {
    match verify(store, desc) {
        Ok(found) => {
            for (first, count) in found.pages {
                owners.claim(first, count, who);
                match store.0.run(first, count) {
                    Ok(bytes) => {
                        if let Err(e) = verify_checksum(bytes, first) {
                            owners.problem(first, e.to_string());
                        }
                    }
                    Err(e) => owners.problem(first, e.to_string()),
                }
            }
        }
        Err(e) => {
            let e = Error::from(e);
            let message = format!("{who}: {e}");
            owners.problem(damaged_page(e)?, message);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An I/O failure met while checking is an error of the check, not a problem on page 0.
    #[test]
    fn only_corruption_becomes_a_problem() {
        assert_eq!(
            damaged_page(Error::Corrupted { page: 9, what: "x" }).unwrap(),
            9
        );
        let io = Error::Io {
            op: "map",
            source: std::io::Error::from_raw_os_error(5),
        };
        assert!(matches!(damaged_page(io), Err(Error::Io { op: "map", .. })));
    }
}
