//! `nevar put` and `nevar del`.

use super::*;

#[test]
fn put_and_del_commit_and_report_missing_keys() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    assert!(
        nevar(&["put", s(&path), "users", "dave", "ops"])
            .status
            .success()
    );
    assert!(
        nevar(&["put", s(&path), "bin", "00ff", "", "--hex"])
            .status
            .success()
    );
    assert_eq!(
        text(&nevar(&["get", s(&path), "users", "dave"]).stdout),
        "ops\n"
    );
    assert!(nevar(&["del", s(&path), "users", "alice"]).status.success());
    let out = nevar(&["del", s(&path), "users", "alice"]);
    assert_eq!(out.status.code(), Some(1));
    let trees = contents(&path);
    assert_eq!(trees["bin"][&vec![0x00, 0xff]], Vec::<u8>::new());
    assert!(!trees["users"].contains_key(b"alice".as_slice()));
    let out = nevar(&["put", s(&path), "users", "zz", "1", "--hex"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("key is not hex"));
}
