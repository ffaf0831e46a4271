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

/// Group commit under power loss: four threads commit at once, each into its own tree with
/// keys 0, 1, 2, ... At every sync, every crash image must open clean and hold, per thread,
/// a gap-free prefix of its keys that includes every commit acknowledged before the sync.
#[test]
fn concurrent_commits_survive_power_loss_at_every_sync() {
    const THREADS: usize = 4;
    let seed = seed();
    let (per_thread, images): (u64, usize) = if long() { (400, 24) } else { (40, 6) };
    let disk = SimulatedDisk::new();
    let db = open(disk.clone()).unwrap();
    let acked = Arc::new(Mutex::new([None::<u64>; THREADS]));
    let value =
        |thread: usize, i: u64| vec![(thread as u8) ^ (i as u8); 20 + (i % 7) as usize * 300];
    let syncs = Arc::new(Mutex::new(0u64));
    {
        let (disk2, acked, syncs) = (disk.clone(), acked.clone(), syncs.clone());
        disk.on_sync(move || {
            let n = {
                let mut s = syncs.lock().unwrap();
                *s += 1;
                *s
            };
            let acked = *acked.lock().unwrap();
            for i in 0..images {
                let mode = [CrashMode::Mixed, CrashMode::DropAll, CrashMode::Hostile][i % 3];
                let image = disk2.crash_image(seed ^ (n << 20) ^ i as u64, mode);
                let what = format!("sync {n} image {i} ({mode:?}), NEVAR_SEED={seed}");
                let db = open(SimulatedDisk::from_image(image))
                    .unwrap_or_else(|e| panic!("{what}: image does not open: {e}"));
                let report = db.check().unwrap();
                assert!(report.is_clean(), "{what}: {:?}", report.problems);
                let r = db.begin_read().unwrap();
                for (thread, acked) in acked.iter().enumerate() {
                    let keys: Vec<(Vec<u8>, Vec<u8>)> = match r.open_tree(&format!("w{thread}")) {
                        Ok(t) => t
                            .iter()
                            .unwrap()
                            .map(|e| e.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap())
                            .collect(),
                        Err(nevar::Error::TreeNotFound(_)) => Vec::new(),
                        Err(e) => panic!("{what}: {e}"),
                    };
                    for (i, (k, v)) in keys.iter().enumerate() {
                        assert_eq!(k, &(i as u64).to_be_bytes(), "{what}: thread {thread} gap");
                        assert_eq!(
                            v,
                            &value(thread, i as u64),
                            "{what}: thread {thread} key {i}"
                        );
                    }
                    if let Some(acked) = acked {
                        assert!(
                            keys.len() as u64 > *acked,
                            "{what}: thread {thread} lost acknowledged commit {acked}"
                        );
                    }
                }
            }
        });
    }
    std::thread::scope(|s| {
        for thread in 0..THREADS {
            let (db, acked) = (&db, &acked);
            s.spawn(move || {
                for i in 0..per_thread {
                    let mut w = db.begin_write().unwrap();
                    w.open_tree(&format!("w{thread}"))
                        .unwrap()
                        .insert(&i.to_be_bytes(), &value(thread, i))
                        .unwrap();
                    w.commit().unwrap();
                    acked.lock().unwrap()[thread] = Some(i);
                }
            });
        }
    });
    let syncs = *syncs.lock().unwrap();
    eprintln!("{} commits, {syncs} syncs", THREADS as u64 * per_thread);
    let r = db.begin_read().unwrap();
    for thread in 0..THREADS {
        assert_eq!(
            r.open_tree(&format!("w{thread}")).unwrap().len().unwrap(),
            per_thread
        );
    }
}

/// Closing after NoSync commits: the closing commit syncs pages the clean-shutdown flag would
/// vouch for. Recovery trusts a clean meta without verifying, so the flag may only go on a
/// commit that writes no page on top of a durable one; every image taken at the closing
/// syncs must open clean at the last durable commit or later. (The flag used to go on the
/// first closing commit, pages and all: a torn close served garbage as a clean file.)
#[test]
fn closing_after_nosync_commits_survives_power_loss() {
    let seed = seed();
    for round in 0..if long() { 40 } else { 8 } {
        let disk = SimulatedDisk::new();
        let db = open(disk.clone()).unwrap();
        let mut rng = Rng(seed ^ round | 1);
        let mut model = Model::new();
        let (changes, _) = plan(&mut rng);
        execute(&db, &changes, true, Durability::Immediate);
        model = applied(&model, &changes);
        let mut since_durable = vec![model.clone()];
        for _ in 0..5 {
            let (changes, _) = plan(&mut rng);
            execute(&db, &changes, true, Durability::NoSync);
            model = applied(&model, &changes);
            since_durable.push(model.clone());
        }
        let closing_syncs = Arc::new(Mutex::new(0u64));
        {
            let (disk2, closing_syncs) = (disk.clone(), closing_syncs.clone());
            disk.on_sync(move || {
                let n = {
                    let mut s = closing_syncs.lock().unwrap();
                    *s += 1;
                    *s
                };
                let allowed: Vec<&Model> = since_durable.iter().collect();
                verify_images(
                    &disk2,
                    12,
                    seed ^ (round << 32) ^ (n << 20),
                    &allowed,
                    &format!("round {round} closing sync {n}"),
                );
            });
        }
        drop(db);
        assert!(*closing_syncs.lock().unwrap() >= 1);
        let reopened = open(SimulatedDisk::from_image(disk.durable_image())).unwrap();
        assert_eq!(contents(&reopened), model);
    }
}
