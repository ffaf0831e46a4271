//! Meta torture: the newest meta slot torn at every 512-byte boundary (in both orders) and
//! every byte of either slot flipped in turn. Open always lands on an intact commit: the
//! newest one whose meta survived, else the one before, with `check()` clean. With both
//! slots destroyed, open fails with a typed error.
//!
//! A meta page is the 32-byte page header then 160 bytes of fields (magic, version, page size,
//! txn ids, high-water mark, flags, the catalog and free-tree roots): bytes 0..192, covered by
//! the header's checksum together with the zero tail.

use std::collections::BTreeMap;

use nevar::testing::SimulatedDisk;
use nevar::{Database, Error, Options};

const PAGE: usize = 4096;
const META_BYTES: usize = 192;
const SECTOR: usize = 512;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn open(image: Vec<u8>) -> nevar::Result<Database> {
    Options::new()
        .segment_size(1 << 20)
        .open_storage(Box::new(SimulatedDisk::from_image(image)))
}

fn contents(db: &Database) -> Model {
    nevar_testkit::contents(db).remove("t").expect("tree t")
}

/// Durable images and models after three commits (A, B, C), the file never closed cleanly.
struct History {
    images: Vec<Vec<u8>>,
    models: Vec<Model>,
}

fn history() -> History {
    let disk = SimulatedDisk::new();
    let db = Options::new()
        .segment_size(1 << 20)
        .open_storage(Box::new(disk.clone()))
        .unwrap();
    let (mut images, mut models, mut model) = (Vec::new(), Vec::new(), Model::new());
    for commit in 0..3u8 {
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for i in 0..300u32 {
                let (k, v) = ((i * 7 + commit as u32).to_be_bytes(), vec![commit; 40]);
                t.insert(&k, &v).unwrap();
                model.insert(k.to_vec(), v);
            }
        }
        w.commit().unwrap();
        images.push(disk.durable_image());
        models.push(model.clone());
    }
    drop(db); // the images above were taken before any clean-shutdown commit
    History { images, models }
}

fn txn_in(image: &[u8], slot: usize) -> u64 {
    u64::from_le_bytes(
        image[slot * PAGE + 48..slot * PAGE + 56]
            .try_into()
            .unwrap(),
    )
}

/// Opens `image` and asserts it holds one of `allowed` (by index into the models).
fn assert_opens_at(image: Vec<u8>, history: &History, allowed: &[usize], what: &str) -> usize {
    let db = open(image).unwrap_or_else(|e| panic!("{what}: does not open: {e}"));
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{what}: {:?}", report.problems);
    let got = contents(&db);
    drop(db);
    allowed
        .iter()
        .copied()
        .find(|&i| history.models[i] == got)
        .unwrap_or_else(|| panic!("{what}: holds none of commits {allowed:?}"))
}

#[test]
fn every_flipped_byte_of_either_meta_falls_back_or_keeps_the_newest() {
    let h = history();
    let image = &h.images[2];
    let newest = (0..2).max_by_key(|&s| txn_in(image, s)).unwrap();
    let mut opened = 0;
    for slot in 0..2 {
        // Flipping the newest meta leaves commit B; flipping the older one leaves C.
        let expect = if slot == newest { 1 } else { 2 };
        let offsets = (0..META_BYTES).chain([META_BYTES, 1000, PAGE - 1]);
        for offset in offsets {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut damaged = image.clone();
                damaged[slot * PAGE + offset] ^= mask;
                let what = format!("slot {slot} byte {offset} ^ {mask:#04x}");
                assert_opens_at(damaged, &h, &[expect], &what);
                opened += 1;
            }
        }
    }
    assert_eq!(opened, 2 * (META_BYTES + 3) * 3);
}

#[test]
fn the_newest_meta_torn_at_every_sector_opens_at_an_intact_commit() {
    let h = history();
    let (before, after) = (&h.images[1], &h.images[2]);
    let slot = (0..2).max_by_key(|&s| txn_in(after, s)).unwrap();
    let (old, new) = (
        &before[slot * PAGE..(slot + 1) * PAGE],
        &after[slot * PAGE..(slot + 1) * PAGE],
    );
    for sectors in 0..=PAGE / SECTOR {
        let cut = sectors * SECTOR;
        // New sectors first (a write cut short), and old first (sectors written out of order).
        for (name, page) in [
            ("new head", [&new[..cut], &old[cut..]].concat()),
            ("old head", [&old[..cut], &new[cut..]].concat()),
        ] {
            let mut torn = after.clone();
            torn[slot * PAGE..(slot + 1) * PAGE].copy_from_slice(&page);
            let what = format!("{name}, {sectors} sectors");
            let landed = assert_opens_at(torn, &h, &[1, 2], &what);
            // Only a page identical to the new meta may show commit C.
            assert_eq!(landed == 2, page == new, "{what}: landed on {landed}");
        }
    }
}

#[test]
fn both_metas_destroyed_is_a_typed_error() {
    let h = history();
    for fill in [0x00u8, 0xff, 0x5a] {
        let mut image = h.images[2].clone();
        image[..2 * PAGE].fill(fill);
        match open(image) {
            Err(Error::NotADatabase | Error::Corrupted { .. }) => {}
            other => panic!("fill {fill:#x}: {:?}", other.map(|_| "opened")),
        }
    }
    // Magic intact, checksums broken: not "not a database" but a corrupted one.
    let mut image = h.images[2].clone();
    image[100] ^= 1;
    image[PAGE + 100] ^= 1;
    assert!(matches!(open(image), Err(Error::Corrupted { .. })));
}
