//! A background thread that prefaults each growth step writable while the writer goes on.
//!
//! Why: a writer copies pages into fresh pages at the file's end (a bulk load takes nearly all
//! of its pages there, a large removal most of them), and the first store to each fresh page
//! costs the kernel a page-cache folio, its zeroing, `page_mkwrite` and the page-table entry.
//! Done in the writer (a fault trap per page, or one `MADV_POPULATE_WRITE` per growth step)
//! that was the kernel's whole share of a bulk load. Handed to this thread, it runs on another
//! core while the writer fills the first pages of the step: the populate takes about 2.4 us a
//! page (perf of a 1M-entry removal, 14% of its time in the writer's `madvise`), the writer
//! 15-20 us to fill or copy one, so after its first pages the writer finds every page ready
//! (`docs/performance.md`, "Growth prefaults in the background").
//!
//! The cost is the one the writer's own prefault had: the zeroed pages are dirty, so a sync
//! after a growth step writes the whole step (at most `MAX_GROWTH`, 2 MiB) once, where faults
//! would have dirtied only the pages used; durable commits, which rarely grow the file, did not
//! move (`docs/performance.md`).
//!
//! Soundness does not depend on timing: the advice changes no byte, a page the writer reaches
//! first simply faults as it would without the advice, and the mappings a job names stay alive
//! (the job holds its region) until the job has run or been dropped. The thread starts at the
//! first job, so a read-only or never-growing database starts none, and it is joined when the
//! pager drops.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use crate::storage::Region;

/// The most bytes one job prefaults: one growth step at most, however large a growth (a
/// multi-gigabyte value grows the file at once) is cut into jobs of this size.
pub(crate) const MAX_JOB: usize = crate::pager::MAX_GROWTH as usize;

/// Bytes of one region to prefault writable: at most [`MAX_JOB`], so that dropping the pager
/// waits for no more than that.
pub(crate) struct PrefaultJob {
    /// The mapping; held so it outlives the job.
    pub region: Arc<dyn Region>,
    /// Offset of the first byte inside the mapping.
    pub offset: usize,
    /// Bytes to prefault (all of them inside the storage's length when submitted).
    pub len: usize,
}

/// The queue between the pager and its prefault thread.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<PrefaultJob>,
    /// A job has been taken off `jobs` and is running.
    running: bool,
    /// The pager is dropping: the thread ends after the job it is running, if any; the jobs
    /// still queued are dropped unrun (nobody will write their pages through this pager).
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when a job arrives, when one finishes, and on close.
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().expect("prefault queue lock")
    }
}

/// Runs [`PrefaultJob`]s in order on a thread of its own.
#[derive(Default)]
pub(crate) struct Prefaulter {
    shared: Arc<Shared>,
    /// The thread, once the first job started it.
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl Prefaulter {
    /// Queues `job` and returns at once. If the thread cannot be started (the system is out of
    /// threads) the job runs here instead, as it did before there was a thread.
    pub fn submit(&self, job: PrefaultJob) {
        let mut worker = self.worker.lock().expect("prefault worker lock");
        if worker.is_none() {
            let shared = Arc::clone(&self.shared);
            match std::thread::Builder::new()
                .name("nevar-prefault".into())
                .spawn(move || work(&shared))
            {
                Ok(handle) => *worker = Some(handle),
                Err(e) => {
                    tracing::debug!(error = %e, "no prefault thread; prefaulting inline");
                    job.region.prefault_writable(job.offset, job.len);
                    return;
                }
            }
        }
        self.shared.lock().jobs.push_back(job);
        self.shared.changed.notify_all();
    }

    /// Blocks until every job submitted so far has run.
    pub fn wait_idle(&self) {
        let mut queue = self.shared.lock();
        while !queue.jobs.is_empty() || queue.running {
            queue = self
                .shared
                .changed
                .wait(queue)
                .expect("prefault queue lock");
        }
    }
}

impl Drop for Prefaulter {
    /// Closes the queue and joins the thread, which ends after the job it is running (at most
    /// [`MAX_JOB`] bytes), so no thread outlives the pager that started it.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.changed.notify_all();
        let worker = self.worker.get_mut().map(Option::take);
        if let Ok(Some(handle)) = worker {
            // A panic in the thread (a poisoned lock) has nothing left to clean up.
            let _ = handle.join();
        }
    }
}

/// The thread: takes jobs in order until the queue is closed.
fn work(shared: &Shared) {
    let mut queue = shared.lock();
    loop {
        if queue.closed {
            queue.jobs.clear();
            shared.changed.notify_all();
            return;
        }
        if let Some(job) = queue.jobs.pop_front() {
            queue.running = true;
            drop(queue);
            job.region.prefault_writable(job.offset, job.len);
            drop(job);
            queue = shared.lock();
            queue.running = false;
            shared.changed.notify_all();
        } else {
            queue = shared.changed.wait(queue).expect("prefault queue lock");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// A region that records the prefaults it was given, slowly, so jobs queue up behind it.
    struct Recorder {
        bytes: Box<[u8]>,
        done: Mutex<Vec<usize>>,
        threads: Mutex<Vec<String>>,
        running: AtomicUsize,
    }

    // SAFETY: `bytes` is one heap allocation that lives as long as the recorder and is never
    // touched through `as_ptr` in these tests.
    unsafe impl Region for Recorder {
        fn as_ptr(&self) -> *mut u8 {
            self.bytes.as_ptr().cast_mut()
        }
        fn len(&self) -> usize {
            self.bytes.len()
        }
        fn prefault_writable(&self, offset: usize, _len: usize) {
            assert_eq!(
                self.running.fetch_add(1, Ordering::SeqCst),
                0,
                "jobs overlap"
            );
            std::thread::sleep(Duration::from_millis(50));
            let name = std::thread::current().name().unwrap_or("").to_owned();
            self.threads.lock().unwrap().push(name);
            self.done.lock().unwrap().push(offset);
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
        fn prefaults(&self) -> bool {
            true
        }
    }

    fn recorder() -> Arc<Recorder> {
        Arc::new(Recorder {
            bytes: vec![0; 64].into_boxed_slice(),
            done: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            running: AtomicUsize::new(0),
        })
    }

    fn submit_offsets(prefaulter: &Prefaulter, region: &Arc<Recorder>, offsets: &[usize]) {
        for &offset in offsets {
            prefaulter.submit(PrefaultJob {
                region: Arc::clone(region) as Arc<dyn Region>,
                offset,
                len: 1,
            });
        }
    }

    #[test]
    fn jobs_run_in_order_on_the_prefault_thread_and_wait_idle_waits_for_all() {
        let region = recorder();
        let prefaulter = Prefaulter::default();
        submit_offsets(&prefaulter, &region, &[0, 8, 16, 24]);
        prefaulter.wait_idle();
        assert_eq!(*region.done.lock().unwrap(), [0, 8, 16, 24]);
        assert!(
            region
                .threads
                .lock()
                .unwrap()
                .iter()
                .all(|t| t == "nevar-prefault"),
            "{:?}",
            region.threads.lock().unwrap()
        );
        submit_offsets(&prefaulter, &region, &[32]);
        prefaulter.wait_idle();
        assert_eq!(
            region.done.lock().unwrap().len(),
            5,
            "the thread serves later jobs too"
        );
    }

    #[test]
    fn drop_ends_the_running_job_drops_the_queued_ones_and_joins() {
        let region = recorder();
        let prefaulter = Prefaulter::default();
        submit_offsets(&prefaulter, &region, &[0, 8, 16, 24, 32, 40]);
        drop(prefaulter);
        // Each job takes 50 ms and the six were queued in microseconds, so the thread was
        // running at most the first when the queue closed.
        let done = region.done.lock().unwrap().len();
        assert!(done <= 1, "{done} jobs ran after the pager dropped");
        assert_eq!(region.running.load(Ordering::SeqCst), 0, "a job still runs");
        assert_eq!(
            Arc::strong_count(&region),
            1,
            "a job still holds the region"
        );
    }

    #[test]
    fn a_prefaulter_without_jobs_starts_no_thread() {
        let prefaulter = Prefaulter::default();
        prefaulter.wait_idle();
        assert!(prefaulter.worker.lock().unwrap().is_none());
    }
}
