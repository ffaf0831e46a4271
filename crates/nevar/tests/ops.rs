//! take, pop_first, pop_last, update, append, retain, remove_range, prefix, rename_tree and
//! try_begin_write against a `BTreeMap` model, across commits, aborts and reopens, with
//! `check()` at every reopen.

use std::collections::BTreeMap;

use nevar::Error;
use nevar_testkit::{Rng, TempDb, assert_clean, contents, long, seed};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

/// Keys with shared prefixes and 0xFF bytes, so prefix scans meet their edge cases.
fn key(rng: &mut Rng) -> Vec<u8> {
    const PARTS: [&[u8]; 5] = [b"a", b"ab", b"\xff", b"\xff\xff", b"b\x00"];
    let mut k = Vec::new();
    for _ in 0..rng.below(4) {
        k.extend_from_slice(PARTS[rng.below(PARTS.len() as u64) as usize]);
    }
    k.push(rng.below(4) as u8 * 0x55);
    k
}

fn value(rng: &mut Rng) -> Vec<u8> {
    let len = if rng.below(20) == 0 {
        5000
    } else {
        rng.below(40) as usize
    };
    vec![rng.below(256) as u8; len]
}

/// Keys of `model` that start with `prefix`, in order.
fn with_prefix<'m>(model: &'m Model, prefix: &[u8]) -> Vec<&'m [u8]> {
    model
        .keys()
        .filter(|k| k.starts_with(prefix))
        .map(Vec::as_slice)
        .collect()
}

#[test]
fn read_modify_write_operations_match_a_model() {
    let db_dir = TempDb::new();
    let mut db = db_dir.open();
    let mut rng = Rng(seed(0x0905) | 1);
    let mut committed = Model::new();
    let rounds = if long() { 3000 } else { 300 };
    for round in 0..rounds {
        let mut model = committed.clone();
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for _ in 0..rng.below(40) {
                match rng.below(9) {
                    0 => {
                        let k = key(&mut rng);
                        assert_eq!(t.take(&k).unwrap(), model.remove(&k), "take");
                    }
                    1 => assert_eq!(t.pop_first().unwrap(), model.pop_first(), "pop_first"),
                    2 => assert_eq!(t.pop_last().unwrap(), model.pop_last(), "pop_last"),
                    3 => {
                        // A counter: append a byte, or remove it at length 3.
                        let k = key(&mut rng);
                        let next = |old: Option<&[u8]>| match old {
                            Some(v) if v.len() >= 3 => None,
                            Some(v) => Some([v, b"+"].concat()),
                            None => Some(b"+".to_vec()),
                        };
                        let expected = next(model.get(&k).map(Vec::as_slice));
                        let holds = t.update(&k, next).unwrap();
                        assert_eq!(holds, expected.is_some());
                        match expected {
                            Some(v) => model.insert(k, v),
                            None => model.remove(&k),
                        };
                    }
                    4 => {
                        let (k, v) = (key(&mut rng), value(&mut rng));
                        let in_order = model.last_key_value().is_none_or(|(last, _)| *last < k);
                        match t.append(&k, &v) {
                            Ok(()) => {
                                assert!(in_order, "append took a key out of order");
                                model.insert(k, v);
                            }
                            Err(Error::KeyOutOfOrder) => assert!(!in_order, "append refused"),
                            Err(e) => panic!("append: {e}"),
                        }
                    }
                    5 => {
                        let prefix = key(&mut rng)[..rng.below(3) as usize % 2].to_vec();
                        let got: Vec<Vec<u8>> = t
                            .prefix(&prefix)
                            .unwrap()
                            .map(|e| e.unwrap().0.to_vec())
                            .collect();
                        let mut back: Vec<Vec<u8>> = t
                            .prefix(&prefix)
                            .unwrap()
                            .rev()
                            .map(|e| e.unwrap().0.to_vec())
                            .collect();
                        back.reverse();
                        assert_eq!(got, with_prefix(&model, &prefix), "prefix {prefix:?}");
                        assert_eq!(back, got, "prefix {prefix:?} backwards");
                    }
                    6 if rng.below(8) == 1 => {
                        let (a, b) = (key(&mut rng), key(&mut rng));
                        let (a, b) = if a <= b { (a, b) } else { (b, a) };
                        let open_ended = rng.below(4) == 0;
                        let doomed: Vec<Vec<u8>> = model
                            .keys()
                            .filter(|k| **k >= a && (open_ended || **k < b))
                            .cloned()
                            .collect();
                        for k in &doomed {
                            model.remove(k);
                        }
                        let removed = if open_ended {
                            t.remove_range(&a[..]..).unwrap()
                        } else {
                            t.remove_range(&a[..]..&b[..]).unwrap()
                        };
                        assert_eq!(removed, doomed.len() as u64, "remove_range {a:?}..{b:?}");
                    }
                    6 if rng.below(8) == 0 => {
                        // Drop the odd-length values, everywhere or from a key on.
                        let odd = |v: &[u8]| v.len() % 2 == 1;
                        let from = if rng.below(2) == 0 {
                            Vec::new()
                        } else {
                            key(&mut rng)
                        };
                        let doomed: Vec<Vec<u8>> = model
                            .range(from.clone()..)
                            .filter(|(_, v)| odd(v))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for k in &doomed {
                            model.remove(k);
                        }
                        let removed = if from.is_empty() {
                            t.retain(|_, v| !odd(v)).unwrap()
                        } else {
                            t.retain_in(&from[..].., |_, v| !odd(v)).unwrap()
                        };
                        assert_eq!(removed, doomed.len() as u64, "retain from {from:?}");
                    }
                    6 => {
                        let k = key(&mut rng);
                        assert_eq!(t.remove(&k).unwrap(), model.remove(&k).is_some());
                    }
                    _ => {
                        let (k, v) = (key(&mut rng), value(&mut rng));
                        assert_eq!(t.insert(&k, &v).unwrap(), model.insert(k, v).is_some());
                    }
                }
            }
            assert_eq!(t.len().unwrap(), model.len() as u64);
        }
        if rng.below(6) == 0 {
            drop(w); // abort: the model falls back to the last commit
        } else {
            w.commit().unwrap();
            committed = model;
        }
        if round % 10 == 9 {
            drop(db);
            db = db_dir.open();
            assert_clean(&db, &format!("round {round}"));
        }
        let got = contents(&db).remove("t").unwrap_or_default();
        assert_eq!(got, committed, "round {round}");
    }
    // Read-side prefix scans, after a reopen.
    drop(db);
    let db = db_dir.open();
    let r = db.begin_read().unwrap();
    let t = r.open_tree("t").unwrap();
    for prefix in [&b""[..], b"a", b"ab", b"\xff", b"\xff\xff", b"b\x00", b"zz"] {
        let got: Vec<&[u8]> = t.prefix(prefix).unwrap().map(|e| e.unwrap().0).collect();
        assert_eq!(
            got,
            with_prefix(&committed, prefix),
            "read prefix {prefix:?}"
        );
    }
    // Everything popped: the tree's pages return to the free list.
    drop(r);
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        while t.pop_first().unwrap().is_some() {}
        assert!(t.is_empty().unwrap());
    }
    w.commit().unwrap();
    assert_clean(&db, "after popping everything");
    assert_eq!(db.stats().unwrap().leaf_pages, 0);
}

#[test]
fn append_refuses_keys_out_of_order_and_changes_nothing() {
    let db_dir = TempDb::new();
    let db = db_dir.open();
    let mut w = db.begin_write().unwrap();
    {
        let mut q = w.open_tree("queue").unwrap();
        for i in 0u64..1000 {
            q.append(&i.to_be_bytes(), b"job").unwrap();
        }
        for bad in [999u64, 5, 0] {
            assert!(matches!(
                q.append(&bad.to_be_bytes(), b"x"),
                Err(Error::KeyOutOfOrder)
            ));
        }
        assert_eq!(q.len().unwrap(), 1000);
        assert_eq!(q.get(&5u64.to_be_bytes()).unwrap(), Some(&b"job"[..]));
        // The transaction stays usable after the refusal.
        q.append(&1000u64.to_be_bytes(), b"job").unwrap();
        assert_eq!(q.pop_first().unwrap().unwrap().0, 0u64.to_be_bytes());
    }
    w.commit().unwrap();
    assert_clean(&db, "queue");
    let r = db.begin_read().unwrap();
    assert_eq!(r.open_tree("queue").unwrap().len().unwrap(), 1000);
}

#[test]
fn rename_tree_moves_the_tree_and_refuses_an_existing_name() {
    let db_dir = TempDb::new();
    let mut db = db_dir.open();
    let mut w = db.begin_write().unwrap();
    for (name, n) in [("old", 500u32), ("other", 3)] {
        let mut t = w.open_tree(name).unwrap();
        for i in 0..n {
            t.insert(&i.to_be_bytes(), &[7; 100]).unwrap();
        }
    }
    assert!(matches!(
        w.rename_tree("old", "other"),
        Err(Error::TreeExists(name)) if name == "other"
    ));
    assert!(!w.rename_tree("missing", "new").unwrap());
    assert!(w.rename_tree("old", "new").unwrap());
    // The renamed tree, opened again in the same transaction, has its entries.
    assert_eq!(w.open_tree("new").unwrap().len().unwrap(), 500);
    w.commit().unwrap();
    drop(db);
    db = db_dir.open();
    assert_clean(&db, "after rename");
    let trees = contents(&db);
    assert_eq!(
        trees.keys().map(String::as_str).collect::<Vec<_>>(),
        ["new", "other"]
    );
    assert_eq!(trees["new"].len(), 500);
    // A rename rolled back by an abort leaves the old name.
    let mut w = db.begin_write().unwrap();
    assert!(w.rename_tree("new", "newer").unwrap());
    drop(w);
    assert!(contents(&db).contains_key("new"));
    assert!(matches!(
        db.begin_write().unwrap().rename_tree("new", ""),
        Err(Error::InvalidTreeName(_))
    ));
}

#[test]
fn try_begin_write_never_waits() {
    let db_dir = TempDb::new();
    let db = db_dir.open();
    let w = db.try_begin_write().unwrap().expect("no writer is live");
    // On this thread and on another, a second writer is refused at once.
    assert!(db.try_begin_write().unwrap().is_none());
    std::thread::scope(|s| {
        s.spawn(|| assert!(db.try_begin_write().unwrap().is_none()));
    });
    drop(w);
    let mut w = db.try_begin_write().unwrap().expect("the writer ended");
    w.open_tree("t").unwrap().insert(b"k", b"v").unwrap();
    w.commit().unwrap();
    assert_eq!(contents(&db)["t"][&b"k"[..]], b"v");
}
