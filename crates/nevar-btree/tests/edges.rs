//! Size limits and boundary cases.

use std::ops::Bound;

use nevar_btree::*;
use nevar_page::{HEADER_LEN, LEAF_CELL_FIXED, Limits};

const PS: usize = 4096;

fn fresh() -> (MemStore, TreeDesc) {
    (MemStore::new(PS), TreeDesc::default())
}

#[test]
fn empty_key_is_an_ordinary_smallest_key() {
    let (mut s, mut d) = fresh();
    insert(&mut s, &mut d, b"", b"empty").unwrap();
    insert(&mut s, &mut d, b"a", b"x").unwrap();
    assert_eq!(get(&s, &d, b"").unwrap(), Some(&b"empty"[..]));
    assert_eq!(first(&s, &d).unwrap().unwrap().0, b"");
    assert!(remove(&mut s, &mut d, b"").unwrap());
    assert_eq!(get(&s, &d, b"").unwrap(), None);
}

#[test]
fn max_key_accepted_and_one_more_refused_without_change() {
    let (mut s, mut d) = fresh();
    let max = Limits::new(PS).max_key;
    assert!(max >= 1024);
    insert(&mut s, &mut d, &vec![7; max], b"v").unwrap();
    let before = (d, s.pages_in_use());
    let err = insert(&mut s, &mut d, &vec![7; max + 1], b"v").unwrap_err();
    assert!(matches!(err, BtreeError::KeyTooLarge { len, max: m } if len == max + 1 && m == max));
    assert_eq!((d, s.pages_in_use()), before);
    verify(&s, &d).unwrap();
}

#[test]
fn value_at_inline_threshold_and_one_over() {
    let (mut s, mut d) = fresh();
    let inline_max = Limits::new(PS).max_inline_cell - LEAF_CELL_FIXED - 1;
    insert(&mut s, &mut d, b"k", &vec![1; inline_max]).unwrap();
    assert_eq!(d.overflow_pages, 0, "at the threshold the value is inline");
    insert(&mut s, &mut d, b"k", &vec![2; inline_max + 1]).unwrap();
    assert_eq!(d.overflow_pages, 1, "one over moves to an overflow page");
    assert_eq!(
        get(&s, &d, b"k").unwrap().unwrap(),
        &vec![2; inline_max + 1][..]
    );
    insert(&mut s, &mut d, b"k", b"small").unwrap();
    assert_eq!(d.overflow_pages, 0, "overwriting frees the run");
    verify(&s, &d).unwrap();
    remove(&mut s, &mut d, b"k").unwrap();
    assert_eq!(s.pages_in_use(), 0);
}

#[test]
fn overflow_values_that_exactly_fill_their_pages() {
    let (mut s, mut d) = fresh();
    for pages in [1usize, 2, 5] {
        let len = pages * PS - HEADER_LEN;
        let v: Vec<u8> = (0..len).map(|i| i as u8).collect();
        insert(&mut s, &mut d, &[pages as u8], &v).unwrap();
        assert_eq!(get(&s, &d, &[pages as u8]).unwrap().unwrap(), &v[..]);
        let v1: Vec<u8> = (0..len + 1).map(|i| i as u8).collect();
        insert(&mut s, &mut d, &[pages as u8, 1], &v1).unwrap();
    }
    assert_eq!(d.overflow_pages, (1 + 2 + 5) + (2 + 3 + 6));
    verify(&s, &d).unwrap();
}

#[test]
fn large_value_round_trip() {
    let (mut s, mut d) = fresh();
    let v: Vec<u8> = (0..(64 << 20)).map(|i: u32| (i >> 3) as u8).collect();
    insert(&mut s, &mut d, b"big", &v).unwrap();
    assert_eq!(get(&s, &d, b"big").unwrap().unwrap(), &v[..]);
    assert!(remove(&mut s, &mut d, b"big").unwrap());
    assert_eq!(s.pages_in_use(), 0);
}

#[test]
fn delete_to_empty_and_grow_again() {
    let (mut s, mut d) = fresh();
    for round in 0..3u8 {
        for i in 0..3000u32 {
            insert(&mut s, &mut d, &i.to_be_bytes(), &[round; 40]).unwrap();
        }
        verify(&s, &d).unwrap();
        s.commit();
        for i in (0..3000u32).rev() {
            assert!(remove(&mut s, &mut d, &i.to_be_bytes()).unwrap());
        }
        assert_eq!(d, TreeDesc::default());
        assert_eq!(s.pages_in_use(), 0);
        s.commit();
    }
}

#[test]
fn removing_an_absent_key_copies_nothing() {
    let (mut s, mut d) = fresh();
    for i in (0..6000u32).step_by(2) {
        insert(&mut s, &mut d, &i.to_be_bytes(), &[7; 40]).unwrap();
    }
    s.commit();
    assert!(d.depth >= 2, "the walk must cross branches");
    let (before, in_use) = (d, s.pages_in_use());
    for i in [1u32, 2999, 5999, 7000] {
        assert!(!remove(&mut s, &mut d, &i.to_be_bytes()).unwrap());
    }
    assert_eq!(d, before, "the root was not copied");
    assert_eq!(s.pages_in_use(), in_use);
    assert!(remove(&mut s, &mut d, &2998u32.to_be_bytes()).unwrap());
    assert_ne!(d.root, before.root, "a real removal copies the path");
    verify(&s, &d).unwrap();
}

#[test]
fn sorted_load_fills_leaves_almost_completely() {
    let (mut s, mut d) = fresh();
    for i in 0..100_000u64 {
        insert(&mut s, &mut d, &i.to_be_bytes(), &[0xAB; 100]).unwrap();
    }
    let report = verify(&s, &d).unwrap();
    let fill = report.leaf_bytes as f64 / (d.leaf_pages as f64 * (PS - HEADER_LEN) as f64);
    assert!(fill > 0.97, "leaf fill {fill:.3}");
}

#[test]
fn ranges_with_every_bound_kind() {
    let (mut s, mut d) = fresh();
    for i in (0..1000u32).step_by(2) {
        insert(&mut s, &mut d, &i.to_be_bytes(), b"").unwrap();
    }
    let keys = |lo: Bound<&[u8]>, hi: Bound<&[u8]>, rev: bool| -> Vec<u32> {
        let r = Range::new(&s, &d, lo, hi).unwrap();
        let it: Box<dyn Iterator<Item = _>> = if rev { Box::new(r.rev()) } else { Box::new(r) };
        it.map(|e| u32::from_be_bytes(e.unwrap().0.try_into().unwrap()))
            .collect()
    };
    let (k10, k11, k20) = (
        10u32.to_be_bytes(),
        11u32.to_be_bytes(),
        20u32.to_be_bytes(),
    );
    assert_eq!(
        keys(Bound::Included(&k10), Bound::Included(&k20), false),
        [10, 12, 14, 16, 18, 20]
    );
    assert_eq!(
        keys(Bound::Excluded(&k10), Bound::Excluded(&k20), false),
        [12, 14, 16, 18]
    );
    assert_eq!(
        keys(Bound::Included(&k11), Bound::Excluded(&k20), true),
        [18, 16, 14, 12]
    );
    assert_eq!(
        keys(Bound::Excluded(&k20), Bound::Included(&k10), false),
        Vec::<u32>::new()
    );
    assert_eq!(
        keys(Bound::Unbounded, Bound::Excluded(&k10), true),
        [8, 6, 4, 2, 0]
    );
    // Both ends interleaved meet exactly once.
    let mut r = Range::new(&s, &d, Bound::Unbounded, Bound::Unbounded).unwrap();
    let mut seen = 0;
    loop {
        let item = if seen % 2 == 0 {
            r.next()
        } else {
            r.next_back()
        };
        if item.is_none() {
            break;
        }
        seen += 1;
    }
    assert_eq!(seen, 500);
}

/// A sorted load checked after every insert, through three levels: every intermediate tree
/// is one a commit could publish, so each must pass `verify` (an append split of a branch used
/// to leave a right branch with a single child until the next leaf split).
#[test]
fn sorted_load_is_valid_after_every_insert() {
    let (mut s, mut d) = fresh();
    for i in 0..12_000u64 {
        insert(&mut s, &mut d, &i.to_be_bytes(), &[0xAB; 100]).unwrap();
        if let Err(e) = verify(&s, &d) {
            panic!("after inserting {i} (depth {}): {e}", d.depth);
        }
    }
    assert!(d.depth >= 3, "the load reached depth {}", d.depth);
}
