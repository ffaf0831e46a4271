//! A tree with random bytes flipped: every operation returns, none panics.

use std::ops::Bound;

use nevar_btree::*;

fn seed() -> u64 {
    std::env::var("NEVAR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5EED)
}

fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

#[test]
fn flipped_bytes_never_panic() {
    let seed = seed();
    let rounds = if std::env::var("NEVAR_LONG").is_ok() {
        5000
    } else {
        300
    };
    let mut base = MemStore::new(4096);
    let mut desc = TreeDesc::default();
    for i in 0..3000u32 {
        let v = vec![i as u8; if i % 97 == 0 { 9000 } else { (i % 50) as usize }];
        insert(&mut base, &mut desc, &i.to_be_bytes(), &v).unwrap();
    }
    base.commit();
    let mut x = seed | 1;
    for round in 0..rounds {
        let mut store = base.clone();
        let mut d = desc;
        let len = store.bytes_mut().len();
        for _ in 0..(1 + next(&mut x) % 8) {
            let at = (next(&mut x) as usize % (len - 4096)) + 4096;
            store.bytes_mut()[at] ^= 1 << (next(&mut x) % 8);
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for i in (0..3000u32).step_by(37) {
                let _ = get(&store, &d, &i.to_be_bytes());
            }
            if let Ok(r) = Range::new(&store, &d, Bound::Unbounded, Bound::Unbounded) {
                r.take(10_000).for_each(drop);
            }
            if let Ok(r) = Range::new(&store, &d, Bound::Unbounded, Bound::Unbounded) {
                r.rev().take(10_000).for_each(drop);
            }
            let _ = verify(&store, &d);
            let _ = insert(&mut store, &mut d, b"new", b"value");
            let _ = remove(&mut store, &mut d, &5u32.to_be_bytes());
        }));
        assert!(result.is_ok(), "panic in round {round}, NEVAR_SEED={seed}");
    }
}

#[test]
fn damage_is_reported_with_its_page() {
    let mut store = MemStore::new(4096);
    let mut desc = TreeDesc::default();
    for i in 0..2000u32 {
        insert(&mut store, &mut desc, &i.to_be_bytes(), &[1; 30]).unwrap();
    }
    store.commit();
    // Point the root's second child record at a wrong writer txn.
    let root = desc.root as usize * 4096;
    let bytes = store.bytes_mut();
    let at = root + nevar_page::HEADER_LEN + nevar_page::SLOT_LEN;
    let slot1 = u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    bytes[root + slot1 + 8..root + slot1 + 16].fill(0);
    let err = verify(&store, &desc).unwrap_err();
    assert!(
        matches!(
            err,
            BtreeError::Corrupted {
                what: "page written by another transaction than its parent records",
                ..
            }
        ),
        "{err}"
    );
}
