//! The pager's behaviour, run over both backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use nevar_pager::*;

const PS: usize = 4096;

fn backends() -> Vec<(&'static str, Box<dyn Storage>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let file = FileStorage::open(&dir.path().join("db")).unwrap();
    vec![
        ("file", Box::new(file), Some(dir)),
        ("sim", Box::new(SimulatedDisk::new()), None),
    ]
}

#[test]
fn write_read_round_trip_and_bounds() {
    for (name, storage, _dir) in backends() {
        let pager = Pager::new(storage, PS, 1 << 20).unwrap();
        assert_eq!(pager.file_pages(), 0, "{name}");
        assert!(matches!(pager.page(0), Err(PagerError::OutOfBounds { .. })));
        pager.grow_to(10).unwrap();
        assert!(pager.file_pages() >= 10);
        let mut dirty = Dirty::new();
        assert!(matches!(
            pager.page_mut(&mut dirty, 3),
            Err(PagerError::NotWritable { page: 3 })
        ));
        dirty.insert(3, 1);
        pager.page_mut(&mut dirty, 3).unwrap().fill(0xAB);
        assert!(pager.page(3).unwrap().iter().all(|&b| b == 0xAB), "{name}");
        assert!(pager.page(2).unwrap().iter().all(|&b| b == 0), "{name}");
        let end = pager.file_pages();
        assert!(matches!(
            pager.page(end),
            Err(PagerError::OutOfBounds { .. })
        ));
        assert!(matches!(
            pager.run(u64::MAX, 2),
            Err(PagerError::OutOfBounds { .. })
        ));
    }
}

#[test]
fn runs_never_straddle_segments() {
    for (_, storage, _dir) in backends() {
        let pager = Pager::new(storage, PS, 1 << 20).unwrap();
        let seg0_pages = (1 << 20) / PS as u64;
        assert_eq!(pager.segment_end(0), seg0_pages);
        assert_eq!(pager.segment_end(seg0_pages), 3 * seg0_pages);
        pager.grow_to(3 * seg0_pages).unwrap();
        assert!(matches!(
            pager.run(seg0_pages - 1, 2),
            Err(PagerError::StraddlesSegment { .. })
        ));
        assert_eq!(
            pager.run(seg0_pages, 2 * seg0_pages).unwrap().len(),
            2 << 20
        );
    }
}

#[test]
fn sync_counts_and_persists_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let pager = Pager::new(Box::new(FileStorage::open(&path).unwrap()), PS, 1 << 20).unwrap();
        pager.grow_to(4).unwrap();
        let mut dirty = Dirty::new();
        dirty.insert(1, 1);
        pager.page_mut(&mut dirty, 1).unwrap()[..5].copy_from_slice(b"hello");
        pager.sync().unwrap();
        pager.sync().unwrap();
        assert_eq!(pager.stats().syncs, 2);
    }
    let pager = Pager::new(Box::new(FileStorage::open(&path).unwrap()), PS, 1 << 20).unwrap();
    assert_eq!(&pager.page(1).unwrap()[..5], b"hello");
}

/// Grows the mapped space from one page to over 1 GiB while a reader thread keeps reading
/// slices taken from segment 0 before growth began: they stay valid and unchanged.
#[test]
fn growth_to_a_gibibyte_keeps_old_slices_valid() {
    for (name, storage, _dir) in backends() {
        let pager = Arc::new(Pager::new(storage, PS, 1 << 20).unwrap());
        pager.grow_to(1).unwrap();
        let mut dirty = Dirty::new();
        dirty.insert(0, 1);
        pager.page_mut(&mut dirty, 0).unwrap().fill(0x5A);
        let done = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicU64::new(0));
        let reader = {
            let (pager, done, reads) = (Arc::clone(&pager), Arc::clone(&done), Arc::clone(&reads));
            std::thread::spawn(move || {
                let held = pager.page(0).unwrap();
                while !done.load(Ordering::Acquire) {
                    assert!(held.iter().all(|&b| b == 0x5A));
                    assert_eq!(pager.page(0).unwrap().as_ptr(), held.as_ptr());
                    reads.fetch_add(1, Ordering::Release);
                }
            })
        };
        let mut pages = 1u64;
        while pages * (PS as u64) < (1 << 30) + (1 << 20) {
            // Every growth step happens while the reader is reading: wait for its next read.
            let seen = reads.load(Ordering::Acquire);
            while reads.load(Ordering::Acquire) == seen {
                std::thread::yield_now();
            }
            pages *= 2;
            pager.grow_to(pages).unwrap();
            // Touch the last page of the new space.
            let last = pager.file_pages() - 1;
            dirty.insert(last, 1);
            pager.page_mut(&mut dirty, last).unwrap()[0] = 1;
        }
        done.store(true, Ordering::Release);
        reader.join().unwrap();
        assert!(pager.file_pages() * PS as u64 > 1 << 30);
        assert!(pager.stats().segments >= 10, "{name}: {:?}", pager.stats());
    }
}

#[test]
fn second_open_in_process_is_already_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let first = Pager::new(Box::new(FileStorage::open(&path).unwrap()), PS, 1 << 20).unwrap();
    assert!(matches!(
        FileStorage::open(&path),
        Err(PagerError::AlreadyOpen)
    ));
    first.grow_to(1).unwrap();
    assert!(first.page(0).is_ok(), "the first handle still works");
}

const CHILD_ENV: &str = "NEVAR_PAGER_CHILD_OPEN";

/// Child half of `second_open_from_another_process_is_already_open`.
#[test]
fn child_open_probe() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    match FileStorage::open(path.as_ref()) {
        Err(PagerError::AlreadyOpen) => std::process::exit(42),
        other => panic!("expected AlreadyOpen, got {:?}", other.err()),
    }
}

#[test]
fn second_open_from_another_process_is_already_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let first = Pager::new(Box::new(FileStorage::open(&path).unwrap()), PS, 1 << 20).unwrap();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_open_probe", "--nocapture"])
        .env(CHILD_ENV, &path)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(42), "child saw AlreadyOpen");
    first.grow_to(1).unwrap();
    assert!(first.page(0).is_ok());
}

#[test]
fn simulated_disk_crash_images() {
    let disk = SimulatedDisk::new();
    let pager = Pager::new(Box::new(disk.clone()), PS, 1 << 20).unwrap();
    pager.grow_to(8).unwrap();
    let mut dirty = Dirty::new();
    for p in 0..8 {
        dirty.insert(p, 1);
        pager.page_mut(&mut dirty, p).unwrap().fill(1);
    }
    pager.sync().unwrap();
    assert_eq!(disk.syncs(), 1);
    for p in 0..4 {
        pager.page_mut(&mut dirty, p).unwrap().fill(2);
    }
    let dropped = disk.crash_image(1, CrashMode::DropAll);
    assert!(dropped[..8 * PS].iter().all(|&b| b == 1));
    let kept = disk.crash_image(1, CrashMode::KeepAll);
    assert!(kept[..4 * PS].iter().all(|&b| b == 2) && kept[4 * PS..8 * PS].iter().all(|&b| b == 1));
    let mut saw_torn = false;
    for seed in 0..20 {
        let img = disk.crash_image(seed, CrashMode::Mixed);
        assert!(
            img[4 * PS..8 * PS].iter().all(|&b| b == 1),
            "synced blocks never change"
        );
        for block in img[..4 * PS].chunks(PS) {
            saw_torn |= block.contains(&1) && block.contains(&2);
            for sector in block.chunks(512) {
                assert!(
                    sector.iter().all(|&b| b == sector[0]),
                    "tears happen at sector boundaries"
                );
            }
        }
    }
    assert!(saw_torn);
    // A disk made from an image starts with that image as its durable content.
    let again = SimulatedDisk::from_image(kept.clone());
    let pager = Pager::new(Box::new(again), PS, 1 << 20).unwrap();
    assert_eq!(pager.page(0).unwrap()[0], 2);
    assert_eq!(pager.page(7).unwrap()[0], 1);
}

/// The value of the `field:` line of the mapping in `/proc/self/smaps` that contains `addr`.
fn smaps_field(addr: usize, field: &str) -> String {
    let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
    let mut inside = false;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ')
            && let Some((start, end)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            inside = (start..end).contains(&addr);
        } else if inside
            && let Some((name, value)) = line.split_once(':')
            && name == field
        {
            return value.trim().to_owned();
        }
    }
    panic!("no mapping holds {addr:#x} with a {field} line");
}

/// The `VmFlags` line of the mapping that contains `addr`.
fn vm_flags(addr: usize) -> String {
    smaps_field(addr, "VmFlags")
}

/// Kibibytes of the mapping that contains `addr` that a `field` line of smaps counts
/// (`Rss`, `Shared_Dirty`, ...).
fn smaps_kib(addr: usize, field: &str) -> u64 {
    let value = smaps_field(addr, field);
    value.trim_end_matches(" kB").parse().unwrap()
}

/// Kibibytes of the mapping that contains `addr` that are resident and dirty, shared or not.
fn dirty_kib(addr: usize) -> u64 {
    smaps_kib(addr, "Shared_Dirty") + smaps_kib(addr, "Private_Dirty")
}

/// A writable map gets no readahead (`rr` in smaps), so faults bring in page-sized page-cache
/// folios and a write through the map dirties one page, not a readahead-sized folio. A
/// read-only map keeps readahead for sequential readers.
#[test]
fn writable_maps_advise_random_access_and_read_only_maps_do_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let storage = FileStorage::open(&path).unwrap();
    storage.grow(1 << 20).unwrap();
    let writable = storage.map(0, 1 << 20).unwrap();
    let flags = vm_flags(writable.as_ptr() as usize);
    assert!(flags.split(' ').any(|f| f == "rr"), "{flags}");
    drop((writable, storage));

    let storage = FileStorage::open_read_only(&path).unwrap();
    let read_only = storage.map(0, 1 << 20).unwrap();
    let flags = vm_flags(read_only.as_ptr() as usize);
    assert!(!flags.split(' ').any(|f| f == "rr"), "{flags}");
}

/// Growing the file has the prefault thread set up the grown range's page-table entries
/// writable in one call (`MADV_POPULATE_WRITE`), so the writer's first store to each fresh page
/// takes no fault. The bytes read as zeros, and pages below the old end keep what was written
/// to them.
#[test]
fn growth_prefaults_the_grown_pages_writable() {
    let dir = tempfile::tempdir().unwrap();
    let pager = Pager::new(
        Box::new(FileStorage::open(&dir.path().join("db")).unwrap()),
        PS,
        64 << 20,
    )
    .unwrap();
    pager.grow_to(1).unwrap();
    let first = pager.file_pages();
    let mut dirty = Dirty::new();
    dirty.insert(2, 1);
    pager.page_mut(&mut dirty, 2).unwrap().fill(0x5A);
    let base = pager.page(0).unwrap().as_ptr() as usize;
    let before = dirty_kib(base);

    pager.grow_to(first + 1).unwrap();
    pager.wait_prefaulted();
    let grown = pager.file_pages() - first;
    assert!(grown >= 256, "a growth step is at least 1 MiB");
    let after = dirty_kib(base);
    assert!(
        after >= before + grown * PS as u64 / 1024,
        "grown {grown} pages, dirty resident {before} kB -> {after} kB"
    );
    assert!(pager.page(2).unwrap().iter().all(|&b| b == 0x5A));
    let fresh = pager.run(first, grown).unwrap();
    assert!(fresh.iter().all(|&b| b == 0));

    // One growth far past a step (a large value) is prefaulted whole, in step-sized jobs.
    let have = pager.file_pages();
    let jump = 4 * MAX_GROWTH / PS as u64 + 7;
    pager.grow_to(have + jump).unwrap();
    pager.wait_prefaulted();
    let jumped = dirty_kib(base);
    assert!(
        jumped >= after + jump * PS as u64 / 1024,
        "grown {jump} pages at once, dirty resident {after} kB -> {jumped} kB"
    );
}
