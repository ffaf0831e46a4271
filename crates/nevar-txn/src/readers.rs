//! The reader registry: which snapshots live readers hold.
//!
//! A reader claims a slot with a compare-and-swap and writes its snapshot's txn id there;
//! the writer takes the minimum over all slots to learn which freed pages it may reuse.
//!
//! Registration race (LMDB ITS#7970): a reader loads snapshot `S`, then the writer commits
//! `S+1`, scans the slots (not yet seeing `S`) and reuses pages of `S`. Prevented by order:
//! the reader publishes `S` in its slot *then* re-reads the current txn id; if it moved past
//! `S`, it retries with the newer snapshot. So a reader that proceeds with `S` published its
//! slot before `S+1` was published, and any writer that begins after `S+1` sees the slot. All
//! accesses are `SeqCst`. (The id may also lag behind `S`, between the writer's two stores;
//! the reader then holds the newest snapshot and proceeds rather than spinning.) The
//! `model_check` tests run this code under shuttle's schedulers.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use nevar_page::TxnId;

const SLOTS: usize = 256;

/// The atomic word a reader slot is made of: `AtomicU64` in the engine. The model check
/// (`tests` below) substitutes a model checker's atomic to explore interleavings of this very
/// code. Every operation is sequentially consistent; 0 means free.
pub(crate) trait SlotCell: Default + Send + Sync {
    fn load(&self) -> TxnId;
    fn store(&self, txn: TxnId);
    /// Claims a free slot for `txn`; false if taken.
    fn claim(&self, txn: TxnId) -> bool;
}

impl SlotCell for AtomicU64 {
    fn load(&self) -> TxnId {
        AtomicU64::load(self, Ordering::SeqCst)
    }
    fn store(&self, txn: TxnId) {
        AtomicU64::store(self, txn, Ordering::SeqCst)
    }
    fn claim(&self, txn: TxnId) -> bool {
        self.compare_exchange(0, txn, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

#[repr(align(64))]
#[derive(Default)]
struct Slot<C>(C);

/// Live readers' snapshots.
pub(crate) struct Readers<C: SlotCell = AtomicU64> {
    slots: Box<[Slot<C>]>,
    /// Readers beyond the slot count (rare): a multiset of txn ids.
    spill: Mutex<Vec<TxnId>>,
}

thread_local! {
    static HINT: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Where a reader registered; release it with [`Readers::release`].
#[derive(Debug)]
pub(crate) enum SlotId {
    Slot(usize),
    Spill(TxnId),
}

impl Readers {
    pub fn new() -> Readers {
        Readers::with_slots(SLOTS)
    }
}

impl<C: SlotCell> Readers<C> {
    /// A registry of `slots` slots (more readers spill into a locked list).
    pub fn with_slots(slots: usize) -> Readers<C> {
        Readers {
            slots: (0..slots).map(|_| Slot::default()).collect(),
            spill: Mutex::new(Vec::new()),
        }
    }

    /// Registers a reader of the snapshot `current()` returns, following the protocol above.
    /// Returns the slot and the snapshot the reader must use.
    pub fn register<T>(
        &self,
        current: impl Fn() -> (TxnId, T),
        current_txn: impl Fn() -> TxnId,
    ) -> (SlotId, T) {
        let start = HINT.with(|h| {
            if h.get() == usize::MAX {
                let id = std::thread::current().id();
                let hash = format!("{id:?}")
                    .bytes()
                    .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
                h.set(hash);
            }
            h.get() % self.slots.len()
        });
        loop {
            let (txn, snap) = current();
            let n = self.slots.len();
            let slot = (0..n)
                .map(|i| (start + i) % n)
                .find(|&i| self.slots[i].0.claim(txn));
            let id = match slot {
                Some(i) => {
                    HINT.with(|h| h.set(i));
                    SlotId::Slot(i)
                }
                None => {
                    self.spill.lock().expect("reader spill lock").push(txn);
                    SlotId::Spill(txn)
                }
            };
            // `<`: the writer stores the snapshot before its id, so a reader may see the new
            // snapshot and the old id. That snapshot is the newest: no need to wait.
            if current_txn() <= txn {
                return (id, snap);
            }
            self.release(id);
        }
    }

    pub fn release(&self, id: SlotId) {
        match id {
            SlotId::Slot(i) => self.slots[i].0.store(0),
            SlotId::Spill(txn) => {
                let mut spill = self.spill.lock().expect("reader spill lock");
                if let Some(at) = spill.iter().position(|&t| t == txn) {
                    spill.swap_remove(at);
                }
            }
        }
    }

    /// The oldest snapshot any live reader holds.
    pub fn oldest(&self) -> Option<TxnId> {
        let slots = self
            .slots
            .iter()
            .map(|s| s.0.load())
            .filter(|&t| t != 0)
            .min();
        let spill = self
            .spill
            .lock()
            .expect("reader spill lock")
            .iter()
            .copied()
            .min();
        slots.into_iter().chain(spill).min()
    }

    /// Number of live readers.
    pub fn count(&self) -> usize {
        self.slots.iter().filter(|s| s.0.load() != 0).count()
            + self.spill.lock().expect("reader spill lock").len()
    }
}

#[cfg(test)]
mod model_check {
    //! Model check of the registration protocol against the writer's oldest-reader scan
    //! (ITS#7970) and of the publication order (snapshot first, then its txn id), running the
    //! real `Readers` code over shuttle's atomics under random and PCT schedules. Seeded, so a
    //! failing schedule replays; `NEVAR_LONG=1` explores many more.

    use std::sync::Arc;

    use shuttle::sync::atomic::{AtomicU64 as ModelU64, Ordering};

    use super::{Readers, SlotCell};
    use crate::schedules::{iterations, seed};
    use nevar_page::TxnId;

    #[derive(Default)]
    struct ModelCell(ModelU64);

    impl SlotCell for ModelCell {
        fn load(&self) -> TxnId {
            self.0.load(Ordering::SeqCst)
        }
        fn store(&self, txn: TxnId) {
            self.0.store(txn, Ordering::SeqCst)
        }
        fn claim(&self, txn: TxnId) -> bool {
            self.0
                .compare_exchange(0, txn, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        }
    }

    /// What the engine shares: the registry, the published snapshot (an `ArcSwap` there, its
    /// txn id here), `current_txn`, and how far the writer has reclaimed: every snapshot
    /// below `reclaimed_below` may have had its pages reused.
    struct World {
        readers: Readers<ModelCell>,
        snapshot: ModelU64,
        current_txn: ModelU64,
        reclaimed_below: ModelU64,
    }

    /// One writer committing `commits` times, `readers` readers each taking two snapshots;
    /// `slots` below the reader count exercises the spill list too.
    fn scenario(readers: usize, commits: u64, slots: usize) -> impl Fn() + Send + Sync + 'static {
        move || {
            let world = Arc::new(World {
                readers: Readers::with_slots(slots),
                snapshot: ModelU64::new(1),
                current_txn: ModelU64::new(1),
                reclaimed_below: ModelU64::new(0),
            });
            let writer = {
                let w = Arc::clone(&world);
                shuttle::thread::spawn(move || {
                    for txn in 2..=commits + 1 {
                        // Publication order, as in commit.rs: the snapshot, then its id.
                        w.snapshot.store(txn, Ordering::SeqCst);
                        w.current_txn.store(txn, Ordering::SeqCst);
                        // The next writer reuses pages of every snapshot older than the
                        // oldest reader's (and the current one).
                        let horizon = w.readers.oldest().unwrap_or(txn).min(txn);
                        w.reclaimed_below.fetch_max(horizon, Ordering::SeqCst);
                    }
                })
            };
            let threads: Vec<_> = (0..readers)
                .map(|_| {
                    let w = Arc::clone(&world);
                    shuttle::thread::spawn(move || {
                        for _ in 0..2 {
                            let (slot, snap) = w.readers.register(
                                || {
                                    let s = w.snapshot.load(Ordering::SeqCst);
                                    (s, s)
                                },
                                || w.current_txn.load(Ordering::SeqCst),
                            );
                            for _ in 0..2 {
                                let reclaimed = w.reclaimed_below.load(Ordering::SeqCst);
                                assert!(
                                    reclaimed <= snap,
                                    "a reader of txn {snap} lost its pages (reclaimed below {reclaimed})"
                                );
                                shuttle::thread::yield_now();
                            }
                            w.readers.release(slot);
                        }
                    })
                })
                .collect();
            writer.join().unwrap();
            for t in threads {
                t.join().unwrap();
            }
            assert_eq!(world.readers.count(), 0);
        }
    }

    #[test]
    fn registration_never_loses_a_snapshot_under_random_schedules() {
        let seed = seed(0x7970);
        shuttle::check_random_with_seed(scenario(2, 3, 4), seed, iterations(3000, 300_000));
        // More readers than slots: the spill list takes part.
        shuttle::check_random_with_seed(scenario(3, 2, 1), seed ^ 1, iterations(3000, 300_000));
    }

    #[test]
    fn registration_never_loses_a_snapshot_under_pct_schedules() {
        let scheduler = shuttle::scheduler::PctScheduler::new_from_seed(
            seed(0x7972),
            3,
            iterations(2000, 200_000),
        );
        shuttle::Runner::new(scheduler, Default::default()).run(scenario(2, 3, 2));
    }
}
