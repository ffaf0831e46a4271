//! Savepoints against a model: two trees changed by every kind of operation, savepoints
//! taken and rolled back at random (nested, reused, rolled past), commits, aborts and
//! reopens, with `check()` at every reopen, which also finds any page a rollback leaked.

use std::collections::BTreeMap;

use nevar::{Error, WriteTxn};
use nevar_testkit::{Rng, TempDb, assert_clean, contents, long, seed};

type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

const NAMES: [&str; 2] = ["t", "u"];

fn key(rng: &mut Rng) -> Vec<u8> {
    (rng.below(400) as u16).to_be_bytes().to_vec()
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(30) {
        0 => 6000, // an overflow run
        _ => rng.below(300) as usize,
    };
    vec![rng.below(256) as u8; len]
}

/// A burst of changes to one tree, mirrored in `model`.
fn change(w: &mut WriteTxn<'_>, model: &mut Trees, rng: &mut Rng) {
    let name = NAMES[rng.below(2) as usize];
    if rng.below(25) == 0 {
        assert_eq!(w.delete_tree(name).unwrap(), model.remove(name).is_some());
        return;
    }
    let m = model.entry(name.to_owned()).or_default();
    let mut t = w.open_tree(name).unwrap();
    for _ in 0..rng.below(60) {
        match rng.below(15) {
            0 => {
                let k = key(rng);
                assert_eq!(t.take(&k).unwrap(), m.remove(&k));
            }
            1 => assert_eq!(t.pop_first().unwrap(), m.pop_first()),
            10 => assert_eq!(t.pop_last().unwrap(), m.pop_last()),
            11 => {
                let k = key(rng);
                let grow = |old: Option<&[u8]>| match old {
                    Some(v) if v.len() > 400 => None,
                    Some(v) => Some([v, &[1; 50][..]].concat()),
                    None => Some(vec![1]),
                };
                let expected = grow(m.get(&k).map(Vec::as_slice));
                assert_eq!(t.update(&k, grow).unwrap(), expected.is_some());
                match expected {
                    Some(v) => m.insert(k, v),
                    None => m.remove(&k),
                };
            }
            12 => {
                let k = key(rng);
                let v = value(rng);
                let in_order = m.last_key_value().is_none_or(|(last, _)| *last < k);
                match t.append(&k, &v) {
                    Ok(()) => {
                        assert!(in_order, "append took a key out of order");
                        m.insert(k, v);
                    }
                    Err(Error::KeyOutOfOrder) => assert!(!in_order),
                    Err(e) => panic!("append: {e}"),
                }
            }
            13 if rng.below(4) == 0 => {
                let odd = |v: &[u8]| v.len() % 2 == 1;
                m.retain(|_, v| !odd(v));
                let kept = t.len().unwrap() - t.retain(|_, v| !odd(v)).unwrap();
                assert_eq!(kept, m.len() as u64);
            }
            14 => {
                let prefix = &key(rng)[..1];
                let got: Vec<Vec<u8>> = t
                    .prefix(prefix)
                    .unwrap()
                    .map(|e| e.unwrap().0.to_vec())
                    .collect();
                let want: Vec<Vec<u8>> = m
                    .keys()
                    .filter(|k| k.starts_with(prefix))
                    .cloned()
                    .collect();
                assert_eq!(got, want);
            }
            2 if rng.below(4) == 0 => {
                let (a, b) = (key(rng), key(rng));
                let (a, b) = if a <= b { (a, b) } else { (b, a) };
                let doomed: Vec<_> = m
                    .range(a.clone()..b.clone())
                    .map(|(k, _)| k.clone())
                    .collect();
                doomed.iter().for_each(|k| drop(m.remove(k)));
                assert_eq!(t.remove_range(&a[..]..&b[..]).unwrap(), doomed.len() as u64);
            }
            3 => {
                let k = key(rng);
                assert_eq!(t.remove(&k).unwrap(), m.remove(&k).is_some());
            }
            _ => {
                let (k, v) = (key(rng), value(rng));
                assert_eq!(t.insert(&k, &v).unwrap(), m.insert(k, v).is_some());
            }
        }
    }
}

fn as_seen(w: &mut WriteTxn<'_>) -> Trees {
    let mut seen = Trees::new();
    for name in w.tree_names().unwrap() {
        let t = w.open_tree(&name).unwrap();
        let entries = t
            .iter()
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect();
        seen.insert(name, entries);
    }
    seen
}

#[test]
fn rollbacks_restore_exactly_the_saved_state_and_leak_no_page() {
    let db_dir = TempDb::new();
    let mut db = db_dir.open();
    let mut rng = Rng(seed(0x5a7e) | 1);
    let mut committed = Trees::new();
    let rounds = if long() { 2000 } else { 200 };
    let mut rollbacks = 0;
    for round in 0..rounds {
        let mut model = committed.clone();
        let mut w = db.begin_write().unwrap();
        // Live savepoints with the model each saw, oldest first.
        let mut saved: Vec<(nevar::Savepoint, Trees)> = Vec::new();
        let mut rolled_past: Vec<nevar::Savepoint> = Vec::new();
        for _ in 0..rng.below(8) {
            match rng.below(5) {
                0 => saved.push((w.savepoint().unwrap(), model.clone())),
                1 if !saved.is_empty() => {
                    let at = rng.below(saved.len() as u64) as usize;
                    w.rollback_to(&saved[at].0).unwrap();
                    model = saved[at].1.clone();
                    rolled_past.extend(saved.drain(at + 1..).map(|(sp, _)| sp));
                    rollbacks += 1;
                }
                _ => change(&mut w, &mut model, &mut rng),
            }
        }
        if let Some(stale) = rolled_past.first() {
            assert!(matches!(
                w.rollback_to(stale),
                Err(Error::InvalidSavepoint(_))
            ));
        }
        let mut seen = as_seen(&mut w);
        seen.retain(|_, m| !m.is_empty());
        let mut expected = model.clone();
        expected.retain(|_, m| !m.is_empty());
        assert_eq!(seen, expected, "round {round}: inside the transaction");
        if rng.below(5) == 0 {
            drop(w);
        } else {
            w.commit().unwrap();
            committed = model;
        }
        if round % 10 == 9 {
            drop(db);
            db = db_dir.open();
            assert_clean(&db, &format!("round {round}"));
        }
        let mut got = contents(&db);
        got.retain(|_, m| !m.is_empty());
        let mut want = committed.clone();
        want.retain(|_, m| !m.is_empty());
        assert_eq!(got, want, "round {round}");
    }
    assert!(rollbacks > rounds / 4, "only {rollbacks} rollbacks");
    // Deleting everything, half of it undone once by a rollback, leaves no page in use.
    let mut w = db.begin_write().unwrap();
    let sp = w.savepoint().unwrap();
    for name in NAMES {
        w.delete_tree(name).unwrap();
    }
    w.rollback_to(&sp).unwrap();
    for name in NAMES {
        let mut t = w.open_tree(name).unwrap();
        while t.pop_first().unwrap().is_some() {}
    }
    w.commit().unwrap();
    assert_clean(&db, "after deleting everything");
    let stats = db.stats().unwrap();
    assert_eq!(
        (stats.leaf_pages, stats.branch_pages, stats.overflow_pages),
        (0, 0, 0)
    );
}

#[test]
fn misuse_of_savepoints_is_an_error_that_changes_nothing() {
    let db_dir = TempDb::new();
    let db = db_dir.open();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"a", b"1").unwrap();
    let outer = w.savepoint().unwrap();
    w.open_tree("t").unwrap().insert(b"b", b"2").unwrap();
    let inner = w.savepoint().unwrap();
    w.open_tree("t").unwrap().insert(b"c", b"3").unwrap();
    // A savepoint stays valid after rolling back to it, any number of times.
    w.rollback_to(&inner).unwrap();
    w.open_tree("t").unwrap().insert(b"d", b"4").unwrap();
    w.rollback_to(&inner).unwrap();
    assert_eq!(w.open_tree("t").unwrap().len().unwrap(), 2);
    w.rollback_to(&outer).unwrap();
    assert!(matches!(
        w.rollback_to(&inner),
        Err(Error::InvalidSavepoint(_))
    ));
    assert_eq!(
        w.open_tree("t").unwrap().get(b"a").unwrap(),
        Some(&b"1"[..])
    );
    assert_eq!(w.open_tree("t").unwrap().get(b"b").unwrap(), None);
    w.commit().unwrap();
    // A savepoint of an earlier transaction is refused by the next one.
    let mut w = db.begin_write().unwrap();
    assert!(matches!(
        w.rollback_to(&outer),
        Err(Error::InvalidSavepoint(_))
    ));
    w.open_tree("t").unwrap().insert(b"e", b"5").unwrap();
    w.commit().unwrap();
    let t = &contents(&db)["t"];
    assert_eq!(
        t.keys().cloned().collect::<Vec<_>>(),
        [b"a".to_vec(), b"e".to_vec()]
    );
    assert_clean(&db, "after misuse");
}
