//! What every command does with a bad target: one line, nothing changed.

use super::*;

#[test]
fn bad_targets_give_one_line_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    let missing = dir.path().join("missing.nevar");
    let junk = dir.path().join("junk.bin");
    std::fs::write(
        &junk,
        (0..20_000u32)
            .map(|i| (i * 31 % 256) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let empty = dir.path().join("empty.nevar");
    std::fs::write(&empty, b"").unwrap();
    let files_before: Vec<_> = [&path, &junk, &empty]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();

    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["stat", s(&missing)], "No such file"),
        (vec!["check", s(&missing)], "No such file"),
        (vec!["put", s(&missing), "t", "k", "v"], "No such file"),
        (vec!["stat", s(&junk)], "not a nevar database"),
        (vec!["dump", s(&junk)], "not a nevar database"),
        (vec!["check", s(&empty)], "not a nevar database"),
        (vec!["del", s(&empty), "t", "k"], "not a nevar database"),
        (vec!["get", s(&path), "nope", "k"], "no tree named \"nope\""),
        (vec!["del", s(&path), "nope", "k"], "no tree named \"nope\""),
        (
            vec!["dump", s(&path), "--tree", "nope"],
            "no tree named \"nope\"",
        ),
        (
            vec!["stat", s(&path), "--tree", "nope"],
            "no tree named \"nope\"",
        ),
    ];
    for (args, expect) in &cases {
        let out = nevar(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }

    // Held open by this process: the binary, another process, is refused.
    let db = open(&path, Options::new());
    for args in [
        vec!["stat", s(&path)],
        vec!["put", s(&path), "users", "x", "y"],
    ] {
        let out = nevar(&args);
        assert_eq!(out.status.code(), Some(1));
        assert!(
            text(&out.stderr).contains("already open"),
            "{}",
            text(&out.stderr)
        );
    }
    drop(db);

    assert!(!missing.exists());
    let files_after: Vec<_> = [&path, &junk, &empty]
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    assert_eq!(files_after[1..], files_before[1..]);
    assert_eq!(contents(&path)["users"].len(), 3);
}
