//! Limits at their exact boundaries: keys of 0, max and max + 1 bytes; values at the inline
//! threshold, at overflow page boundaries, at 1 GiB and past the maximum. Errors are exact
//! and typed, and a refused write leaves nothing behind.
//!
//! Figures for 4 KiB pages (docs/format.md): max key = 4096 / 4 = 1,024 bytes. A leaf cell is
//! 7 bytes + key + value and stays inline up to (4096 - 32) / 2 - 2 = 2,030 bytes. An
//! overflow run is one 32-byte header then the value, so k pages hold k * 4096 - 32 bytes.

use nevar::{Database, Error};

const MAX_KEY: usize = 1024;
// Half the usable 4 KiB page less one slot (6 bytes since format 3: offset and key head).
const MAX_INLINE_CELL: usize = 2026;
const CELL_FIXED: usize = 7;
const OVERFLOW_PAGE_BYTES: usize = 4096 - 32;
const MAX_VALUE: u64 = (1 << 31) - 1;

fn value(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

fn temp() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("limits.nevar");
    (dir, path)
}

fn overflow_pages(db: &Database) -> u64 {
    db.stats().unwrap().overflow_pages
}

#[test]
fn keys_of_zero_max_and_max_plus_one_bytes() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        t.insert(b"", b"empty").unwrap();
        t.insert(&[0xff; MAX_KEY], b"max").unwrap();
        let err = t.insert(&[0xfe; MAX_KEY + 1], b"over").unwrap_err();
        assert!(
            matches!(err, Error::KeyTooLarge { len, max } if len == MAX_KEY + 1 && max == MAX_KEY),
            "{err:?}"
        );
        // A refused key is refused for removal too, and the transaction goes on.
        assert!(matches!(
            t.remove(&[0xfe; MAX_KEY + 1]),
            Ok(false) | Err(Error::KeyTooLarge { .. })
        ));
        assert_eq!(t.len().unwrap(), 2);
    }
    w.commit().unwrap();
    drop(db);
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    let t = r.open_tree("t").unwrap();
    assert_eq!(t.get(b"").unwrap(), Some(&b"empty"[..]));
    assert_eq!(t.get(&[0xff; MAX_KEY]).unwrap(), Some(&b"max"[..]));
    assert_eq!(t.first().unwrap().unwrap().0, b"");
    assert_eq!(t.len().unwrap(), 2);
    assert!(db.check().unwrap().is_clean());
}

#[test]
fn values_at_inline_and_overflow_boundaries() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let key = b"k";
    let inline_max = MAX_INLINE_CELL - CELL_FIXED - key.len();
    // (value length, overflow pages it must take)
    let cases = [
        (0, 0),
        (1, 0),
        (inline_max, 0),
        (inline_max + 1, 1),
        (OVERFLOW_PAGE_BYTES, 1),
        (OVERFLOW_PAGE_BYTES + 1, 2),
        (4096, 2),
        // One header per run, not per page: 3 pages hold 3 * 4096 - 32 bytes.
        (3 * 4096 - 32, 3),
        (3 * 4096 - 31, 4),
    ];
    for (i, &(len, pages)) in cases.iter().enumerate() {
        let before = overflow_pages(&db);
        let v = value(len, i as u8);
        let mut w = db.begin_write().unwrap();
        w.open_tree("t").unwrap().insert(key, &v).unwrap();
        w.commit().unwrap();
        let r = db.begin_read().unwrap();
        assert_eq!(r.open_tree("t").unwrap().get(key).unwrap(), Some(&v[..]));
        // The previous value's run (if any) was replaced by this one's.
        let previous = if i == 0 { 0 } else { cases[i - 1].1 };
        assert_eq!(
            overflow_pages(&db),
            before - previous + pages,
            "value of {len} bytes"
        );
        assert!(db.check().unwrap().is_clean(), "value of {len} bytes");
    }
    // The inline threshold depends on the key: a longer key pushes the same value out.
    let mut w = db.begin_write().unwrap();
    w.open_tree("u")
        .unwrap()
        .insert(b"kk", &value(inline_max, 9))
        .unwrap();
    w.commit().unwrap();
    assert_eq!(db.stats().unwrap().trees[1].overflow_pages, 1);
}

#[test]
fn a_value_past_the_maximum_is_refused_exactly_and_leaves_nothing() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"a", b"kept").unwrap();
    w.commit().unwrap();
    let before = db.stats().unwrap();

    let huge = vec![0u8; MAX_VALUE as usize + 1]; // calloc'ed: untouched pages cost nothing
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        let err = t.insert(b"b", &huge).unwrap_err();
        assert!(
            matches!(err, Error::ValueTooLarge { len, max } if len == MAX_VALUE + 1 && max == MAX_VALUE),
            "{err:?}"
        );
        // Overwriting an existing key with it is refused the same way and keeps the old value.
        assert!(matches!(
            t.insert(b"a", &huge),
            Err(Error::ValueTooLarge { .. })
        ));
        assert_eq!(t.get(b"a").unwrap(), Some(&b"kept"[..]));
    }
    w.commit().unwrap();
    drop(huge);
    let after = db.stats().unwrap();
    assert_eq!(after.trees, before.trees);
    assert_eq!(after.overflow_pages, 0);
    assert!(db.check().unwrap().is_clean());
}

/// 1 GiB, one value, one slice: written, committed, read back, checked, reopened.
#[test]
fn a_gibibyte_value_round_trips_as_one_slice() {
    let (_dir, path) = temp();
    let db = Database::open(&path).unwrap();
    let v: Vec<u8> = (0..(1u32 << 30))
        .map(|i| (i >> 12) as u8 ^ i as u8)
        .collect();
    let mut w = db.begin_write().unwrap();
    w.open_tree("t").unwrap().insert(b"big", &v).unwrap();
    w.open_tree("t").unwrap().insert(b"small", b"s").unwrap();
    w.commit().unwrap();
    drop(db);
    let db = Database::open(&path).unwrap();
    let r = db.begin_read().unwrap();
    let t = r.open_tree("t").unwrap();
    assert!(t.get(b"big").unwrap().unwrap() == &v[..]);
    assert_eq!(
        db.stats().unwrap().overflow_pages,
        ((1u64 << 30) + 32).div_ceil(4096)
    );
    drop(r);
    // Removing it gives every page back.
    let mut w = db.begin_write().unwrap();
    assert!(w.open_tree("t").unwrap().remove(b"big").unwrap());
    w.commit().unwrap();
    assert_eq!(db.stats().unwrap().overflow_pages, 0);
    assert!(db.check().unwrap().is_clean());
}
