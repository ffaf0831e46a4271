//! Runs the built `nevar` binary against prepared files: one module per command, sharing the
//! helpers below.

mod check;
mod copy;
mod dump_load;
mod errors;
mod page_and_repair;
mod put_del;
mod stat;
mod trees;

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
