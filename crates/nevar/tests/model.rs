//! Model test: random operations over several trees, commits, aborts and reopens, against
//! `BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>`; `check()` is clean at every reopen.

use std::collections::BTreeMap;

use nevar::{Database, Options};
use proptest::prelude::*;

type Model = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

#[derive(Debug, Clone)]
enum Op {
    Insert(u8, Vec<u8>, usize),
    Remove(u8, Vec<u8>),
    Range(u8, Vec<u8>, Vec<u8>, bool),
    DeleteTree(u8),
    Commit,
    Abort,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    let key = || proptest::collection::vec(0u8..16, 0..6);
    prop_oneof![
        20 => (0u8..4, key(), prop_oneof![9 => 0usize..200, 1 => 2000usize..30000]).prop_map(|(t, k, n)| Op::Insert(t, k, n)),
        8 => (0u8..4, key()).prop_map(|(t, k)| Op::Remove(t, k)),
        3 => (0u8..4, key(), key(), any::<bool>()).prop_map(|(t, a, b, r)| Op::Range(t, a, b, r)),
        1 => (0u8..4).prop_map(Op::DeleteTree),
        4 => Just(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Reopen),
    ]
}

fn name(t: u8) -> String {
    format!("tree{t}")
}

fn check_equal(db: &Database, model: &Model) {
    let r = db.begin_read().unwrap();
    let names: Vec<String> = model.keys().cloned().collect();
    assert_eq!(r.tree_names().unwrap(), names);
    for (name, entries) in model {
        let t = r.open_tree(name).unwrap();
        assert_eq!(t.len().unwrap(), entries.len() as u64);
        let got: Vec<(Vec<u8>, Vec<u8>)> = t
            .iter()
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        let want: Vec<(Vec<u8>, Vec<u8>)> = entries
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(got, want, "tree {name}");
    }
}

#[allow(unused_assignments)]
fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.nevar");
    let open = || Options::new().segment_size(1 << 20).open(&path).unwrap();
    let mut db = open();
    let mut committed = Model::new();
    let mut pending = committed.clone();
    let mut w = Some(db.begin_write().unwrap());
    for (n, op) in ops.into_iter().enumerate() {
        let txn = w.as_mut().unwrap();
        match op {
            Op::Insert(t, k, len) => {
                let v: Vec<u8> = (0..len).map(|i| (i + n) as u8).collect();
                let existed = txn.open_tree(&name(t)).unwrap().insert(&k, &v).unwrap();
                assert_eq!(
                    existed,
                    pending.entry(name(t)).or_default().insert(k, v).is_some()
                );
            }
            Op::Remove(t, k) => {
                let existed = txn.open_tree(&name(t)).unwrap().remove(&k).unwrap();
                assert_eq!(
                    existed,
                    pending.entry(name(t)).or_default().remove(&k).is_some()
                );
            }
            Op::Range(t, a, b, rev) => {
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                let tree = txn.open_tree(&name(t)).unwrap();
                pending.entry(name(t)).or_default();
                let it = tree.range(&lo[..]..=&hi[..]).unwrap();
                let got: Vec<Vec<u8>> = if rev {
                    it.rev().map(|e| e.unwrap().0.to_vec()).collect()
                } else {
                    it.map(|e| e.unwrap().0.to_vec()).collect()
                };
                let mut want: Vec<Vec<u8>> = pending[&name(t)]
                    .range(lo..=hi)
                    .map(|(k, _)| k.clone())
                    .collect();
                if rev {
                    want.reverse();
                }
                assert_eq!(got, want);
            }
            Op::DeleteTree(t) => {
                assert_eq!(
                    txn.delete_tree(&name(t)).unwrap(),
                    pending.remove(&name(t)).is_some()
                );
            }
            Op::Commit => {
                w.take().unwrap().commit().unwrap();
                committed = pending.clone();
                check_equal(&db, &committed);
                w = Some(db.begin_write().unwrap());
            }
            Op::Abort => {
                drop(w.take());
                pending = committed.clone();
                check_equal(&db, &committed);
                w = Some(db.begin_write().unwrap());
            }
            Op::Reopen => {
                // Assigning (not `take`) ends the transaction's borrow of `db` for the checker.
                w = None;
                pending = committed.clone();
                drop(db);
                db = open();
                let report = db.check().unwrap();
                assert!(report.is_clean(), "{:?}", report.problems);
                check_equal(&db, &committed);
                w = Some(db.begin_write().unwrap());
            }
        }
    }
    w.take().unwrap().commit().unwrap();
    check_equal(&db, &pending);
    assert!(db.check().unwrap().is_clean());
    // Deleting everything brings the used pages back to the empty baseline.
    let mut w = db.begin_write().unwrap();
    for name in pending.keys() {
        w.delete_tree(name).unwrap();
    }
    w.commit().unwrap();
    for _ in 0..3 {
        db.begin_write().unwrap().commit().unwrap();
    }
    let s = db.stats().unwrap();
    assert_eq!((s.leaf_pages, s.branch_pages, s.overflow_pages), (0, 0, 0));
    assert!(
        s.meta_tree_pages <= 3,
        "only the free tree's root (and catalog) remain: {s:?}"
    );
    assert!(db.check().unwrap().is_clean());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: if std::env::var("NEVAR_LONG").is_ok() { 2048 } else { 96 },
        ..ProptestConfig::default()
    })]

    #[test]
    fn matches_a_model_of_trees(ops in proptest::collection::vec(op(), 1..400)) {
        run(ops);
    }
}

/// Regression: the free-page tree's flush at commit oscillated (a page freed by the flush was
/// reallocated by it, shrinking and regrowing records through merge and split) and commits
/// failed with "free-page tree did not converge". Before the fix, a few hundred model cases
/// always hit it; this replays 512 from a fixed seed.
#[test]
fn regression_free_tree_flush_converges() {
    use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
    let seed = [7u8; 32];
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 512,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed),
    );
    runner
        .run(&proptest::collection::vec(op(), 1..400), |ops| {
            run(ops);
            Ok(())
        })
        .unwrap();
}
