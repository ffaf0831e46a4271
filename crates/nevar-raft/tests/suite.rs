//! openraft's own storage test suite, written by its authors, against this store.

use nevar_raft::{LogStore, StateMachineStore, TypeConfig};
use openraft::testing::{StoreBuilder, Suite};
use openraft::{AnyError, ErrorSubject, ErrorVerb, StorageError, StorageIOError};

/// Each store in its own temporary directory, kept alive as the suite's guard value (the
/// suite opens two at once in `transfer_snapshot`).
struct InTempDir;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, tempfile::TempDir> for InTempDir {
    async fn build(
        &self,
    ) -> Result<(tempfile::TempDir, LogStore, StateMachineStore), StorageError<u64>> {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (log, sm) = nevar_raft::open(dir.path().join("raft.nevar")).map_err(|e| {
            StorageIOError::new(ErrorSubject::Store, ErrorVerb::Read, AnyError::new(&e))
        })?;
        Ok((dir, log, sm))
    }
}

/// A plain `#[test]`: the suite builds its own runtimes.
#[test]
fn openraft_storage_suite_passes() {
    Suite::test_all(InTempDir).expect("openraft's storage suite");
}
