//! `nevar dump` and `nevar load`.

use super::*;

#[test]
fn dump_then_load_gives_identical_trees_with_full_pages() {
    let dir = tempfile::tempdir().unwrap();
    let (path, trees) = prepare(dir.path());
    let dump = nevar(&["dump", s(&path)]);
    assert!(dump.status.success(), "{}", text(&dump.stderr));
    assert!(text(&dump.stdout).starts_with("nevar-dump 1\ntree=events\nentries=2000\n"));

    let copy = dir.path().join("loaded.nevar");
    let load = nevar_with_input(&["load", s(&copy)], Some(&dump.stdout));
    assert!(load.status.success(), "{}", text(&load.stderr));
    assert!(text(&load.stderr).contains("loaded 2000 entries into \"events\" (sorted input)"));
    assert_eq!(contents(&copy), trees);
    let db = open(&copy, Options::new().read_only(true));
    assert!(db.check().unwrap().is_clean());
    // Sorted input takes the append path: leaves come out nearly full.
    let fill = db.tree_fill("events").unwrap().unwrap();
    assert!(fill > 0.9, "fill after a sorted load: {fill}");
    drop(db);

    // One tree under a new name.
    let users = nevar(&["dump", s(&path), "--tree", "users"]);
    let renamed = nevar_with_input(&["load", s(&copy), "--tree", "people"], Some(&users.stdout));
    assert!(renamed.status.success(), "{}", text(&renamed.stderr));
    let loaded = contents(&copy);
    assert_eq!(loaded["people"], trees["users"]);
    assert_eq!(loaded.len(), 3);
}

#[test]
fn a_bad_load_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, trees) = prepare(dir.path());
    let bad_inputs: [&[u8]; 5] = [
        b"hello\n",
        b"nevar-dump 1\ntree=users\nHEADER=END\n 6b 76\n 6b zz\nDATA=END\n",
        b"nevar-dump 1\ntree=users\nentries=3\nHEADER=END\n 6b 76\nDATA=END\n",
        b"nevar-dump 1\ntree=new\nHEADER=END\n 6b 76\n",
        // A key longer than 1,024 bytes: the engine's KeyTooLarge, with its line.
        &[
            &b"nevar-dump 1\ntree=new\nHEADER=END\n "[..],
            &[b'6'; 2100],
            b" 00\nDATA=END\n",
        ]
        .concat(),
    ];
    for input in bad_inputs {
        let out = nevar_with_input(&["load", s(&path)], Some(input));
        assert_eq!(out.status.code(), Some(1), "{}", text(input));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("nevar: "), "{err}");
        assert_eq!(contents(&path), trees);

        let fresh = dir.path().join("fresh.nevar");
        let out = nevar_with_input(&["load", s(&fresh)], Some(input));
        assert_eq!(out.status.code(), Some(1));
        assert!(!fresh.exists(), "a failed load left a new file behind");
    }
    let out = nevar_with_input(&["load", s(&path)], Some(b""));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("dump line 1: not a nevar dump"));
    let db = open(&path, Options::new());
    assert!(db.check().unwrap().is_clean());
}
