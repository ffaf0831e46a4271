//! `SimulatedDir`: a directory of [`SimulatedDisk`]s whose names, like their bytes, can be
//! lost in a power loss.
//!
//! The directory keeps two namespaces: the *volatile* one (what opens, renames and removes
//! did) and the *durable* one (what the last [`Directory::sync`] saw). A crash image keeps one
//! of the two, as a seed decides, and replaces every file by a crash image of its disk. So a
//! test sees exactly what a journaling file system may leave: a rename either happened or
//! did not, and unsynced bytes are kept, dropped or torn.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, Weak};

use crate::dir::{Access, Directory};
use crate::error::{PagerError, Result};
use crate::sim::{CrashMode, DiskOp, SimulatedDisk, SplitMix};
use crate::storage::Storage;

/// A step of a simulated directory, as a hook sees it (see [`SimulatedDir::on_op`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirOp {
    /// A storage call on the file of this name (as its disk names it).
    File(String, DiskOp),
    /// The directory is about to be synced.
    SyncDir,
    /// File `from` is about to be renamed to `to`.
    Rename(String, String),
}

type DirHook = Arc<dyn Fn(DirOp) + Send + Sync>;

#[derive(Default)]
struct DirState {
    volatile: BTreeMap<String, SimulatedDisk>,
    durable: BTreeMap<String, SimulatedDisk>,
    hook: Option<DirHook>,
}

/// A simulated directory for crash tests of creation, copies and compaction. Clones share it.
#[derive(Clone, Default)]
pub struct SimulatedDir {
    state: Arc<Mutex<DirState>>,
}

impl SimulatedDir {
    /// An empty directory.
    pub fn new() -> SimulatedDir {
        SimulatedDir::default()
    }

    /// Runs `hook` at the start of every step of the directory and of every storage call of
    /// its files, before the step acts (replacing any earlier hook).
    pub fn on_op(&self, hook: impl Fn(DirOp) + Send + Sync + 'static) {
        self.lock().hook = Some(Arc::new(hook));
    }

    /// Puts `disk` in the directory as file `name`, durably (as if synced long ago).
    pub fn insert(&self, name: &str, disk: SimulatedDisk) {
        let mut s = self.lock();
        self.watch(name, &disk);
        s.volatile.insert(name.to_owned(), disk.clone());
        s.durable.insert(name.to_owned(), disk);
    }

    /// The disk of file `name` in the volatile namespace.
    pub fn disk(&self, name: &str) -> Option<SimulatedDisk> {
        self.lock().volatile.get(name).cloned()
    }

    /// The names in the volatile namespace, sorted.
    pub fn names(&self) -> Vec<String> {
        self.lock().volatile.keys().cloned().collect()
    }

    /// What the directory would hold after losing power now: the durable or the volatile
    /// namespace, each file a crash image of its disk.
    pub fn crash_image(&self, seed: u64, mode: CrashMode) -> SimulatedDir {
        let s = self.lock();
        let mut rng = SplitMix(seed);
        let names = match mode {
            CrashMode::KeepAll => &s.volatile,
            CrashMode::DropAll => &s.durable,
            _ if rng.next().is_multiple_of(2) => &s.durable,
            _ => &s.volatile,
        };
        let image = SimulatedDir::new();
        for (i, (name, disk)) in names.iter().enumerate() {
            let bytes = disk.crash_image(seed ^ (i as u64).wrapping_mul(0x9E37), mode);
            image.insert(name, SimulatedDisk::from_image(bytes));
        }
        image
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DirState> {
        self.state.lock().expect("sim dir lock")
    }

    fn run_hook(state: &Mutex<DirState>, op: DirOp) {
        let hook = state.lock().expect("sim dir lock").hook.clone();
        if let Some(hook) = hook {
            hook(op);
        }
    }

    /// Forwards `disk`'s storage calls to the directory's hook.
    fn watch(&self, name: &str, disk: &SimulatedDisk) {
        let weak: Weak<Mutex<DirState>> = Arc::downgrade(&self.state);
        let name = name.to_owned();
        disk.on_op(move |op| {
            if let Some(state) = weak.upgrade() {
                SimulatedDir::run_hook(&state, DirOp::File(name.clone(), op));
            }
        });
    }
}

impl Directory for SimulatedDir {
    fn open(&self, name: &str, access: Access) -> Result<Box<dyn Storage>> {
        let found = self.lock().volatile.get(name).cloned();
        let disk = match (found, access) {
            (Some(disk), _) => disk,
            (None, Access::ReadOnly | Access::ReadOnlyHugePages) => {
                return Err(PagerError::Io {
                    op: "open",
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            (None, Access::ReadWrite) => {
                let disk = SimulatedDisk::new();
                self.watch(name, &disk);
                self.lock().volatile.insert(name.to_owned(), disk.clone());
                disk
            }
        };
        Ok(Box::new(disk))
    }

    fn file_len(&self, name: &str) -> Result<Option<u64>> {
        let disk = self.lock().volatile.get(name).cloned();
        disk.map(|d| d.len()).transpose()
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        SimulatedDir::run_hook(&self.state, DirOp::Rename(from.to_owned(), to.to_owned()));
        let mut s = self.lock();
        let disk = s.volatile.remove(from).ok_or_else(|| PagerError::Io {
            op: "rename",
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        s.volatile.insert(to.to_owned(), disk);
        Ok(())
    }

    fn remove(&self, name: &str) -> Result<()> {
        self.lock().volatile.remove(name);
        Ok(())
    }

    fn sync(&self) -> Result<()> {
        SimulatedDir::run_hook(&self.state, DirOp::SyncDir);
        let mut s = self.lock();
        s.durable = s.volatile.clone();
        Ok(())
    }
}
