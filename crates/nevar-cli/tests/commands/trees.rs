use super::*;

#[test]
fn trees_lists_counts_and_the_types_of_typed_trees() {
    const SCORES: nevar::TreeDef<(u32, &str), i64> = nevar::TreeDef::new("scores");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.nevar");
    {
        let db = open(&path, Options::new());
        let mut w = db.begin_write().unwrap();
        w.open_tree("raw").unwrap().insert(b"k", b"v").unwrap();
        let mut scores = w.open_tree(SCORES).unwrap();
        scores.insert((1, "ann"), 10).unwrap();
        scores.insert((2, "bob"), -3).unwrap();
        w.commit().unwrap();
    }
    let out = nevar(&["trees", s(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "raw\t1\nscores\t2\tkeys (u32,str) and values i64\n"
    );
}
