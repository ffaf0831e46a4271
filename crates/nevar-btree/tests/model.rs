//! Model test: random operations against `BTreeMap`, with commits and aborts, verified after
//! every batch.

use std::collections::BTreeMap;
use std::ops::Bound;

use nevar_btree::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Insert(Vec<u8>, usize),
    /// Insert a key after every key so far (a value of this length): the tail's fast path.
    Append(usize),
    Remove(Vec<u8>),
    /// Remove the largest key (so the last leaf shrinks and merges under the tail).
    RemoveLast,
    Range(Bound<Vec<u8>>, Bound<Vec<u8>>, bool),
    Commit,
    Abort,
}

/// Short keys from a tiny alphabet (the empty key included), random ones, long ones up to the
/// 1,024-byte limit, and keys that share a long prefix: a composite `org-0421/user-`, or 300
/// bytes. Those continue with the same 4 bytes or with bytes from a 3-letter alphabet, so
/// pages have long common prefixes and many equal heads, and keys differ only after the head.
fn key() -> impl Strategy<Value = Vec<u8>> {
    let shared = prop_oneof![
        Just(b"org-0421/user-".to_vec()),
        Just([b"org-0421/user-".as_slice(), &[0x5A; 286]].concat()),
    ];
    let after = prop_oneof![
        proptest::collection::vec(0u8..3, 0..12),
        proptest::collection::vec(0u8..3, 0..8).prop_map(|t| [b"0042".as_slice(), &t].concat()),
    ];
    prop_oneof![
        4 => proptest::collection::vec(0u8..8, 0..4),
        2 => proptest::collection::vec(any::<u8>(), 1..40),
        1 => proptest::collection::vec(any::<u8>(), 200..1025),
        1 => proptest::collection::vec(any::<u8>(), 1024..=1024),
        4 => (shared, after).prop_map(|(p, a)| [p, a].concat()),
    ]
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded)
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (key(), prop_oneof![8 => 0usize..100, 2 => 100usize..3000, 1 => 3000usize..20000]).prop_map(|(k, n)| Op::Insert(k, n)),
        4 => prop_oneof![8 => 0usize..100, 1 => 3000usize..20000].prop_map(Op::Append),
        6 => key().prop_map(Op::Remove),
        2 => Just(Op::RemoveLast),
        2 => (bound(), bound(), any::<bool>()).prop_map(|(a, b, rev)| Op::Range(a, b, rev)),
        1 => Just(Op::Commit),
        1 => Just(Op::Abort),
    ]
}

fn value_for(key: &[u8], len: usize, salt: u64) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u64)
                .wrapping_mul(31)
                .wrapping_add(salt)
                .wrapping_add(key.len() as u64) as u8
        })
        .collect()
}

fn as_ref(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
    match b {
        Bound::Included(k) => Bound::Included(k.as_slice()),
        Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
        Bound::Unbounded => Bound::Unbounded,
    }
}

fn check_range(
    store: &MemStore,
    desc: &TreeDesc,
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    lo: &Bound<Vec<u8>>,
    hi: &Bound<Vec<u8>>,
    rev: bool,
) {
    let invalid = match (lo, hi) {
        (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) => {
            a > b
                || (a == b
                    && (matches!(lo, Bound::Excluded(_)) || matches!(hi, Bound::Excluded(_))))
        }
        _ => false,
    };
    let range = Range::new(store, desc, as_ref(lo), as_ref(hi)).unwrap();
    let got: Vec<(Vec<u8>, Vec<u8>)> = if rev {
        range
            .rev()
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect()
    } else {
        range
            .map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
            .collect()
    };
    let mut want: Vec<(Vec<u8>, Vec<u8>)> = if invalid {
        vec![]
    } else {
        model
            .range((lo.clone(), hi.clone()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    if rev {
        want.reverse();
    }
    assert_eq!(got, want);
}

fn run(ops: Vec<Op>, page_size: usize) {
    let mut store = MemStore::new(page_size);
    let mut desc = TreeDesc::default();
    let mut model = BTreeMap::new();
    // Inserts go through a tail, as the write transaction's do; it lives for one transaction.
    let mut tail = Tail::default();
    let mut saved = (store.clone(), desc, model.clone());
    for (n, op) in ops.into_iter().enumerate() {
        match op {
            Op::Insert(k, len) => {
                let v = value_for(&k, len, n as u64);
                let existed = tail.insert(&mut store, &mut desc, &k, &v).unwrap();
                assert_eq!(existed, model.insert(k, v).is_some());
            }
            Op::Append(len) => {
                // Past every generated key but for a 2^-32 chance; ascending with `n`.
                let k = [&[0xFF; 4][..], &(n as u64).to_be_bytes()].concat();
                let v = value_for(&k, len, n as u64);
                let existed = tail.insert(&mut store, &mut desc, &k, &v).unwrap();
                assert_eq!(existed, model.insert(k, v).is_some());
            }
            Op::Remove(k) => {
                tail.forget();
                assert_eq!(
                    remove(&mut store, &mut desc, &k).unwrap(),
                    model.remove(&k).is_some()
                )
            }
            Op::RemoveLast => {
                tail.forget();
                if let Some(k) = model.keys().next_back().cloned() {
                    assert!(remove(&mut store, &mut desc, &k).unwrap());
                    model.remove(&k);
                }
            }
            Op::Range(lo, hi, rev) => check_range(&store, &desc, &model, &lo, &hi, rev),
            Op::Commit => {
                verify(&store, &desc).unwrap();
                store.commit();
                tail = Tail::default();
                saved = (store.clone(), desc, model.clone());
            }
            Op::Abort => {
                (store, desc, model) = saved.clone();
                tail = Tail::default();
            }
        }
        assert_eq!(desc.entries, model.len() as u64);
    }
    verify(&store, &desc).unwrap();
    for (k, v) in &model {
        assert_eq!(get(&store, &desc, k).unwrap(), Some(v.as_slice()));
    }
    for reverse in [false, true] {
        check_range(
            &store,
            &desc,
            &model,
            &Bound::Unbounded,
            &Bound::Unbounded,
            reverse,
        );
    }
    assert_eq!(
        first(&store, &desc).unwrap().map(|(k, _)| k.to_vec()),
        model.keys().next().cloned()
    );
    assert_eq!(
        last(&store, &desc).unwrap().map(|(k, _)| k.to_vec()),
        model.keys().next_back().cloned()
    );
    // Deleting everything returns every page.
    let keys: Vec<_> = model.keys().cloned().collect();
    for k in keys {
        assert!(remove(&mut store, &mut desc, &k).unwrap());
    }
    verify(&store, &desc).unwrap();
    assert_eq!(desc, TreeDesc::default());
    assert_eq!(store.pages_in_use(), 0, "allocated minus freed is zero");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn matches_btreemap(ops in proptest::collection::vec(op(), 1..600)) {
        run(ops, 4096);
    }

    #[test]
    fn matches_btreemap_on_large_pages(ops in proptest::collection::vec(op(), 1..300)) {
        run(ops, 16384);
    }
}

/// Many small keys in random order, then removal of most of them: exercises splits, merges
/// and redistribution across several levels.
#[test]
fn many_keys_split_and_merge_through_levels() {
    let mut store = MemStore::new(4096);
    let mut desc = TreeDesc::default();
    let mut model = BTreeMap::new();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..20_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let k = x.to_be_bytes()[..(x % 8 + 1) as usize].to_vec();
        let v = vec![i as u8; (x % 60) as usize];
        insert(&mut store, &mut desc, &k, &v).unwrap();
        model.insert(k, v);
        if i % 5000 == 0 {
            store.commit();
        }
    }
    verify(&store, &desc).unwrap();
    assert!(desc.depth >= 3, "depth {}", desc.depth);
    let keys: Vec<_> = model.keys().cloned().collect();
    for (i, k) in keys.iter().enumerate() {
        if i % 7 != 0 {
            remove(&mut store, &mut desc, k).unwrap();
            model.remove(k);
        }
        if i % 3000 == 0 {
            verify(&store, &desc).unwrap();
            store.commit();
        }
    }
    verify(&store, &desc).unwrap();
    let all: Vec<_> = Range::new(&store, &desc, Bound::Unbounded, Bound::Unbounded)
        .unwrap()
        .map(|r| r.unwrap().0.to_vec())
        .collect();
    assert_eq!(all, model.keys().cloned().collect::<Vec<_>>());
}
