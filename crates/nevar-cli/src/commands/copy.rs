//! `nevar copy`: a hot backup of the last commit into a new file, optionally compacted.

use std::path::Path;

use crate::common::{CliResult, Failure, Outcome, open_read_only};

pub fn run(src: &Path, dst: &Path, compact: bool) -> CliResult {
    let db = open_read_only(src)?;
    db.copy_to(dst, compact)
        .map_err(|e| Failure(format!("{}: {e}", dst.display())))?;
    Ok(Outcome::Done)
}
