//! The hostile-file harness, shared by the cargo-fuzz target (`fuzz/`) and the corpus replay
//! test (`tests/hostile_files.rs`).
//!
//! An input is a *mutation program*, not a file: byte 0 picks a base database (closed cleanly
//! or not), and the rest decodes to up to [`MAX_OPS`] structure-aware edits of it: page kinds,
//! cell counts, slot offsets, slot key heads, page prefix lengths and head gaps, branch child pointers (to
//! itself, past the end, to any page), free-page records naming live pages, meta fields,
//! overflow lengths, copied and truncated pages, raw flips. Most edits re-seal the page's
//! checksum, so they reach the structural checks behind it. [`exercise`] then opens the result
//! and runs reads both ways, a write transaction, `check()` and `stats()`: any outcome is fine
//! except a panic, an abort or a hang.
//!
//! Programs keep inputs tiny (a corpus of thousands fits in a few hundred KiB) while the
//! fuzzer still mutates them freely: every byte string decodes to some program.

#![allow(dead_code)]

use std::sync::OnceLock;

use nevar::testing::SimulatedDisk;
use nevar::{Durability, Options};
use nevar_page::{HEADER_LEN, SLOT_LEN};

pub const PAGE: usize = 4096;
pub const MAX_OPS: usize = 16;
/// Entries read per iteration, so a damaged tree cannot make a read loop forever.
const ITER_LIMIT: usize = 5000;

const KIND_AT: usize = 4;
const HEAD_GAP_AT: usize = 5;
const PAGE_NO_AT: usize = 8;
const TXN_AT: usize = 16;
const RUN_PAGES_AT: usize = 24;
const COUNT_AT: usize = 6;
const PREFIX_LEN_AT: usize = 30;
const KIND_BRANCH: u8 = 2;
const KIND_LEAF: u8 = 3;
const KIND_OVERFLOW: u8 = 4;
const META_CATALOG_ROOT_AT: usize = 80;
const META_FREE_ROOT_AT: usize = 136;

/// The two base images: `[unclean, clean]`.
pub fn bases() -> &'static [Vec<u8>; 2] {
    static BASES: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    BASES.get_or_init(|| {
        let disk = SimulatedDisk::new();
        let db = options().open_storage(Box::new(disk.clone())).unwrap();
        let value =
            |i: u32, len: usize| -> Vec<u8> { (0..len).map(|b| (i + b as u32) as u8).collect() };
        // Tree `a`: depth 2 or more; `b`: overflow runs; `c`: churn that leaves free records.
        for round in 0..4u32 {
            let mut w = db.begin_write().unwrap();
            w.set_durability(Durability::NoSync);
            {
                let mut a = w.open_tree("a").unwrap();
                for i in 0..300u32 {
                    a.insert(&(i * 4 + round).to_be_bytes(), &value(i, 24))
                        .unwrap();
                }
                let mut b = w.open_tree("b").unwrap();
                b.insert(
                    &round.to_be_bytes(),
                    &value(round, 9000 + round as usize * 3000),
                )
                .unwrap();
                let mut c = w.open_tree("c").unwrap();
                for i in 0..200u64 {
                    c.insert(
                        &(i + round as u64 * 100).to_le_bytes(),
                        &value(i as u32, 60),
                    )
                    .unwrap();
                }
                for i in 0..150u64 {
                    c.remove(&(i + round as u64 * 100).to_le_bytes()).unwrap();
                }
            }
            w.commit().unwrap();
        }
        let mut w = db.begin_write().unwrap();
        w.open_tree("a")
            .unwrap()
            .remove(&4u32.to_be_bytes())
            .unwrap();
        // A typed tree: its catalog entry carries type names that damage can hit.
        let mut typed = w.open_tree(TYPED).unwrap();
        for i in 0..50u32 {
            typed.insert((i, "event"), u64::from(i)).unwrap();
        }
        w.commit().unwrap();
        let unclean = disk.durable_image();
        drop(db);
        let clean = disk.durable_image();
        [unclean, clean]
    })
}

/// The typed tree of the base images.
pub const TYPED: nevar::TreeDef<(u32, &str), u64> = nevar::TreeDef::new("typed");

pub fn options() -> Options {
    Options::new().segment_size(1 << 20)
}

/// Reads the program's bytes; past the end, every read is 0.
struct Program<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Program<'_> {
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
    fn u8(&mut self) -> u8 {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        b
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }
}

fn pages(image: &[u8]) -> usize {
    image.len() / PAGE
}

fn page(image: &mut [u8], no: usize) -> &mut [u8] {
    &mut image[no * PAGE..(no + 1) * PAGE]
}

fn get_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn get_u64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Pages whose header says `kind` and carries their own number, newest writer first (so
/// low choices hit live pages of the last commit, high ones older or free pages).
fn pages_of_kind(image: &[u8], kind: u8) -> Vec<usize> {
    let mut found: Vec<usize> = (2..pages(image))
        .filter(|&no| {
            let p = &image[no * PAGE..(no + 1) * PAGE];
            p[KIND_AT] == kind && get_u64(p, PAGE_NO_AT) == no as u64
        })
        .collect();
    found.sort_by_key(|&no| (std::cmp::Reverse(get_u64(&image[no * PAGE..], TXN_AT)), no));
    found
}

/// Leaf and branch pages (see [`pages_of_kind`]).
fn slotted_pages(image: &[u8]) -> Vec<usize> {
    [
        pages_of_kind(image, KIND_LEAF),
        pages_of_kind(image, KIND_BRANCH),
    ]
    .concat()
}

fn pick(list: &[usize], choice: u16) -> Option<usize> {
    (!list.is_empty()).then(|| list[choice as usize % list.len()])
}

/// Offset of cell `index` of a slotted page, if at least 16 bytes of it lie inside the page.
fn cell_at(p: &[u8], index: u16) -> Option<usize> {
    let count = get_u16(p, COUNT_AT);
    if count == 0 {
        return None;
    }
    let slot = HEADER_LEN + SLOT_LEN * (index % count) as usize;
    let at = get_u16(p, slot.min(PAGE - 2)) as usize;
    (at + 16 <= PAGE).then_some(at)
}

/// The newest meta slot (by txn id).
fn newest_meta(image: &[u8]) -> usize {
    (0..2)
        .max_by_key(|&s| get_u64(&image[s * PAGE..], TXN_AT + 32))
        .unwrap()
}

/// Pages of the free-page tree's leaves: leaves whose first cell has a 12-byte key and a
/// value of whole 12-byte extents.
fn free_tree_leaves(image: &[u8]) -> Vec<usize> {
    pages_of_kind(image, KIND_LEAF)
        .into_iter()
        .filter(|&no| {
            let p = &image[no * PAGE..(no + 1) * PAGE];
            cell_at(p, 0).is_some_and(|at| {
                let val_len = u32::from_le_bytes(p[at + 3..at + 7].try_into().unwrap());
                get_u16(p, at) == 12 && val_len > 0 && val_len % 12 == 0
            })
        })
        .collect()
}

fn seal(image: &mut [u8], no: usize) {
    if no < pages(image) {
        let _ = nevar_page::seal(page(image, no), no as u64);
    }
}

/// Applies the program to a copy of its base image.
pub fn mutate(input: &[u8]) -> Vec<u8> {
    let mut prog = Program {
        bytes: input,
        at: 0,
    };
    let mut image = bases()[(prog.u8() & 1) as usize].clone();
    for _ in 0..MAX_OPS {
        if prog.done() || image.len() < 2 * PAGE {
            break;
        }
        apply(&mut image, &mut prog);
    }
    image
}

fn apply(image: &mut Vec<u8>, prog: &mut Program<'_>) {
    let n = pages(image);
    match prog.u8() % 19 {
        // A raw flip: the checksum should catch it.
        0 => {
            let (no, at, mask) = (
                prog.u16() as usize % n,
                prog.u16() as usize % PAGE,
                prog.u8(),
            );
            page(image, no)[at] ^= mask | 1;
        }
        // A flip behind a valid checksum.
        1 => {
            let (no, at, mask) = (
                prog.u16() as usize % n,
                prog.u16() as usize % PAGE,
                prog.u8(),
            );
            page(image, no)[at] ^= mask | 1;
            seal(image, no);
        }
        // Wrong page kind.
        2 => {
            let (no, kind) = (prog.u16() as usize % n, prog.u8() % 6);
            page(image, no)[KIND_AT] = kind;
            seal(image, no);
        }
        // Cell count.
        3 => {
            let (no, count) = (prog.u16() as usize % n, prog.u16());
            page(image, no)[COUNT_AT..COUNT_AT + 2].copy_from_slice(&count.to_le_bytes());
            seal(image, no);
        }
        // A slot offset of a leaf or branch.
        4 => {
            let list = slotted_pages(image);
            let (choice, slot, value) = (prog.u16(), prog.u16(), prog.u16());
            if let Some(no) = pick(&list, choice) {
                let p = page(image, no);
                let count = get_u16(p, COUNT_AT).max(1);
                let at = HEADER_LEN + SLOT_LEN * (slot % count) as usize;
                if at + 2 <= PAGE {
                    p[at..at + 2].copy_from_slice(&value.to_le_bytes());
                }
                seal(image, no);
            }
        }
        // A branch child pointing to itself (a cycle), its txn matching.
        5 => {
            let (choice, cell) = (prog.u16(), prog.u16());
            if let Some(no) = pick(&pages_of_kind(image, KIND_BRANCH), choice) {
                let p = page(image, no);
                let txn = get_u64(p, TXN_AT);
                if let Some(at) = cell_at(p, cell) {
                    p[at..at + 8].copy_from_slice(&(no as u64).to_le_bytes());
                    p[at + 8..at + 16].copy_from_slice(&txn.to_le_bytes());
                }
                seal(image, no);
            }
        }
        // A branch child past the end of the file.
        6 => {
            let (choice, cell, beyond) = (prog.u16(), prog.u16(), prog.u32());
            if let Some(no) = pick(&pages_of_kind(image, KIND_BRANCH), choice) {
                let p = page(image, no);
                if let Some(at) = cell_at(p, cell) {
                    let target = n as u64 + u64::from(beyond);
                    p[at..at + 8].copy_from_slice(&target.to_le_bytes());
                }
                seal(image, no);
            }
        }
        // A branch child pointing at any page, with that page's txn (shared or crossed
        // subtrees, a branch pointing at a leaf of another tree, at a meta...).
        7 => {
            let (choice, cell, target) = (prog.u16(), prog.u16(), prog.u16() as usize % n);
            if let Some(no) = pick(&pages_of_kind(image, KIND_BRANCH), choice) {
                let txn = get_u64(page(image, target), TXN_AT);
                let p = page(image, no);
                if let Some(at) = cell_at(p, cell) {
                    p[at..at + 8].copy_from_slice(&(target as u64).to_le_bytes());
                    p[at + 8..at + 16].copy_from_slice(&txn.to_le_bytes());
                }
                seal(image, no);
            }
        }
        // A free-page record naming a live page (or any range).
        8 => {
            let (choice, extent, live, len) = (prog.u16(), prog.u16(), prog.u16(), prog.u32());
            let live_pages = slotted_pages(image);
            let target = pick(&live_pages, live).unwrap_or(2) as u64;
            if let Some(no) = pick(&free_tree_leaves(image), choice) {
                let p = page(image, no);
                if let Some(at) = cell_at(p, 0) {
                    let val_len =
                        u32::from_le_bytes(p[at + 3..at + 7].try_into().unwrap()) as usize;
                    let extents = (val_len / 12).max(1);
                    let e = at + 7 + 12 + 12 * (extent as usize % extents);
                    if e + 12 <= PAGE {
                        p[e..e + 8].copy_from_slice(&target.to_le_bytes());
                        p[e + 8..e + 12].copy_from_slice(&len.max(1).to_le_bytes());
                    }
                }
                seal(image, no);
            }
        }
        // A wrong kind where the free-page tree's root belongs.
        9 => {
            let kind = prog.u8() % 6;
            let root = get_u64(&image[newest_meta(image) * PAGE..], META_FREE_ROOT_AT) as usize;
            if (2..n).contains(&root) {
                page(image, root)[KIND_AT] = kind;
                seal(image, root);
            }
        }
        // Truncate the file.
        10 => {
            let keep = prog.u16() as usize % (n + 1) * PAGE + (prog.u8() as usize % 4) * 1024;
            image.truncate(keep.min(image.len()));
        }
        // Extend it with a pattern.
        11 => {
            let (extra, fill) = (prog.u8() as usize % 16 + 1, prog.u8());
            image.resize(image.len() + extra * PAGE, fill);
        }
        // A meta field, re-sealed: txn ids, high-water mark, roots, counts, depths, flags.
        12 => {
            let slot = if prog.u8() & 1 == 0 {
                newest_meta(image)
            } else {
                1 - newest_meta(image)
            };
            let (word, value) = (prog.u8() as usize % 20, prog.u64());
            let at = 32 + 8 * word;
            let p = page(image, slot);
            let value = match prog.u8() % 4 {
                0 => value,
                1 => value % (n as u64 + 4),
                2 => get_u64(p, at) ^ (1 << (value % 64)),
                _ => get_u64(p, at).wrapping_add(value % 3).wrapping_sub(1),
            };
            p[at..at + 8].copy_from_slice(&value.to_le_bytes());
            seal(image, slot);
        }
        // Copy one page over another, renumbered: stale or duplicated subtrees.
        13 => {
            let (from, to) = (prog.u16() as usize % n, prog.u16() as usize % n);
            let bytes = page(image, from).to_vec();
            page(image, to).copy_from_slice(&bytes);
            page(image, to)[PAGE_NO_AT..PAGE_NO_AT + 8].copy_from_slice(&(to as u64).to_le_bytes());
            seal(image, to);
        }
        // An overflow value's length (a run past the end, or of the wrong size).
        14 => {
            let (choice, cell, len) = (prog.u16(), prog.u16(), prog.u32());
            if let Some(no) = pick(&pages_of_kind(image, KIND_LEAF), choice) {
                let p = page(image, no);
                if let Some(at) = cell_at(p, cell) {
                    p[at + 3..at + 7].copy_from_slice(&len.to_le_bytes());
                }
                seal(image, no);
            }
        }
        // A slot's key head: any value, one off, or its neighbour's.
        15 => {
            let list = slotted_pages(image);
            let (choice, slot, how, value) = (prog.u16(), prog.u16(), prog.u8(), prog.u32());
            if let Some(no) = pick(&list, choice) {
                let p = page(image, no);
                let count = get_u16(p, COUNT_AT).max(1);
                let at = HEADER_LEN + SLOT_LEN * (slot % count) as usize + 2;
                if at + SLOT_LEN + 4 <= PAGE {
                    let head = u32::from_be_bytes(p[at..at + 4].try_into().unwrap());
                    let next =
                        u32::from_be_bytes(p[at + SLOT_LEN..at + SLOT_LEN + 4].try_into().unwrap());
                    let new = match how % 4 {
                        0 => value,
                        1 => head.wrapping_add(1),
                        2 => head.wrapping_sub(1),
                        _ => next,
                    };
                    p[at..at + 4].copy_from_slice(&new.to_be_bytes());
                }
                seal(image, no);
            }
        }
        // The page prefix length: any value, or one off.
        16 => {
            let list = slotted_pages(image);
            let (choice, how, value) = (prog.u16(), prog.u8(), prog.u16());
            if let Some(no) = pick(&list, choice) {
                let p = page(image, no);
                let len = get_u16(p, PREFIX_LEN_AT);
                let new = match how % 3 {
                    0 => value,
                    1 => len.wrapping_add(1),
                    _ => len.wrapping_sub(1),
                };
                p[PREFIX_LEN_AT..PREFIX_LEN_AT + 2].copy_from_slice(&new.to_le_bytes());
                seal(image, no);
            }
        }
        // The head gap byte: any value, one more, or a lead without a gap.
        17 => {
            let list = slotted_pages(image);
            let (choice, how, value) = (prog.u16(), prog.u8(), prog.u8());
            if let Some(no) = pick(&list, choice) {
                let p = page(image, no);
                p[HEAD_GAP_AT] = match how % 3 {
                    0 => value,
                    1 => p[HEAD_GAP_AT].wrapping_add(1),
                    _ => 0x40,
                };
                seal(image, no);
            }
        }
        // An overflow run's page count.
        _ => {
            let (choice, run) = (prog.u16(), prog.u32());
            if let Some(no) = pick(&pages_of_kind(image, KIND_OVERFLOW), choice) {
                page(image, no)[RUN_PAGES_AT..RUN_PAGES_AT + 4].copy_from_slice(&run.to_le_bytes());
                seal(image, no);
            }
        }
    }
}

/// What [`exercise`] got through (for corpus statistics).
#[derive(Debug, Default, Clone, Copy)]
pub struct Reach {
    pub opened: bool,
    pub entries_read: usize,
    pub committed: bool,
    pub clean: bool,
}

/// Opens `image` and drives every kind of access through it. Any error is fine.
pub fn exercise(image: Vec<u8>) -> Reach {
    let mut reach = Reach::default();
    let Ok(db) = options().open_storage(Box::new(SimulatedDisk::from_image(image))) else {
        return reach;
    };
    reach.opened = true;
    if let Ok(read) = db.begin_read()
        && let Ok(names) = read.tree_names()
    {
        for name in names.iter().take(8) {
            let Ok(tree) = read.open_tree(name) else {
                continue;
            };
            let _ = (tree.len(), tree.first(), tree.last(), tree.is_empty());
            for probe in [&b""[..], &[0, 0, 0, 7], &[0xff; 8], b"zz"] {
                let _ = tree.get(probe);
            }
            if let Ok(iter) = tree.iter() {
                reach.entries_read += iter.take(ITER_LIMIT).take_while(Result::is_ok).count();
            }
            if let Ok(iter) = tree.iter() {
                reach.entries_read += iter
                    .rev()
                    .take(ITER_LIMIT)
                    .take_while(Result::is_ok)
                    .count();
            }
            if let Ok(iter) = tree.range(&[0, 0, 0, 40][..]..&[0, 0, 2, 0][..]) {
                let mut iter = iter;
                for _ in 0..50 {
                    match (iter.next(), iter.next_back()) {
                        (Some(Ok(_)), _) | (_, Some(Ok(_))) => reach.entries_read += 1,
                        _ => break,
                    }
                }
            }
        }
    }
    if let Ok(read) = db.begin_read()
        && let Ok(typed) = read.open_tree(TYPED)
    {
        let _ = typed.get((7, "event"));
        if let Ok(iter) = typed.iter() {
            reach.entries_read += iter.take(ITER_LIMIT).take_while(Result::is_ok).count();
        }
    }
    if let Ok(mut w) = db.begin_write() {
        let mut ok = true;
        for name in ["a", "b", "c", "new"] {
            let Ok(mut t) = w.open_tree(name) else {
                ok = false;
                break;
            };
            for i in 0..40u32 {
                ok &= t.insert(&(i * 13).to_be_bytes(), &[i as u8; 100]).is_ok();
                ok &= t.remove(&(i * 4).to_be_bytes()).is_ok();
            }
            ok &= t.insert(b"big", &[7u8; 9000]).is_ok();
        }
        ok &= w.delete_tree("c").is_ok();
        reach.committed = ok && w.commit().is_ok();
    }
    if let Ok(report) = db.check() {
        reach.clean = report.is_clean();
    }
    let _ = db.stats();
    reach
}
