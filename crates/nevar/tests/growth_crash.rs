//! Growth crash: the file grows from 1 MiB past its largest growth step and across several
//! segment maps while power is lost at every step of growth: before extending the file, before
//! mapping a new segment, before cutting it, and at syncs. Every image opens, passes
//! `check()`, and holds the last acknowledged commit (or, at a sync, the one in flight).
//!
//! The long mode (`NEVAR_LONG=1`) grows to over 1 GiB with the default 64 MiB segments (five
//! maps), takes four images per event and images every eighth grow. The CI mode grows past
//! 128 MiB (to about 200) with 2 MiB segments (six maps after the first, the same growth steps
//! up to their 2 MiB cap) and takes one image per event at every grow: each image is a copy of the whole disk that is
//! opened, checked and read back, so the cost grows with the square of the size, and the
//! gibibyte run costs minutes.
//!
//! Values are a function of (key, version), so the model is a map of versions and 1 GiB of
//! data is compared without a second copy. (Torn pages inside values are also caught by the
//! checksums `check()` verifies.)

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use nevar::testing::{CrashMode, DiskOp, SimulatedDisk};
use nevar::{Database, Options};

/// key -> version; the value is `value(key, version)`.
type Model = BTreeMap<u32, u32>;

const VALUE_LEN: usize = 1 << 20;

/// How far one run grows the file, and how.
#[derive(Clone, Copy)]
struct Scale {
    target_bytes: u64,
    segment_bytes: u64,
    per_commit: u32,
    images_per_event: u64,
    /// Images are taken at every `grow_stride`-th grow (maps and truncates: always).
    grow_stride: usize,
    /// At least this many segment maps must happen on the way.
    min_maps: usize,
}

impl Scale {
    fn pick() -> Scale {
        if std::env::var("NEVAR_LONG").is_ok() {
            Scale {
                target_bytes: 1 << 30,
                segment_bytes: 64 << 20, // the default
                per_commit: 80,
                images_per_event: 4,
                grow_stride: 8,
                min_maps: 4,
            }
        } else {
            Scale {
                target_bytes: 128 << 20,
                segment_bytes: 2 << 20,
                per_commit: 10,
                images_per_event: 1,
                grow_stride: 1,
                min_maps: 6,
            }
        }
    }
}

/// Every 4 KiB block of a value starts with (key, version, block) and is zero after.
fn value(key: u32, version: u32) -> Vec<u8> {
    let mut v = vec![0u8; VALUE_LEN];
    for (block, chunk) in v.chunks_mut(4096).enumerate() {
        chunk[..12].copy_from_slice(&stamp(key, version, block as u32));
    }
    v
}

fn stamp(key: u32, version: u32, block: u32) -> [u8; 12] {
    let mut s = [0u8; 12];
    s[..4].copy_from_slice(&key.to_le_bytes());
    s[4..8].copy_from_slice(&version.to_le_bytes());
    s[8..].copy_from_slice(&block.to_le_bytes());
    s
}

fn is_value(v: &[u8], key: u32, version: u32) -> bool {
    v.len() == VALUE_LEN
        && v.chunks(4096).enumerate().all(|(block, chunk)| {
            chunk[..12] == stamp(key, version, block as u32) && chunk[12..].iter().all(|&b| b == 0)
        })
}

fn holds(db: &Database, model: &Model) -> bool {
    let r = db.begin_read().unwrap();
    let t = match r.open_tree("t") {
        Ok(t) => t,
        Err(nevar::Error::TreeNotFound(_)) => return model.is_empty(),
        Err(e) => panic!("{e}"),
    };
    if t.len().unwrap() != model.len() as u64 {
        return false;
    }
    t.iter().unwrap().zip(model).all(|(item, (&k, &version))| {
        let (key, v) = item.unwrap();
        key == k.to_be_bytes() && is_value(v, k, version)
    })
}

#[derive(Default)]
struct Watch {
    acked: Model,
    inflight: Option<Model>,
    events: Vec<String>,
    images: u64,
    grows_seen: usize,
    armed: bool,
}

fn check_image(image: Vec<u8>, segment_bytes: u64, allowed: &[&Model], what: &str) {
    let db = Options::new()
        .segment_size(segment_bytes)
        .open_storage(Box::new(SimulatedDisk::from_image(image)))
        .unwrap_or_else(|e| panic!("{what}: image does not open: {e}"));
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{what}: {:?}", report.problems);
    assert!(
        allowed.iter().any(|m| holds(&db, m)),
        "{what}: holds no allowed commit"
    );
}

#[test]
fn power_loss_at_every_growth_step_across_segment_maps() {
    let scale = Scale::pick();
    let disk = SimulatedDisk::new();
    let watch = Arc::new(Mutex::new(Watch::default()));
    {
        let (disk2, watch) = (disk.clone(), watch.clone());
        disk.on_op(move |op| {
            let mut w = watch.lock().unwrap();
            if !w.armed {
                return;
            }
            // Syncs are frequent and covered by the power-loss campaign: every fourth here.
            if op == DiskOp::Sync && w.events.len() % 4 != 0 {
                w.events.push(format!("{op:?} (skipped)"));
                return;
            }
            if matches!(op, DiskOp::Grow(_)) {
                w.grows_seen += 1;
                if (w.grows_seen - 1) % scale.grow_stride != 0 {
                    w.events.push(format!("{op:?} (skipped)"));
                    return;
                }
            }
            let n = w.events.len() as u64;
            w.events.push(format!("{op:?}"));
            // Until the sync, the meta of the transaction in flight is not written: images
            // taken while growing must hold exactly the acknowledged commit.
            let mut allowed = vec![w.acked.clone()];
            if op == DiskOp::Sync {
                allowed.extend(w.inflight.clone());
            }
            let allowed: Vec<&Model> = allowed.iter().collect();
            for i in 0..scale.images_per_event {
                let mode = [CrashMode::Mixed, CrashMode::DropAll, CrashMode::KeepAll]
                    [((n + i) % 3) as usize];
                let image = disk2.crash_image(n << 8 | i, mode);
                check_image(
                    image,
                    scale.segment_bytes,
                    &allowed,
                    &format!("event {n} {op:?} image {i} {mode:?}"),
                );
                w.images += 1;
            }
        });
    }
    let db = Options::new()
        .segment_size(scale.segment_bytes)
        .open_storage(Box::new(disk.clone()))
        .unwrap();
    watch.lock().unwrap().armed = true;
    let mut model = Model::new();
    let mut commit = 0u32;
    while disk_len(&disk) < scale.target_bytes + (64 << 20) {
        let mut next = model.clone();
        let mut w = db.begin_write().unwrap();
        {
            let mut t = w.open_tree("t").unwrap();
            for j in 0..scale.per_commit {
                // Mostly new keys (growth), some overwrites (pages freed and reused).
                let key = if j % 6 == 5 {
                    (commit * 7 + j) % (commit * scale.per_commit + 1)
                } else {
                    commit * scale.per_commit + j
                };
                t.insert(&key.to_be_bytes(), &value(key, commit)).unwrap();
                next.insert(key, commit);
            }
        }
        watch.lock().unwrap().inflight = Some(next.clone());
        w.commit().unwrap();
        model = next;
        let mut w = watch.lock().unwrap();
        w.acked = model.clone();
        w.inflight = None;
        drop(w);
        commit += 1;
    }
    let w = watch.lock().unwrap();
    let grows = w.grows_seen;
    let maps = w.events.iter().filter(|e| e.starts_with("Map")).count();
    eprintln!(
        "{commit} commits, {} MiB, {grows} grows, {maps} maps, {} images",
        disk_len(&disk) >> 20,
        w.images
    );
    assert!(disk_len(&disk) >= scale.target_bytes);
    assert!(grows >= 20 && maps >= scale.min_maps, "{:?}", w.events);
    drop(w);
    assert!(holds(&db, &model));
}

fn disk_len(disk: &SimulatedDisk) -> u64 {
    use nevar::storage::Storage;
    disk.len().unwrap()
}
