//! `nevar copy` and `nevar compact`.

use super::*;

#[test]
fn compacting_copy_after_heavy_deletes_is_smallest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.nevar");
    let db = open(&path, Options::new());
    let key = |i: u32| (i.wrapping_mul(2_654_435_761)).to_be_bytes();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in 0..60_000u32 {
            t.insert(&key(i), &[7u8; 100]).unwrap();
        }
    }
    w.commit().unwrap();
    let mut w = db.begin_write().unwrap();
    {
        let mut t = w.open_tree("t").unwrap();
        for i in (0..60_000u32).filter(|i| i % 10 != 0) {
            assert!(t.remove(&key(i)).unwrap());
        }
    }
    w.commit().unwrap();
    drop(db);
    let expected = contents(&path);

    let plain = dir.path().join("plain.nevar");
    let packed = dir.path().join("packed.nevar");
    assert!(nevar(&["copy", s(&path), s(&plain)]).status.success());
    let out = nevar(&["copy", s(&path), s(&packed), "--compact"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    assert!(
        size(&packed) < size(&plain) && size(&packed) < size(&path),
        "packed {} plain {} source {}",
        size(&packed),
        size(&plain),
        size(&path)
    );
    for copy in [&plain, &packed] {
        assert_eq!(contents(copy), expected);
        assert!(nevar(&["check", s(copy)]).status.success());
    }
    // Copying onto an existing file is refused.
    let out = nevar(&["copy", s(&path), s(&plain)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("exists"));

    // In place: the same contents, a file no larger than the compacted copy.
    let out = nevar(&["compact", s(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(size(&path), size(&packed));
    assert_eq!(contents(&path), expected);
    assert!(!dir.path().join("big.nevar.compacting").exists());
}
