//! Runs the built `nevar` binary against prepared files.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use nevar::{Database, Options};

type Trees = BTreeMap<String, BTreeMap<Vec<u8>, Vec<u8>>>;

fn nevar(args: &[&str]) -> Output {
    nevar_with_input(args, None)
}

fn nevar_with_input(args: &[&str], input: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nevar"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run nevar");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(bytes) = input {
        stdin.write_all(bytes).expect("feed stdin");
    }
    drop(stdin);
    child.wait_with_output().expect("wait for nevar")
}

/// Opens a database in this test process. Other tests spawn `nevar` concurrently, and a
/// child between fork and exec briefly holds a copy of every descriptor, so a lock this
/// process just released can look taken for a moment (`flock` belongs to the open file,
/// which the copy keeps alive). Retry `AlreadyOpen` for up to two seconds.
fn open(path: &Path, options: Options) -> Database {
    for _ in 0..100 {
        match options.clone().open(path) {
            Err(nevar::Error::AlreadyOpen) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other.unwrap(),
        }
    }
    panic!("{} stayed locked", path.display())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().expect("UTF-8 temp path")
}

/// A file with two trees: `users` (3 short entries) and `events` (2,000 entries, a few of
/// them overflow values).
fn prepare(dir: &Path) -> (PathBuf, Trees) {
    let path = dir.join("data.nevar");
    let db = open(&path, Options::new());
    let mut w = db.begin_write().unwrap();
    {
        let mut users = w.open_tree("users").unwrap();
        for (k, v) in [("alice", "admin"), ("bob", "reader"), ("carol", "")] {
            users.insert(k.as_bytes(), v.as_bytes()).unwrap();
        }
        let mut events = w.open_tree("events").unwrap();
        for i in 0u32..2000 {
            let value = vec![(i % 251) as u8; if i % 500 == 0 { 9000 } else { 40 }];
            events
                .insert(&(i * 7919 % 2000).to_be_bytes(), &value)
                .unwrap();
        }
    }
    w.commit().unwrap();
    drop(db);
    let trees = contents(&path);
    (path, trees)
}

fn contents(path: &Path) -> Trees {
    let db = open(path, Options::new().read_only(true));
    let read = db.begin_read().unwrap();
    let mut trees = Trees::new();
    for name in read.tree_names().unwrap() {
        let tree = read.open_tree(&name).unwrap();
        let entries = tree
            .iter()
            .unwrap()
            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())))
            .collect::<nevar::Result<_>>()
            .unwrap();
        trees.insert(name, entries);
    }
    trees
}

#[test]
fn stat_trees_and_get_on_a_prepared_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    let before = std::fs::read(&path).unwrap();

    let out = nevar(&["stat", s(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("page size       4096 bytes"), "{report}");
    assert!(
        report.contains("tree \"events\"\n  entries       2000"),
        "{report}"
    );
    assert!(
        report.contains("tree \"users\"\n  entries       3"),
        "{report}"
    );

    let out = nevar(&["stat", s(&path), "--tree", "events", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trees = json["trees"].as_array().unwrap();
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0]["name"], "events");
    assert_eq!(trees[0]["entries"], 2000);
    assert!(trees[0]["overflow_pages"].as_u64().unwrap() >= 4 * 3);
    let fill = trees[0]["average_fill"].as_f64().unwrap();
    assert!(fill > 0.25 && fill <= 1.0, "fill {fill}");
    assert_eq!(json["page_size"], 4096);
    assert!(json["used_pages"].as_u64().unwrap() <= json["high_water"].as_u64().unwrap());

    let out = nevar(&["trees", s(&path)]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "events\t2000\nusers\t3\n");

    let out = nevar(&["get", s(&path), "users", "alice"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "admin\n");
    let out = nevar(&["get", s(&path), "users", "626f62", "--hex"]);
    assert_eq!(text(&out.stdout), "726561646572\n");
    let out = nevar(&["get", s(&path), "users", "dave"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("key not found"));

    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "reading commands changed the file"
    );
}

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

/// Page numbers of leaf pages, found by reading headers (kind byte 3 at offset 4, page
/// number at offset 8).
fn leaf_pages(bytes: &[u8], page_size: usize) -> Vec<usize> {
    (2..bytes.len() / page_size)
        .filter(|&no| {
            let page = &bytes[no * page_size..(no + 1) * page_size];
            page[4] == 3 && u64::from_le_bytes(page[8..16].try_into().unwrap()) == no as u64
        })
        .collect()
}

#[test]
fn check_is_clean_on_a_good_file_and_names_the_page_of_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    let out = nevar(&["check", s(&path)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("clean: "));

    let mut bytes = std::fs::read(&path).unwrap();
    let leaf = *leaf_pages(&bytes, 4096).last().expect("a leaf page");
    bytes[leaf * 4096 + 4000] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let out = nevar(&["check", s(&path)]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains(&format!("page {leaf}: ")), "{report}");
    assert!(report.contains("checksum"), "{report}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "check changed the file"
    );
}

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
