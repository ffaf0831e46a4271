//! `nevar page` and `nevar check --repair` against files damaged on purpose: leaked pages,
//! a page free twice or free while a tree uses it, and a damaged tree page.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nevar::Options;
use nevar_page::{Leaf, LeafValue, Meta, TreeRoot, seal};

const PAGE: usize = 4096;

fn nevar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nevar"))
        .args(args)
        .output()
        .expect("run nevar")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A database whose free list holds pages: several commits of inserts and removes.
fn prepare(dir: &Path) -> PathBuf {
    let path = dir.join("data.nevar");
    let db = Options::new().open(&path).unwrap();
    for round in 0u32..6 {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for i in 0u32..500 {
                let key = (i * 13 + round).to_be_bytes();
                if round % 2 == 1 && i % 2 == 0 {
                    t.remove(&key).unwrap();
                } else {
                    t.insert(&key, &[round as u8; 60]).unwrap();
                }
            }
        }
        w.commit().unwrap();
    }
    drop(db);
    path
}

/// The newest meta of the file and its slot.
fn newest_meta(bytes: &[u8]) -> (Meta, u64) {
    (0..2u64)
        .filter_map(|slot| {
            Meta::read(&bytes[slot as usize * PAGE..][..PAGE], slot)
                .ok()
                .map(|m| (m, slot))
        })
        .max_by_key(|(m, _)| m.txn_id())
        .expect("an intact meta")
}

/// Points the first extent of the free tree's first record at `target` (sealed again).
fn forge_free_extent(path: &Path, target: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    let (meta, _) = newest_meta(&bytes);
    let root = meta.fields.free.root.get();
    assert_eq!(meta.fields.free.depth.get(), 1, "free tree is one leaf");
    let page = &mut bytes[root as usize * PAGE..][..PAGE];
    let at = {
        let leaf = Leaf::new(page, root).unwrap();
        let LeafValue::Inline(v) = leaf.value(0).unwrap() else {
            panic!("inline record")
        };
        v.as_ptr() as usize - page.as_ptr() as usize
    };
    page[at..at + 8].copy_from_slice(&target.to_le_bytes());
    page[at + 8..at + 12].copy_from_slice(&1u32.to_le_bytes());
    seal(page, root).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Empties the free tree in both metas: every free page (and the old free tree) leaks.
fn forge_empty_free_tree(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    for slot in 0..2u64 {
        let page = &mut bytes[slot as usize * PAGE..][..PAGE];
        let Ok(mut meta) = Meta::read(page, slot) else {
            continue;
        };
        meta.fields.free = TreeRoot::default();
        meta.write(page, slot).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

fn assert_clean(path: &Path) {
    let out = nevar(&["check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).starts_with("clean"));
}

#[test]
fn repair_frees_leaked_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path());
    forge_empty_free_tree(&path);
    let file = path.to_str().unwrap();
    let out = nevar(&["check", file]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("page leaked"), "{}", stdout(&out));
    let out = nevar(&["check", "--repair", file]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(stdout(&out).contains("repaired in txn"), "{}", stdout(&out));
    assert_clean(&path);
    // The freed pages are reused: more writes do not grow the file past its old size much.
    let before = std::fs::metadata(&path).unwrap().len();
    let db = Options::new().open(&path).unwrap();
    for round in 0u8..3 {
        let mut w = db.begin_write().unwrap();
        for i in 0u32..300 {
            w.open_tree("t")
                .unwrap()
                .insert(&i.to_be_bytes(), &[round; 60])
                .unwrap();
        }
        w.commit().unwrap();
    }
    drop(db);
    assert!(std::fs::metadata(&path).unwrap().len() <= before + (1 << 20));
    assert_clean(&path);
}

#[test]
fn repair_fixes_a_page_free_while_a_tree_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path());
    let bytes = std::fs::read(&path).unwrap();
    let live = newest_meta(&bytes).0.fields.catalog.root.get();
    forge_free_extent(&path, live);
    let file = path.to_str().unwrap();
    let out = nevar(&["check", file]);
    assert!(stdout(&out).contains("claimed by both"), "{}", stdout(&out));
    let out = nevar(&["check", "--repair", file]);
    assert!(out.status.success(), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("1 free pages in use"),
        "{}",
        stdout(&out)
    );
    assert_clean(&path);
}

#[test]
fn a_damaged_tree_page_is_reported_not_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    let root = newest_meta(&bytes).0.fields.catalog.root.get();
    bytes[root as usize * PAGE + 300] ^= 0xFF;
    std::fs::write(&path, &bytes).unwrap();
    let out = nevar(&["check", "--repair", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("not repaired"), "{}", stdout(&out));
    assert!(
        stdout(&out).contains(&format!("page {root}")),
        "{}",
        stdout(&out)
    );
    assert!(std::fs::read(&path).unwrap() == bytes, "file changed");
}

#[test]
fn page_decodes_metas_branches_leaves_and_damage() {
    let dir = tempfile::tempdir().unwrap();
    let path = prepare(dir.path());
    let file = path.to_str().unwrap();
    let out = nevar(&["page", file, "0"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(
        text.contains("Meta") && text.contains("checksum") && text.contains(": ok"),
        "{text}"
    );
    let version = format!(
        "format version {}, page size 4096",
        nevar_page::FORMAT_VERSION
    );
    assert!(text.contains(&version), "{text}");
    let mut bytes = std::fs::read(&path).unwrap();
    let meta = newest_meta(&bytes).0;
    let catalog = meta.fields.catalog.root.get();
    let text = stdout(&nevar(&["page", file, &catalog.to_string()]));
    assert!(text.contains("Leaf") && text.contains("\"t\""), "{text}");
    // The tree "t" is deep enough to have a branch root.
    let db = Options::new().read_only(true).open(&path).unwrap();
    let depth = db.stats().unwrap().trees[0].depth;
    drop(db);
    assert!(depth >= 2);
    bytes[catalog as usize * PAGE + 100] ^= 1;
    std::fs::write(&path, &bytes).unwrap();
    let text = stdout(&nevar(&["page", file, &catalog.to_string()]));
    assert!(text.contains("BAD"), "{text}");
    let out = nevar(&["page", file, "999999"]);
    assert_eq!(out.status.code(), Some(1));
}
