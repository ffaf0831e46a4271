//! The reader registry: which snapshots live readers hold.
//!
//! A reader claims a slot with a compare-and-swap and writes its snapshot's txn id there;
//! the writer takes the minimum over all slots to learn which freed pages it may reuse.
//!
//! Registration race (LMDB ITS#7970): a reader loads snapshot `S`, then the writer commits
//! `S+1`, scans the slots (not yet seeing `S`) and reuses pages of `S`. Prevented by order:
//! the reader publishes `S` in its slot *then* re-reads the current txn id; if it moved, it
//! retries with the newer snapshot. So a reader that proceeds with `S` published its slot
//! before `S+1` was published, and any writer that begins after `S+1` sees the slot. All
//! accesses are `SeqCst`.

use std::cell::Cell;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use nevar_page::TxnId;

const SLOTS: usize = 256;

#[repr(align(64))]
#[derive(Default)]
struct Slot(AtomicU64);

/// Live readers' snapshots.
pub(crate) struct Readers {
    slots: Box<[Slot]>,
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
        Readers {
            slots: (0..SLOTS).map(|_| Slot::default()).collect(),
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
                h.set(hash % SLOTS);
            }
            h.get()
        });
        loop {
            let (txn, snap) = current();
            let slot = (0..SLOTS).map(|i| (start + i) % SLOTS).find(|&i| {
                self.slots[i]
                    .0
                    .compare_exchange(0, txn, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            });
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
            if current_txn() == txn {
                return (id, snap);
            }
            self.release(id);
        }
    }

    pub fn release(&self, id: SlotId) {
        match id {
            SlotId::Slot(i) => self.slots[i].0.store(0, Ordering::SeqCst),
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
            .map(|s| s.0.load(Ordering::SeqCst))
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
        self.slots
            .iter()
            .filter(|s| s.0.load(Ordering::SeqCst) != 0)
            .count()
            + self.spill.lock().expect("reader spill lock").len()
    }
}
