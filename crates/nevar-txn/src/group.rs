//! Group commit: commits that queue behind a sync in flight share the next one.
//!
//! A commit seals its pages under the writer lock, hands its snapshot to the [`SyncGroup`] as
//! the newest *pending* commit and releases the writer lock, so the next transaction starts
//! at once. With [`Durability::Immediate`] it then waits until some sync covers it. Whoever
//! finds no sync in flight becomes the *leader*: it takes the newest pending snapshot, writes
//! its meta into the slot that does not hold the last durable commit, syncs once, and
//! publishes that snapshot to readers. Commits that arrived during that sync are pending
//! behind it; one of their committers leads the next sync, whose single meta covers them all.
//!
//! Why this keeps the commit rules (`docs/commit.md` argues each in full):
//! - Only the leader writes a meta while a group is pending or syncing, and only into the
//!   slot that does not hold the last durable commit, so that slot is never overwritten before
//!   a newer commit is durable, and no meta write races a sync.
//! - A pending meta names the last durable commit as `durable_before`, so recovery verifies
//!   every page written by any transaction of the group, and falls back to the durable slot
//!   if one of them is torn.
//! - Snapshots are published only here, under the group lock, in commit order, and never
//!   before every `Immediate` commit at or below them is durable.
//! - A failed meta write or sync fails every commit waiting on it and marks the database
//!   broken; no caller is told "durable" for data that is not.
//! - A `NoSync` commit with nothing pending writes its meta and publishes at once, as before
//!   grouping. Behind a pending `Immediate` commit it waits only until that group is published
//!   (it could not even have begun before that sync without grouping), so readers never see
//!   an `Immediate` commit before it is durable.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use nevar_page::{PageNo, TxnId};
use nevar_pager::Dirty;

use crate::db::Shared;
use crate::error::{Error, Result};
use crate::options::Durability;
use crate::recovery::write_meta;
use crate::snapshot::Snapshot;

/// The newest commit not yet published, standing for every commit since the last published.
#[derive(Clone, Copy)]
struct Pending {
    snapshot: Snapshot,
    /// Some commit it stands for was `Immediate`: it must be synced before it is published.
    needs_sync: bool,
    /// Mark the meta as a clean shutdown (the closing commit).
    clean: bool,
}

/// A sync that failed, kept so that every commit of its group gets an error.
#[derive(Clone)]
struct FailedSync {
    kind: std::io::ErrorKind,
    message: String,
}

struct GroupState {
    pending: Option<Pending>,
    /// A leader is writing a meta and syncing; nobody else writes a meta meanwhile.
    syncing: bool,
    /// Meta slot holding the last durable commit.
    durable_slot: PageNo,
    /// Newest commit on stable storage (mirrored in `Shared::durable_txn` for lock-free reads).
    durable: TxnId,
    /// Newest commit published to readers.
    published: TxnId,
    failed: Option<FailedSync>,
    /// The write token for the meta pages, which no transaction's `Dirty` ever holds.
    meta_token: Dirty,
}

/// The commit queue of one database: who syncs, and what each sync covers.
pub(crate) struct SyncGroup {
    state: Mutex<GroupState>,
    /// Signalled when a sync ends (or fails) and after every publication.
    landed: Condvar,
}

/// A commit handed to the group; [`SyncGroup::wait`] returns once it is durable (Immediate)
/// or published (NoSync).
#[must_use]
pub(crate) struct Ticket {
    txn: TxnId,
    durability: Durability,
}

impl SyncGroup {
    /// The group of a database whose last durable commit `txn` sits in meta slot `slot`.
    pub fn new(txn: TxnId, slot: PageNo) -> SyncGroup {
        SyncGroup {
            state: Mutex::new(GroupState {
                pending: None,
                syncing: false,
                durable_slot: slot,
                durable: txn,
                published: txn,
                failed: None,
                meta_token: Dirty::new(),
            }),
            landed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, GroupState> {
        // Nothing panics while holding this lock except through a bug; the state stays sound.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The newest commit that may become durable before a transaction starting now (from
    /// `head`) commits: `head` itself when a sync is in flight or queued (a group's meta
    /// covers the newest pending commit), else the last durable commit, which then cannot
    /// move until that transaction commits (only commits queue syncs, and it holds the
    /// writer lock).
    pub fn durable_ceiling(&self, head: TxnId) -> TxnId {
        let st = self.lock();
        if st.syncing || st.pending.is_some_and(|p| p.needs_sync) {
            head
        } else {
            st.durable
        }
    }

    /// Hands over the commit `snapshot`, whose pages are sealed. Called under the writer lock,
    /// so commits arrive in order. A `NoSync` commit with nothing ahead of it is written and
    /// published here; anything else is pending until [`SyncGroup::wait`].
    pub fn enqueue(
        &self,
        shared: &Shared,
        snapshot: Snapshot,
        durability: Durability,
        clean: bool,
    ) -> Result<Ticket> {
        let mut st = self.lock();
        let immediate = durability == Durability::Immediate;
        let behind = st.syncing || st.pending.is_some_and(|p| p.needs_sync);
        if !immediate && !behind {
            // As without grouping: meta into the non-durable slot, no sync, visible now.
            let slot = 1 - st.durable_slot;
            let snapshot = Snapshot {
                durable_before: st.durable,
                ..snapshot
            };
            write_meta(&shared.store.0, &mut st.meta_token, slot, snapshot, clean)?;
            st.pending = None;
            publish(shared, &mut st, snapshot);
        } else {
            let needs_sync = immediate || st.pending.is_some_and(|p| p.needs_sync);
            st.pending = Some(Pending {
                snapshot,
                needs_sync,
                clean,
            });
        }
        Ok(Ticket {
            txn: snapshot.txn,
            durability,
        })
    }

    /// Waits until the ticket's commit is durable (Immediate) or visible (NoSync), leading a
    /// sync when none is in flight.
    pub fn wait(&self, shared: &Shared, ticket: Ticket) -> Result<()> {
        let mut st = self.lock();
        loop {
            let done = match ticket.durability {
                Durability::Immediate => st.durable >= ticket.txn,
                Durability::NoSync => st.published >= ticket.txn,
            };
            if done {
                return Ok(());
            }
            if let Some(failed) = &st.failed {
                return Err(Error::Io {
                    op: "group commit sync",
                    source: std::io::Error::new(failed.kind, failed.message.clone()),
                });
            }
            let leads = !st.syncing && st.pending.is_some_and(|p| p.needs_sync);
            if leads {
                st = self.lead(shared, st)?;
            } else {
                st = self.landed.wait(st).unwrap_or_else(|p| p.into_inner());
            }
        }
    }

    /// Syncs the newest pending commit, with the group lock released while the disk works.
    fn lead<'g>(
        &'g self,
        shared: &Shared,
        mut st: MutexGuard<'g, GroupState>,
    ) -> Result<MutexGuard<'g, GroupState>> {
        let pending = st.pending.take().expect("a leader has a pending commit");
        let slot = 1 - st.durable_slot;
        let snapshot = Snapshot {
            durable_before: st.durable,
            ..pending.snapshot
        };
        st.syncing = true;
        let mut token = std::mem::take(&mut st.meta_token);
        drop(st);

        let pager = &shared.store.0;
        let started = Instant::now();
        let result = write_meta(pager, &mut token, slot, snapshot, pending.clean)
            .and_then(|()| Ok(pager.sync()?));
        tracing::debug!(
            txn = snapshot.txn,
            sync_us = started.elapsed().as_micros() as u64,
            "group sync"
        );

        let mut st = self.lock();
        st.meta_token = token;
        st.syncing = false;
        if let Err(e) = result {
            // Pages or the meta may be half-written: fail the group, refuse further writes.
            shared.broken.store(true, Ordering::SeqCst);
            st.failed = Some(FailedSync {
                kind: io_kind(&e),
                message: e.to_string(),
            });
            self.landed.notify_all();
            return Err(e);
        }
        st.durable_slot = slot;
        st.durable = snapshot.txn;
        shared.durable_txn.store(snapshot.txn, Ordering::SeqCst);
        publish(shared, &mut st, snapshot);
        // NoSync commits that queued during the sync need no sync of their own.
        if let Some(next) = st.pending.filter(|p| !p.needs_sync) {
            let next_slot = 1 - st.durable_slot;
            let next_snapshot = Snapshot {
                durable_before: st.durable,
                ..next.snapshot
            };
            let written = write_meta(
                pager,
                &mut st.meta_token,
                next_slot,
                next_snapshot,
                next.clean,
            );
            match written {
                Ok(()) => {
                    st.pending = None;
                    publish(shared, &mut st, next_snapshot);
                }
                Err(e) => {
                    shared.broken.store(true, Ordering::SeqCst);
                    st.failed = Some(FailedSync {
                        kind: io_kind(&e),
                        message: e.to_string(),
                    });
                }
            }
        }
        self.landed.notify_all();
        drop(st);
        shrink_if_idle(shared, snapshot.high_water);
        Ok(self.lock())
    }
}

/// Makes `snapshot` what new readers see; under the group lock, in commit order.
fn publish(shared: &Shared, st: &mut GroupState, snapshot: Snapshot) {
    debug_assert!(snapshot.txn > st.published, "publication goes forward");
    shared.current.store(Arc::new(snapshot));
    shared.current_txn.store(snapshot.txn, Ordering::SeqCst);
    st.published = snapshot.txn;
}

fn io_kind(e: &Error) -> std::io::ErrorKind {
    match e {
        Error::Io { source, .. } => source.kind(),
        _ => std::io::ErrorKind::Other,
    }
}

/// After a durable commit whose high-water mark is `durable_high_water`: cuts the file when
/// more than half of it lies beyond what any commit uses, but only while no write transaction
/// is live (one could be allocating past the mark right now; the next idle sync cuts instead).
/// A failed cut only leaves the file longer. LMDB never shrinks its file.
fn shrink_if_idle(shared: &Shared, durable_high_water: PageNo) {
    let Ok(writer) = shared.writer.try_lock() else {
        return;
    };
    // Commits after the durable one may use pages up to their own mark.
    let high_water = durable_high_water.max(writer.head.high_water);
    let pager = &shared.store.0;
    let file_pages = pager.file_pages();
    if file_pages > 2 * high_water && file_pages - high_water > 256 {
        let keep = high_water + high_water / 8;
        tracing::debug!(from_pages = file_pages, to_pages = keep, "shrinking file");
        if let Err(e) = pager.shrink_to(keep) {
            tracing::warn!(error = %e, "could not shrink the file; it keeps its length");
        }
    }
    drop(writer);
}
