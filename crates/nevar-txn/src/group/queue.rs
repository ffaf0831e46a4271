//! The sync group's bookkeeping, free of locks and I/O: who writes which meta when, what a
//! sync covers, what may be published. [`super::SyncGroup`] drives it under a mutex with the
//! real pager; the model check (`model.rs`) drives the same code under shuttle with a model
//! disk that asserts the commit rules.

use nevar_page::{PageNo, TxnId};

use crate::options::Durability;
use crate::snapshot::Snapshot;

/// The newest commit not yet published, standing for every commit since the last published.
#[derive(Clone, Copy)]
struct Pending {
    snapshot: Snapshot,
    /// Some commit it stands for was `Immediate`: it must be synced before it is published.
    needs_sync: bool,
    /// Mark the meta as a clean shutdown (the closing commit).
    clean: bool,
    /// Commits it stands for.
    commits: u32,
}

/// A sync that failed, kept so that every commit of its group gets an error.
#[derive(Debug, Clone)]
pub(crate) struct FailedSync {
    pub kind: std::io::ErrorKind,
    pub message: String,
}

/// A meta to write: `snapshot` into `slot`, its `durable_before` already the last durable
/// commit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MetaWrite {
    pub slot: PageNo,
    pub snapshot: Snapshot,
    pub clean: bool,
}

/// A commit handed to the group, waiting to be durable (Immediate) or published (NoSync).
#[must_use]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    pub txn: TxnId,
    pub durability: Durability,
}

/// What a waiting committer does next.
pub(crate) enum Next {
    /// Its commit is durable (or, NoSync, published).
    Done,
    /// The sync that should have covered it failed.
    Failed(FailedSync),
    /// It leads a sync: write this meta, sync, then call [`Queue::synced`] or
    /// [`Queue::failed`].
    Lead(MetaWrite),
    /// Another sync or group is ahead; wait for it to land.
    Wait,
}

/// The group's state.
pub(crate) struct Queue {
    pending: Option<Pending>,
    /// A leader is writing a meta and syncing; nobody else writes a meta meanwhile.
    syncing: bool,
    /// Meta slot holding the last durable commit.
    durable_slot: PageNo,
    /// Newest commit on stable storage.
    durable: TxnId,
    /// Newest commit published to readers.
    published: TxnId,
    failed: Option<FailedSync>,
    /// Commits the sync in flight covers.
    syncing_commits: u32,
    /// How many commits a sync may expect to cover: those the last sync covered plus those
    /// that queued while it ran, about the number of threads committing at once.
    expected: u32,
}

impl Queue {
    /// The queue of a database whose last durable commit `txn` sits in meta slot `slot`.
    pub fn new(txn: TxnId, slot: PageNo) -> Queue {
        Queue {
            pending: None,
            syncing: false,
            durable_slot: slot,
            durable: txn,
            published: txn,
            failed: None,
            syncing_commits: 0,
            expected: 1,
        }
    }

    /// A sync is in flight or a group waits for one.
    fn sync_ahead(&self) -> bool {
        self.syncing || self.pending.is_some_and(|p| p.needs_sync)
    }

    /// The newest commit that may become durable before a transaction starting now (from
    /// `head`) commits: `head` itself when a sync is in flight or queued (a group's meta
    /// covers the newest pending commit), else the last durable commit, which then cannot
    /// move until that transaction commits (only commits queue syncs, and it holds the
    /// writer lock).
    pub fn durable_ceiling(&self, head: TxnId) -> TxnId {
        if self.sync_ahead() {
            head
        } else {
            self.durable
        }
    }

    /// The meta write for `snapshot` into the slot that does not hold the last durable
    /// commit.
    fn meta_write(&self, snapshot: Snapshot, clean: bool) -> MetaWrite {
        MetaWrite {
            slot: 1 - self.durable_slot,
            snapshot: Snapshot {
                durable_before: self.durable,
                ..snapshot
            },
            clean,
        }
    }

    /// Takes the commit `snapshot`, whose pages are sealed; commits arrive in order. A
    /// `NoSync` commit with no sync ahead of it is returned to be written at once (then
    /// [`Queue::written`]); anything else becomes the pending group. After a failed sync
    /// nothing is taken: the database must be reopened.
    pub fn enqueue(
        &mut self,
        snapshot: Snapshot,
        durability: Durability,
        clean: bool,
    ) -> Result<(Ticket, Option<MetaWrite>), FailedSync> {
        if let Some(failed) = &self.failed {
            return Err(failed.clone());
        }
        let ticket = Ticket {
            txn: snapshot.txn,
            durability,
        };
        let immediate = durability == Durability::Immediate;
        if !immediate && !self.sync_ahead() {
            self.pending = None;
            return Ok((ticket, Some(self.meta_write(snapshot, clean))));
        }
        let needs_sync = immediate || self.pending.is_some_and(|p| p.needs_sync);
        let commits = self.pending.map_or(0, |p| p.commits) + 1;
        self.pending = Some(Pending {
            snapshot,
            needs_sync,
            clean,
            commits,
        });
        Ok((ticket, None))
    }

    /// A meta written without a sync (a NoSync commit): returns the snapshot to publish.
    pub fn written(&mut self, write: MetaWrite) -> Snapshot {
        self.publish(write.snapshot)
    }

    /// The ticket's commit is durable (Immediate) or published (NoSync).
    pub fn done(&self, ticket: Ticket) -> bool {
        match ticket.durability {
            Durability::Immediate => self.durable >= ticket.txn,
            Durability::NoSync => self.published >= ticket.txn,
        }
    }

    /// A committer calling [`Queue::next`] now would lead a sync, and more commits are
    /// expected to join it soon: the last sync and the commits that queued behind it
    /// outnumber what is pending now (several threads commit at once).
    pub fn should_gather(&self) -> bool {
        !self.syncing
            && self.failed.is_none()
            && self
                .pending
                .is_some_and(|p| p.needs_sync && p.commits < self.expected)
    }

    /// What the committer holding `ticket` does next; `Lead` marks the sync as in flight.
    pub fn next(&mut self, ticket: Ticket) -> Next {
        if self.done(ticket) {
            return Next::Done;
        }
        if let Some(failed) = &self.failed {
            return Next::Failed(failed.clone());
        }
        match self.pending {
            Some(p) if p.needs_sync && !self.syncing => {
                self.pending = None;
                self.syncing = true;
                self.syncing_commits = p.commits;
                Next::Lead(self.meta_write(p.snapshot, p.clean))
            }
            _ => Next::Wait,
        }
    }

    /// The leader's sync of `lead` returned: it is durable. Returns the snapshot to publish
    /// and, if NoSync commits queued during the sync, the meta to write for them without a
    /// sync (then [`Queue::written`]).
    pub fn synced(&mut self, lead: MetaWrite) -> (Snapshot, Option<MetaWrite>) {
        debug_assert!(self.syncing);
        self.syncing = false;
        self.durable_slot = lead.slot;
        self.durable = lead.snapshot.txn;
        self.expected = self.syncing_commits + self.pending.map_or(0, |p| p.commits);
        let published = self.publish(lead.snapshot);
        let follow_up = match self.pending {
            Some(p) if !p.needs_sync => {
                self.pending = None;
                Some(self.meta_write(p.snapshot, p.clean))
            }
            _ => None,
        };
        (published, follow_up)
    }

    /// A meta write or sync failed: every commit not yet durable (or published) fails.
    pub fn failed(&mut self, failure: FailedSync) {
        self.syncing = false;
        self.failed = Some(failure);
    }

    fn publish(&mut self, snapshot: Snapshot) -> Snapshot {
        debug_assert!(snapshot.txn > self.published, "publication goes forward");
        self.published = snapshot.txn;
        snapshot
    }
}
