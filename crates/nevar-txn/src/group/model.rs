//! Model check of group commit: the real [`Queue`] driven by committer threads under
//! shuttle's schedulers, against a model disk that asserts the commit rules on every step:
//! - a meta is never written while a sync is in flight, and never into the slot that holds
//!   the last durable commit (the other slot always still holds it);
//! - an Immediate `commit()` returns only once the durable meta covers it;
//! - publication goes forward and never past an Immediate commit that is not durable;
//! - after a failed sync nobody is told "durable" for a commit the disk does not hold.
//!
//! Seeded, so a failing schedule replays (`NEVAR_SEED`); `NEVAR_LONG=1` explores more.

use std::collections::BTreeSet;
use std::sync::Arc;

use nevar_btree::TreeDesc;
use nevar_page::{PageNo, TxnId};
use shuttle::sync::{Condvar, Mutex};

use super::queue::{FailedSync, MetaWrite, Next, Queue, Ticket};
use crate::options::Durability;
use crate::schedules::{iterations, seed};
use crate::snapshot::Snapshot;

/// A meta as the model disk holds it.
#[derive(Clone, Copy)]
struct MetaOnDisk {
    txn: TxnId,
    synced: bool,
}

#[derive(Default)]
struct ModelDisk {
    slots: [Option<MetaOnDisk>; 2],
    /// A sync is between its start and its end.
    syncing: bool,
    /// Newest txn whose meta is synced.
    durable: TxnId,
    /// Syncs so far; the one numbered `fail_sync` fails.
    syncs: u32,
    fail_sync: Option<u32>,
    /// Txns committed with Immediate durability.
    immediate: BTreeSet<TxnId>,
    published: TxnId,
}

impl ModelDisk {
    fn write_meta(&mut self, write: MetaWrite) {
        assert!(!self.syncing, "a meta write raced a sync");
        let slot = write.slot as usize;
        let other = self.slots[1 - slot];
        assert!(
            other.is_some_and(|m| m.synced && m.txn == self.durable),
            "txn {} went into slot {slot} while the other slot does not hold the last durable \
             commit {}",
            write.snapshot.txn,
            self.durable
        );
        assert_eq!(
            write.snapshot.durable_before, self.durable,
            "the meta names the last durable commit"
        );
        self.slots[slot] = Some(MetaOnDisk {
            txn: write.snapshot.txn,
            synced: false,
        });
    }

    fn finish_sync(&mut self) -> bool {
        self.syncing = false;
        self.syncs += 1;
        if self.fail_sync == Some(self.syncs) {
            return false;
        }
        for meta in self.slots.iter_mut().flatten() {
            meta.synced = true;
            self.durable = self.durable.max(meta.txn);
        }
        true
    }

    fn publish(&mut self, snapshot: Snapshot) {
        assert!(snapshot.txn > self.published, "publication goes forward");
        let unsynced = self.immediate.range(..=snapshot.txn).next_back();
        assert!(
            unsynced.is_none_or(|&t| t <= self.durable),
            "published {} past Immediate commit {unsynced:?} before it was durable {}",
            snapshot.txn,
            self.durable
        );
        self.published = snapshot.txn;
    }
}

struct World {
    /// The writer lock, holding the head txn.
    writer: Mutex<TxnId>,
    group: Mutex<Queue>,
    landed: Condvar,
    disk: Mutex<ModelDisk>,
}

fn snapshot(txn: TxnId) -> Snapshot {
    Snapshot {
        txn,
        durable_before: 0,
        high_water: 2,
        catalog: TreeDesc::default(),
        free: TreeDesc::default(),
    }
}

impl World {
    /// One commit, as `commit.rs` and `SyncGroup` do it; `Err` when its sync failed.
    fn commit(&self, durability: Durability) -> Result<TxnId, FailedSync> {
        let ticket: Ticket = {
            let mut head = self.writer.lock().unwrap();
            *head += 1;
            let txn = *head;
            if durability == Durability::Immediate {
                self.disk.lock().unwrap().immediate.insert(txn);
            }
            let mut queue = self.group.lock().unwrap();
            let (ticket, write_now) = queue.enqueue(snapshot(txn), durability, false)?;
            if let Some(write) = write_now {
                let mut disk = self.disk.lock().unwrap();
                disk.write_meta(write);
                disk.publish(queue.written(write));
            }
            ticket
        };
        let mut queue = self.group.lock().unwrap();
        loop {
            queue = match queue.next(ticket) {
                Next::Done => {
                    let disk = self.disk.lock().unwrap();
                    match durability {
                        Durability::Immediate => assert!(disk.durable >= ticket.txn),
                        Durability::NoSync => assert!(disk.published >= ticket.txn),
                    }
                    return Ok(ticket.txn);
                }
                Next::Failed(failed) => return Err(failed),
                Next::Lead(write) => {
                    drop(queue);
                    let synced = {
                        let mut disk = self.disk.lock().unwrap();
                        disk.write_meta(write);
                        disk.syncing = true;
                        drop(disk);
                        shuttle::thread::yield_now();
                        self.disk.lock().unwrap().finish_sync()
                    };
                    let mut queue = self.group.lock().unwrap();
                    if synced {
                        let (published, follow_up) = queue.synced(write);
                        let mut disk = self.disk.lock().unwrap();
                        disk.publish(published);
                        if let Some(next) = follow_up {
                            disk.write_meta(next);
                            disk.publish(queue.written(next));
                        }
                    } else {
                        queue.failed(FailedSync {
                            kind: std::io::ErrorKind::Other,
                            message: "model sync failed".into(),
                        });
                    }
                    self.landed.notify_all();
                    queue
                }
                Next::Wait => self.landed.wait(queue).unwrap(),
            };
        }
    }
}

/// `threads` committers, each making `commits` commits, every third one NoSync; the sync
/// numbered `fail_sync` fails.
fn scenario(threads: u64, commits: u64, fail_sync: Option<u32>) -> impl Fn() + Send + Sync {
    move || {
        let world = Arc::new(World {
            writer: Mutex::new(1),
            group: Mutex::new(Queue::new(1, 0 as PageNo)),
            landed: Condvar::new(),
            disk: Mutex::new(ModelDisk {
                slots: [
                    Some(MetaOnDisk {
                        txn: 1,
                        synced: true,
                    }),
                    Some(MetaOnDisk {
                        txn: 1,
                        synced: true,
                    }),
                ],
                durable: 1,
                published: 1,
                fail_sync,
                ..ModelDisk::default()
            }),
        });
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let world = Arc::clone(&world);
                shuttle::thread::spawn(move || {
                    for i in 0..commits {
                        let durability = if (t + i) % 3 == 2 {
                            Durability::NoSync
                        } else {
                            Durability::Immediate
                        };
                        if world.commit(durability).is_err() {
                            // The database is broken from here on; the thread stops.
                            let disk = world.disk.lock().unwrap();
                            assert!(disk.fail_sync.is_some_and(|f| disk.syncs >= f));
                            return;
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let disk = world.disk.lock().unwrap();
        if fail_sync.is_none_or(|f| disk.syncs < f) {
            let head = *world.writer.lock().unwrap();
            assert_eq!(disk.published, head, "every commit ends up visible");
        }
    }
}

#[test]
fn group_commit_keeps_the_commit_rules_under_random_schedules() {
    let seed = seed(0x6C0C);
    shuttle::check_random_with_seed(scenario(3, 3, None), seed, iterations(2000, 60_000));
    shuttle::check_random_with_seed(scenario(4, 2, None), seed ^ 1, iterations(2000, 60_000));
}

#[test]
fn a_failed_group_sync_fails_every_commit_it_covers() {
    let seed = seed(0x6C0D);
    for fail in 1..=3 {
        shuttle::check_random_with_seed(
            scenario(3, 3, Some(fail)),
            seed ^ u64::from(fail),
            iterations(1000, 30_000),
        );
    }
}

#[test]
fn group_commit_keeps_the_commit_rules_under_pct_schedules() {
    let scheduler =
        shuttle::scheduler::PctScheduler::new_from_seed(seed(0x6C0E), 3, iterations(1500, 45_000));
    shuttle::Runner::new(scheduler, Default::default()).run(scenario(3, 3, None));
}
