//! Power loss, simulated: at every sync point, many crash images (unsynced blocks kept,
//! dropped, torn at 512 bytes or filled with garbage); each must open, pass `check()` and
//! hold exactly the last acknowledged durable commit or the one in flight.

use std::sync::{Arc, Mutex};

use nevar::testing::{CrashMode, SimulatedDisk};
use nevar::{Database, Durability, Options};
use nevar_testkit::{Rng, contents, long};

type Model = nevar_testkit::Trees;

fn seed() -> u64 {
    nevar_testkit::seed(42)
}

fn open(disk: SimulatedDisk) -> nevar::Result<Database> {
    Options::new()
        .segment_size(1 << 20)
        .open_storage(Box::new(disk))
}

/// One change of a random transaction.
#[derive(Clone)]
enum Change {
    DeleteTree(String),
    Remove(String, Vec<u8>),
    Insert(String, Vec<u8>, Vec<u8>),
}

/// Draws a random transaction: its changes and whether it commits (else it aborts).
fn plan(rng: &mut Rng) -> (Vec<Change>, bool) {
    let changes = (0..(1 + rng.below(30)))
        .map(|_| {
            let tree = format!("t{}", rng.below(3));
            match rng.below(20) {
                0 => Change::DeleteTree(tree),
                1..=6 => Change::Remove(tree, rng.below(400).to_be_bytes().to_vec()),
                _ => {
                    let key = rng.below(400).to_be_bytes().to_vec();
                    let len = if rng.below(10) == 0 {
                        3000 + rng.below(40_000)
                    } else {
                        rng.below(300)
                    } as usize;
                    let value = (0..len).map(|i| (i as u64 ^ rng.0) as u8).collect();
                    Change::Insert(tree, key, value)
                }
            }
        })
        .collect();
    (changes, rng.below(10) != 0)
}

/// `model` after `changes`.
fn applied(model: &Model, changes: &[Change]) -> Model {
    let mut next = model.clone();
    for change in changes {
        match change.clone() {
            Change::DeleteTree(tree) => {
                next.remove(&tree);
            }
            Change::Remove(tree, key) => {
                next.entry(tree).or_default().remove(&key);
            }
            Change::Insert(tree, key, value) => {
                next.entry(tree).or_default().insert(key, value);
            }
        }
    }
    next
}

/// Runs `changes` in one write transaction; commits it or drops it (abort).
fn execute(db: &Database, changes: &[Change], commit: bool, durability: Durability) {
    let mut w = db.begin_write().unwrap();
    w.set_durability(durability);
    for change in changes {
        match change {
            Change::DeleteTree(tree) => {
                w.delete_tree(tree).unwrap();
            }
            Change::Remove(tree, key) => {
                w.open_tree(tree).unwrap().remove(key).unwrap();
            }
            Change::Insert(tree, key, value) => {
                w.open_tree(tree).unwrap().insert(key, value).unwrap();
            }
        }
    }
    if commit {
        w.commit().unwrap();
    }
}

/// Takes `images` crash images of `disk` now, cycling through every crash mode, and checks
/// each with [`verify_image`].
fn verify_images(disk: &SimulatedDisk, images: usize, stream: u64, allowed: &[&Model], what: &str) {
    const MODES: [CrashMode; 4] = [
        CrashMode::Mixed,
        CrashMode::DropAll,
        CrashMode::KeepAll,
        CrashMode::Hostile,
    ];
    for i in 0..images {
        let mode = MODES[i % MODES.len()];
        let image = disk.crash_image(stream ^ i as u64, mode);
        verify_image(
            image,
            allowed,
            &format!("{what} image {i} ({mode:?}), NEVAR_SEED={}", seed()),
        );
    }
}

/// Opens a crash image and checks it holds one of `allowed`.
fn verify_image(image: Vec<u8>, allowed: &[&Model], what: &str) {
    let db = open(SimulatedDisk::from_image(image))
        .unwrap_or_else(|e| panic!("{what}: image does not open: {e}"));
    let report = db.check().unwrap();
    assert!(report.is_clean(), "{what}: {:?}", report.problems);
    let got = contents(&db);
    assert!(
        allowed.iter().any(|m| **m == got),
        "{what}: contents match no allowed commit"
    );
}

#[test]
fn immediate_commits_survive_power_loss_at_every_sync() {
    let seed = seed();
    let (commits, images) = if long() { (2000, 50) } else { (200, 20) };
    let disk = SimulatedDisk::new();
    let acked = Arc::new(Mutex::new(Model::new()));
    let inflight: Arc<Mutex<Option<Model>>> = Arc::new(Mutex::new(None));
    let syncs = Arc::new(Mutex::new(0u64));
    // Creation is acknowledged when `open` returns; only then must every image recover.
    let created = Arc::new(std::sync::atomic::AtomicBool::new(false));
    {
        let (disk2, acked, inflight, syncs) =
            (disk.clone(), acked.clone(), inflight.clone(), syncs.clone());
        let created = created.clone();
        disk.on_sync(move || {
            if !created.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            let n = {
                let mut s = syncs.lock().unwrap();
                *s += 1;
                *s
            };
            let acked = acked.lock().unwrap().clone();
            let inflight = inflight.lock().unwrap().clone();
            let mut allowed = vec![&acked];
            allowed.extend(inflight.as_ref());
            verify_images(
                &disk2,
                images,
                seed ^ (n << 20),
                &allowed,
                &format!("sync {n}"),
            );
        });
    }
    let db = open(disk.clone()).unwrap();
    created.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut model = Model::new();
    let mut rng = Rng(seed | 1);
    let mut done = 0;
    while done < commits {
        let (changes, commit) = plan(&mut rng);
        let next = applied(&model, &changes);
        // The sync hook must know the in-flight state before the commit's sync happens.
        *inflight.lock().unwrap() = commit.then(|| next.clone());
        execute(&db, &changes, commit, Durability::Immediate);
        if commit {
            model = next;
            *acked.lock().unwrap() = model.clone();
            done += 1;
        }
        *inflight.lock().unwrap() = None;
    }
    assert!(*syncs.lock().unwrap() >= commits as u64);
    assert_eq!(contents(&db), model);
}

#[test]
fn nosync_opens_at_the_last_durable_commit_or_later() {
    let seed = seed();
    let (commits, images) = if long() { (1500, 30) } else { (150, 12) };
    let disk = SimulatedDisk::new();
    let db = open(disk.clone()).unwrap();
    let mut rng = Rng(seed | 3);
    let mut model = Model::new();
    // Commits since (and including) the last durable one: any of them may survive.
    let mut since_durable: Vec<Model> = vec![model.clone()];
    for n in 0..commits {
        let durable = rng.below(5) == 0;
        let mode = if durable {
            Durability::Immediate
        } else {
            Durability::NoSync
        };
        let (changes, commit) = plan(&mut rng);
        execute(&db, &changes, commit, mode);
        if commit {
            model = applied(&model, &changes);
            if durable {
                since_durable.clear();
            }
            since_durable.push(model.clone());
        }
        let allowed: Vec<&Model> = since_durable.iter().collect();
        verify_images(
            &disk,
            images,
            seed ^ ((n as u64) << 20),
            &allowed,
            &format!("commit {n}"),
        );
    }
}
