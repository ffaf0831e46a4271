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

#[cfg(test)]
mod model;
mod queue;

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

pub(crate) use queue::Ticket;
use queue::{FailedSync, MetaWrite, Next, Queue};

/// How long a committer about to lead a sync waits at most for other threads' transactions to
/// commit and join it: a few small transactions, about one sync.
const GATHER: std::time::Duration = std::time::Duration::from_micros(150);

struct GroupState {
    queue: Queue,
    /// The write token for the meta pages, which no transaction's `Dirty` ever holds.
    meta_token: Dirty,
}

/// The commit queue of one database: who syncs, and what each sync covers.
pub(crate) struct SyncGroup {
    state: Mutex<GroupState>,
    /// Signalled when a sync ends (or fails) and after every publication.
    landed: Condvar,
    /// Signalled when a commit joins the pending group, and with `landed`. Only committers
    /// gathering before they lead wait here: a commit joining never makes a committer that
    /// waits for a sync in flight done or its leader, so those sleep through it on `landed`.
    /// (One condvar for both woke every waiter of the sync in flight at every commit, the
    /// bulk of the futex wake-ups with 16 threads.)
    joined: Condvar,
}

impl SyncGroup {
    /// The group of a database whose last durable commit `txn` sits in meta slot `slot`.
    pub fn new(txn: TxnId, slot: PageNo) -> SyncGroup {
        SyncGroup {
            state: Mutex::new(GroupState {
                queue: Queue::new(txn, slot),
                meta_token: Dirty::new(),
            }),
            landed: Condvar::new(),
            joined: Condvar::new(),
        }
    }

    /// Wakes every waiter: a sync ended or failed, or a commit was published.
    fn wake_all(&self) {
        self.landed.notify_all();
        self.joined.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, GroupState> {
        // Nothing panics while holding this lock except through a bug; the state stays sound.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// See [`Queue::durable_ceiling`].
    pub fn durable_ceiling(&self, head: TxnId) -> TxnId {
        self.lock().queue.durable_ceiling(head)
    }

    /// Hands over the commit `snapshot`, whose pages are sealed. Called under the writer lock,
    /// so commits arrive in order. A `NoSync` commit with no sync ahead of it is written and
    /// published here; anything else is pending until [`SyncGroup::wait`].
    pub fn enqueue(
        &self,
        shared: &Shared,
        snapshot: Snapshot,
        durability: Durability,
        clean: bool,
    ) -> Result<Ticket> {
        let mut st = self.lock();
        let (ticket, write_now) = st
            .queue
            .enqueue(snapshot, durability, clean)
            .map_err(failed_sync_error)?;
        match write_now {
            // As without grouping: meta into the non-durable slot, no sync, visible now.
            Some(write) => self.write_unsynced(shared, &mut st, write)?,
            // A committer gathering before its sync takes this one along.
            None => self.joined.notify_all(),
        }
        Ok(ticket)
    }

    /// Waits until the ticket's commit is durable (Immediate) or visible (NoSync), leading a
    /// sync when none is in flight.
    ///
    /// About to lead when the last sync showed several threads committing at once, a
    /// committer first waits up to [`GATHER`] for as many commits as the last sync covered
    /// plus those that queued behind it, so one sync covers them all. Without this, groups
    /// alternate between the threads that queued during the last sync and the threads that
    /// returned from it (two threads never shared a sync). A thread alone never waits: its
    /// syncs cover one commit each, with none queued behind.
    pub fn wait(&self, shared: &Shared, ticket: Ticket) -> Result<()> {
        let mut st = self.lock();
        let gather_until = Instant::now() + GATHER;
        loop {
            let now = Instant::now();
            if now < gather_until && !st.queue.done(ticket) && st.queue.should_gather() {
                st = self
                    .joined
                    .wait_timeout(st, gather_until - now)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
                continue;
            }
            st = match st.queue.next(ticket) {
                Next::Done => return Ok(()),
                Next::Failed(failed) => return Err(failed_sync_error(failed)),
                Next::Lead(write) => self.lead(shared, st, write)?,
                Next::Wait => self.landed.wait(st).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }

    /// Writes and syncs `lead`, with the group lock released while the disk works.
    fn lead<'g>(
        &'g self,
        shared: &Shared,
        mut st: MutexGuard<'g, GroupState>,
        lead: MetaWrite,
    ) -> Result<MutexGuard<'g, GroupState>> {
        let mut token = std::mem::take(&mut st.meta_token);
        drop(st);
        let pager = &shared.store.0;
        let started = Instant::now();
        let result = write_meta(pager, &mut token, lead.slot, lead.snapshot, lead.clean)
            .and_then(|()| Ok(pager.sync()?));
        tracing::debug!(
            txn = lead.snapshot.txn,
            sync_us = started.elapsed().as_micros() as u64,
            "group sync"
        );
        let mut st = self.lock();
        st.meta_token = token;
        if let Err(e) = result {
            self.fail(shared, &mut st, &e);
            return Err(e);
        }
        shared
            .durable_txn
            .store(lead.snapshot.txn, Ordering::SeqCst);
        let (synced, follow_up) = st.queue.synced(lead);
        publish(shared, synced);
        if let Some(write) = follow_up {
            // NoSync commits that queued during the sync need no sync of their own. Their
            // failure is theirs (and poisons the database); the synced group is durable.
            let _ = self.write_unsynced(shared, &mut st, write);
        }
        self.wake_all();
        drop(st);
        shrink_if_idle(shared, lead.snapshot.high_water);
        Ok(self.lock())
    }

    /// Writes a NoSync meta (no sync ahead of it) and publishes it.
    fn write_unsynced(&self, shared: &Shared, st: &mut GroupState, write: MetaWrite) -> Result<()> {
        let GroupState { queue, meta_token } = st;
        let pager = &shared.store.0;
        match write_meta(pager, meta_token, write.slot, write.snapshot, write.clean) {
            Ok(()) => {
                publish(shared, queue.written(write));
                self.wake_all();
                Ok(())
            }
            Err(e) => {
                self.fail(shared, st, &e);
                Err(e)
            }
        }
    }

    /// Pages or a meta may be half-written: fail everyone waiting, refuse further writes.
    fn fail(&self, shared: &Shared, st: &mut GroupState, e: &Error) {
        shared.broken.store(true, Ordering::SeqCst);
        st.queue.failed(FailedSync {
            kind: io_kind(e),
            message: e.to_string(),
        });
        self.wake_all();
    }
}

/// Makes `snapshot` what new readers see; under the group lock, in commit order (the queue
/// checks the order).
fn publish(shared: &Shared, snapshot: Snapshot) {
    shared.current.store(Arc::new(snapshot));
    shared.current_txn.store(snapshot.txn, Ordering::SeqCst);
}

/// The error every commit of a failed group gets: the sync's own kind and message.
fn failed_sync_error(failed: FailedSync) -> Error {
    Error::Io {
        op: "group commit sync",
        source: std::io::Error::new(failed.kind, failed.message),
    }
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
