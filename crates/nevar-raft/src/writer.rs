//! The one thread that writes.
//!
//! nevar has one writer at a time, and openraft drives the log and the state machine from
//! separate tasks. Every write IO therefore becomes a job on this dedicated thread, which runs
//! jobs one at a time in the order they were sent: openraft's rule that write IOs apply in
//! issue order (a vote before the append after it) holds by construction, and no `WriteTxn`
//! ever lives across an `.await` or blocks a runtime worker. `spawn_blocking` would not do:
//! two blocking tasks run concurrently, so two writes could reach `begin_write` in either
//! order.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;

use nevar::Database;

use openraft::{ErrorSubject, ErrorVerb, StorageError};

use crate::error::{WriterGone, storage_error};

type Job = Box<dyn FnOnce(&Database) + Send>;

/// A handle on the writer thread; dropping the last one stops it once its queue is empty.
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl Writer {
    /// Starts the thread writing to `db`.
    pub fn spawn(db: Arc<Database>) -> Writer {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("nevar-raft-writer".into())
            .spawn(move || {
                for job in queue {
                    job(&db);
                }
            })
            .expect("spawning the writer thread");
        Writer {
            jobs: Some(jobs),
            thread: Some(thread),
        }
    }

    /// Runs `job` on the writer thread after every job sent before it, and waits (without
    /// blocking the runtime) for its result.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&Database) -> Result<R, StorageError<u64>> + Send + 'static,
    ) -> Result<R, StorageError<u64>> {
        let gone = || storage_error(ErrorSubject::Store, ErrorVerb::Write, &WriterGone);
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |db| {
            // The caller may have gone away; the write happened all the same.
            let _ = done.send(job(db));
        });
        self.jobs
            .as_ref()
            .expect("jobs are open until drop")
            .send(job)
            .map_err(|_| gone())?;
        result.await.map_err(|_| gone())?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
