//! The prefault thread's life: started by the first growth of a file-backed pager, never by a
//! backend that cannot prefault, and joined when its pager drops. Its own test binary, with one
//! test, so that no other test's pager owns a thread while this one counts them.

use std::time::{Duration, Instant};

use nevar_pager::*;

const PS: usize = 4096;
const THREAD: &str = "nevar-prefault";

/// Threads of this process named like the prefault thread.
fn prefault_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == THREAD)
        .count()
}

#[test]
fn growth_starts_one_prefault_thread_per_file_pager_and_drop_joins_it() {
    assert_eq!(prefault_threads(), 0);

    let sim = Pager::new(Box::new(SimulatedDisk::new()), PS, 1 << 20).unwrap();
    sim.grow_to(2_000).unwrap();
    assert_eq!(
        prefault_threads(),
        0,
        "the simulated disk ignores the advice"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let file = Pager::new(Box::new(FileStorage::open(&path).unwrap()), PS, 1 << 20).unwrap();
    assert_eq!(prefault_threads(), 0, "no growth yet, no thread");
    let mut pages = 1;
    for _ in 0..5 {
        file.grow_to(pages).unwrap();
        pages = file.file_pages() + 1;
    }
    assert!(
        file.stats().segments > 1,
        "the steps crossed into later segments"
    );
    // The thread names itself when it starts, so count once it has run a job.
    file.wait_prefaulted();
    assert_eq!(prefault_threads(), 1, "one thread serves every step");
    drop(file);
    // Drop joins the thread (the unit tests in `prefault.rs` show it waits for the job in
    // flight); the kernel removes a joined thread's task an instant after the join returns.
    let deadline = Instant::now() + Duration::from_secs(5);
    while prefault_threads() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(prefault_threads(), 0, "the thread outlived its pager");

    // A read-only pager never grows, so it starts none.
    let read_only = Pager::new(
        Box::new(FileStorage::open_read_only(&path).unwrap()),
        PS,
        1 << 20,
    )
    .unwrap();
    assert!(read_only.file_pages() >= pages - 1);
    assert_eq!(prefault_threads(), 0);
    drop((read_only, sim));
}
