//! `nevar compact`: a compacting copy renamed over the file, atomically.

use std::path::Path;

use nevar::Options;

use crate::common::{CliResult, Outcome, open_existing};

pub fn run(file: &Path) -> CliResult {
    let mut db = open_existing(file, Options::new())?;
    let before = db.stats()?.file_size;
    db.compact()?;
    let after = db.stats()?.file_size;
    eprintln!("compacted {}: {before} -> {after} bytes", file.display());
    Ok(Outcome::Done)
}
