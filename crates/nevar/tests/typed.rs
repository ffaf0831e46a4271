//! Typed trees: the call shapes DESIGN.md pins, every built-in key type's order against
//! Rust's, the recorded type names, and bytes that do not decode.

use std::fmt::Debug;

use nevar::{Database, Error, Key, TreeDef, Value};
use nevar_testkit::{Rng, TempDb, assert_clean, seed};

/// DESIGN.md's "Public API, second part", as written there.
#[test]
fn the_pinned_call_shapes_compile_and_work() -> nevar::Result<()> {
    let tmp = TempDb::new();
    let db = tmp.open();
    const USERS: TreeDef<u64, &str> = TreeDef::new("users");
    const EVENTS: TreeDef<(u32, &str), &[u8]> = TreeDef::new("events");

    let mut w = db.begin_write()?;
    {
        let mut users = w.open_tree(USERS)?;
        users.insert(7, "ada")?;
        assert_eq!(users.get(7)?, Some("ada"));
        for item in users.range(1..100)? {
            let (id, name): (u64, &str) = item?;
            assert_eq!((id, name), (7, "ada"));
        }
        let gone: Option<String> = users.take(7)?;
        assert_eq!(gone.as_deref(), Some("ada"));
        users.insert(7, "ada")?;
    }
    {
        let mut ev = w.open_tree(EVENTS)?;
        ev.insert((3, "login"), b"..".as_slice())?;
    }
    w.commit()?;
    let r = db.begin_read()?;
    let name: Option<&str> = r.open_tree(USERS)?.get(7)?;
    assert_eq!(name, Some("ada"));
    let events = r.open_tree(EVENTS)?;
    assert_eq!(events.get((3, "login"))?, Some(&b".."[..]));
    assert!(matches!(
        r.open_tree(TreeDef::<u32, &str>::new("users")),
        Err(Error::TreeTypeMismatch { .. })
    ));
    assert_eq!(r.open_tree("users")?.len()?, 1);
    let _: &[u8] = r.open_tree(&String::from("events"))?.first()?.unwrap().0;
    drop(r);
    assert_clean(&db, "after the pinned calls");
    Ok(())
}

/// Inserts `values` into a tree of key type `K`, then checks that iteration returns them in
/// Rust's order, forward and backward, after the commit and after a reopen.
fn order_matches<K>(tmp: &TempDb, name: &'static str, values: &[K::Owned])
where
    K: Key,
    K::Owned: Ord + Clone + Debug,
{
    let def = TreeDef::<K, u32>::new(name);
    let mut expected: Vec<K::Owned> = values.to_vec();
    expected.sort();
    expected.dedup();
    {
        let db = tmp.open();
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree(def).unwrap();
        for (i, v) in values.iter().enumerate() {
            t.insert(K::as_write(v), i as u32).unwrap();
        }
        w.commit().unwrap();
        assert_iterates_in_order(&db, def, &expected);
    }
    let db = tmp.open();
    assert_iterates_in_order(&db, def, &expected);
    assert_clean(&db, name);
}

fn assert_iterates_in_order<K>(db: &Database, def: TreeDef<K, u32>, expected: &[K::Owned])
where
    K: Key,
    K::Owned: Ord + Clone + Debug,
{
    let r = db.begin_read().unwrap();
    let t = r.open_tree(def).unwrap();
    let owned = |item: nevar::Result<(K::Read<'_>, u32)>| K::to_owned(item.unwrap().0);
    let forward: Vec<K::Owned> = t.iter().unwrap().map(owned).collect();
    assert_eq!(forward, expected, "{}", def.name());
    let mut backward: Vec<K::Owned> = t.iter().unwrap().rev().map(owned).collect();
    backward.reverse();
    assert_eq!(backward, expected, "{} backward", def.name());
    for v in expected {
        assert!(t.get(K::as_write(v)).unwrap().is_some(), "{v:?}");
    }
}

fn text(rng: &mut Rng) -> String {
    const PARTS: [&str; 6] = ["a", "ab", "\0", "é", "\u{10FFFF}", "z"];
    (0..rng.below(4))
        .map(|_| PARTS[rng.below(PARTS.len() as u64) as usize])
        .collect()
}

fn bytes(rng: &mut Rng) -> Vec<u8> {
    (0..rng.below(5))
        .map(|_| [0u8, 1, 0xFE, 0xFF][rng.below(4) as usize])
        .collect()
}

fn many<T>(rng: &mut Rng, mut f: impl FnMut(&mut Rng) -> T) -> Vec<T> {
    (0..300).map(|_| f(rng)).collect()
}

/// A random integer of `bits` bits, as i128 bit patterns, with the extremes mixed in.
fn int(rng: &mut Rng) -> u128 {
    match rng.below(8) {
        0 => 0,
        1 => u128::MAX,
        2 => 1 << 127,
        3 => (1 << 127) - 1,
        _ => (u128::from(rng.next()) << 64) | u128::from(rng.next()),
    }
}

#[test]
fn every_built_in_key_type_iterates_in_its_own_order() {
    let tmp = TempDb::new();
    let mut rng = Rng(seed(17));
    macro_rules! ints {
        ($($ty:ty),*) => {$(
            let values: Vec<$ty> = many(&mut rng, |r| int(r) as $ty);
            order_matches::<$ty>(&tmp, stringify!($ty), &values);
        )*};
    }
    ints!(
        u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
    );
    order_matches::<i64>(&tmp, "i64 extremes", &[i64::MIN, -1, 0, 1, i64::MAX]);
    order_matches::<bool>(&tmp, "bool", &[true, false]);
    let chars: Vec<char> = many(&mut rng, |r| {
        char::from_u32(r.below(0x11_0000) as u32).unwrap_or('\u{D7FF}')
    });
    order_matches::<char>(&tmp, "char", &chars);
    order_matches::<()>(&tmp, "unit", &[()]);
    let strings = many(&mut rng, text);
    order_matches::<&str>(&tmp, "&str", &strings);
    order_matches::<String>(&tmp, "String", &strings);
    let blobs = many(&mut rng, bytes);
    order_matches::<&[u8]>(&tmp, "&[u8]", &blobs);
    order_matches::<Vec<u8>>(&tmp, "Vec<u8>", &blobs);
    let arrays: Vec<[u8; 3]> = many(&mut rng, |r| {
        [r.below(3) as u8 * 0x7F, r.below(256) as u8, 0]
    });
    order_matches::<[u8; 3]>(&tmp, "[u8; 3]", &arrays);
    let pairs = many(&mut rng, |r| (text(r), int(r) as i32));
    order_matches::<(&str, i32)>(&tmp, "(&str, i32)", &pairs);
    order_matches::<(String, i32)>(
        &tmp,
        "tuple with the shortest string first",
        &[
            ("ab".into(), 1),
            ("a".into(), 2),
            ("a\0".into(), i32::MIN),
            ("".into(), i32::MAX),
        ],
    );
    let triples = many(&mut rng, |r| (bytes(r), text(r), r.below(3) as u8));
    order_matches::<(Vec<u8>, &str, u8)>(&tmp, "(Vec<u8>, &str, u8)", &triples);
    let quads = many(&mut rng, |r| {
        (int(r) as i64, text(r), r.below(2) == 0, bytes(r))
    });
    order_matches::<(i64, String, bool, &[u8])>(&tmp, "(i64, String, bool, &[u8])", &quads);
    let nested = many(&mut rng, |r| ((text(r), r.below(3) as u16), text(r)));
    order_matches::<((&str, u16), &str)>(&tmp, "((&str, u16), &str)", &nested);
}

#[test]
fn values_of_every_kind_round_trip() -> nevar::Result<()> {
    fn round_trip<V: Value>(db: &Database, name: &'static str, value: V::Write<'_>) -> V::Owned {
        let def = TreeDef::<u8, V>::new(name);
        let mut w = db.begin_write().unwrap();
        w.open_tree(def).unwrap().insert(1, value).unwrap();
        w.commit().unwrap();
        let r = db.begin_read().unwrap();
        V::to_owned(r.open_tree(def).unwrap().get(1).unwrap().unwrap())
    }
    let tmp = TempDb::new();
    let db = tmp.open();
    assert_eq!(
        round_trip::<Option<&str>>(&db, "some", Some("x")),
        Some("x".to_owned())
    );
    assert_eq!(round_trip::<Option<u64>>(&db, "none", None), None);
    assert_eq!(
        round_trip::<(u8, &str)>(&db, "pair", (1, "")),
        (1, String::new())
    );
    assert_eq!(round_trip::<Vec<u8>>(&db, "empty", &[]), Vec::<u8>::new());
    assert_eq!(round_trip::<i128>(&db, "i128", i128::MIN), i128::MIN);
    assert_eq!(round_trip::<char>(&db, "char", '€'), '€');
    let big = "x".repeat(100_000);
    assert_eq!(round_trip::<String>(&db, "overflow", &big), big);
    // Empty keys: `()`, "" and empty byte strings all encode to the empty key.
    let mut w = db.begin_write()?;
    w.open_tree(TreeDef::<(), &str>::new("unit"))?
        .insert((), "one")?;
    w.open_tree(TreeDef::<&str, u8>::new("str"))?
        .insert("", 0)?;
    w.commit()?;
    let r = db.begin_read()?;
    assert_eq!(r.open_tree("unit")?.get(b"")?, Some(&b"one"[..]));
    assert_eq!(r.open_tree("str")?.get(b"")?, Some(&[0][..]));
    Ok(())
}

#[test]
fn the_catalog_records_types_and_refuses_others() -> nevar::Result<()> {
    const USERS: TreeDef<u64, &str> = TreeDef::new("users");
    let tmp = TempDb::new();
    let db = tmp.open();
    let mut w = db.begin_write()?;
    w.open_tree(USERS)?.insert(1, "a")?;
    match w.open_tree(TreeDef::<u32, &str>::new("users")) {
        Err(Error::TreeTypeMismatch {
            tree,
            stored,
            requested,
        }) => {
            assert_eq!(tree, "users");
            assert_eq!((stored.key.as_str(), stored.value.as_str()), ("u64", "str"));
            assert_eq!(requested.key, "u32");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    // Same encoding, same name: String opens a &str tree; the transaction is still usable.
    w.open_tree(TreeDef::<u64, String>::new("users"))?
        .insert(2, "b")?;
    // A raw tree becomes typed at its first typed open.
    w.open_tree("plain")?.insert(&5u16.to_be_bytes(), b"x")?;
    w.open_tree(TreeDef::<u16, &[u8]>::new("plain"))?;
    w.commit()?;
    drop(db);

    let db = tmp.open();
    let r = db.begin_read()?;
    let error = r
        .open_tree(TreeDef::<u64, u64>::new("users"))
        .map(|_| ())
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "tree \"users\" holds keys u64 and values str; it was opened with keys u64 and values u64"
    );
    assert!(matches!(
        r.open_tree(TreeDef::<u8, &[u8]>::new("plain")),
        Err(Error::TreeTypeMismatch { .. })
    ));
    assert_eq!(
        r.open_tree(TreeDef::<u16, &[u8]>::new("plain"))?.get(5)?,
        Some(&b"x"[..])
    );
    let stats = db.stats()?;
    let users = stats.trees.iter().find(|t| t.name == "users").unwrap();
    assert_eq!(users.types.as_ref().map(|t| t.value.as_str()), Some("str"));
    drop(r);
    // Renaming keeps the types.
    let mut w = db.begin_write()?;
    w.rename_tree("users", "people")?;
    assert!(matches!(
        w.open_tree(TreeDef::<u32, &str>::new("people")),
        Err(Error::TreeTypeMismatch { .. })
    ));
    w.commit()?;
    assert_clean(&db, "after type checks");
    Ok(())
}

#[test]
fn bytes_that_do_not_decode_are_errors_naming_the_tree() -> nevar::Result<()> {
    const COUNTS: TreeDef<u64, &str> = TreeDef::new("counts");
    let tmp = TempDb::new();
    let db = tmp.open();
    let mut w = db.begin_write()?;
    w.open_tree(COUNTS)?.insert(1, "one")?;
    {
        let mut raw = w.open_tree("counts")?;
        raw.insert(b"abc", b"three-byte key")?;
        raw.insert(&2u64.to_be_bytes(), b"\xff not utf-8")?;
    }
    let mut t = w.open_tree(COUNTS)?;
    let is_decode = |e: Error, ty: &str| matches!(e, Error::Decode { ref tree, ref type_name, .. } if tree == "counts" && type_name == ty);
    assert!(is_decode(t.get(2).unwrap_err(), "str"));
    assert!(
        t.iter()?
            .any(|item| item.is_err_and(|e| is_decode(e, "u64")))
    );
    assert!(is_decode(t.pop_last().unwrap_err(), "u64"));
    assert!(is_decode(t.take(2).unwrap_err(), "str"));
    assert!(is_decode(t.retain(|_, _| false).unwrap_err(), "str"));
    assert!(is_decode(t.update(2, |_| None).unwrap_err(), "str"));
    // None of the failed calls changed anything, and the transaction goes on.
    assert_eq!(t.len()?, 3);
    assert_eq!(t.pop_first()?, Some((1, "one".to_owned())));
    w.commit()?;
    assert_clean(&db, "after decode errors");
    Ok(())
}

#[test]
fn typed_operations_match_their_raw_meaning() -> nevar::Result<()> {
    const JOBS: TreeDef<u64, String> = TreeDef::new("jobs");
    const INDEX: TreeDef<(&str, u64), ()> = TreeDef::new("index");
    let tmp = TempDb::new();
    let db = tmp.open();
    let mut w = db.begin_write()?;
    let mut jobs = w.open_tree(JOBS)?;
    for id in 1..=10 {
        jobs.append(id, &format!("job {id}"))?;
    }
    assert!(matches!(jobs.append(3, "late"), Err(Error::KeyOutOfOrder)));
    assert_eq!(jobs.pop_first()?, Some((1, "job 1".to_owned())));
    assert_eq!(jobs.pop_last()?, Some((10, "job 10".to_owned())));
    assert_eq!(jobs.remove_range(2..5)?, 3);
    assert_eq!(jobs.retain(|id, _| id % 2 == 1)?, 2);
    assert_eq!(jobs.retain_in(..=7, |_, name| name != "job 5")?, 1);
    assert!(jobs.update(7, |old| old.map(|s| s + "!"))?);
    assert!(!jobs.update(9, |_| None)?);
    assert_eq!(jobs.take(8)?, None);
    let left: Vec<(u64, String)> = jobs.iter()?.collect::<nevar::Result<_>>()?;
    assert_eq!(left, [(7, "job 7!".to_owned())]);
    let mut index = w.open_tree(INDEX)?;
    for (name, id) in [("ann", 1), ("ann", 2), ("anna", 3), ("bob", 4)] {
        index.insert((name, id), ())?;
    }
    w.commit()?;
    let r = db.begin_read()?;
    let index = r.open_tree(INDEX)?;
    let ids = |from: &str, to: &str| -> Vec<u64> {
        index
            .range((from, 0)..(to, 0))
            .unwrap()
            .map(|item| item.unwrap().0.1)
            .collect()
    };
    assert_eq!(ids("ann", "anna"), [1, 2]);
    assert_eq!(ids("ann", "bob"), [1, 2, 3]);
    let names: Vec<String> = index
        .iter()?
        .rev()
        .map(|item| item.map(|((name, _), ())| name.into_owned()))
        .collect::<nevar::Result<_>>()?;
    assert_eq!(names, ["bob", "anna", "ann", "ann"]);
    let strings = r.open_tree(TreeDef::<&str, u8>::new("missing"));
    assert!(matches!(strings, Err(Error::TreeNotFound(_))));
    Ok(())
}

#[test]
fn serde_values_round_trip_and_name_their_type() -> nevar::Result<()> {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct User {
        name: String,
        roles: Vec<String>,
        age: Option<u8>,
    }
    #[derive(serde::Serialize, serde::Deserialize)]
    struct Other(u64);
    const USERS: TreeDef<u64, nevar::Serde<User>> = TreeDef::new("users");
    let tmp = TempDb::new();
    let db = tmp.open();
    let ada = User {
        name: "ada".into(),
        roles: vec!["admin".into()],
        age: Some(36),
    };
    let mut w = db.begin_write()?;
    w.open_tree(USERS)?.insert(1, &ada)?;
    w.open_tree("users")?
        .insert(&2u64.to_be_bytes(), b"\xff\xff\xff")?;
    w.commit()?;
    let r = db.begin_read()?;
    let users = r.open_tree(USERS)?;
    assert_eq!(users.get(1)?, Some(ada));
    assert!(matches!(users.get(2), Err(Error::Decode { .. })));
    let other = r.open_tree(TreeDef::<u64, nevar::Serde<Other>>::new("users"));
    assert!(matches!(other, Err(Error::TreeTypeMismatch { .. })));
    Ok(())
}
