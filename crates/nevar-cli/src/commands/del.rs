//! `nevar del`: remove one key, durably; a missing key exits 1.

use std::path::Path;

use nevar::Options;

use crate::common::{CliResult, Outcome, decode, open_existing};

pub fn run(file: &Path, tree: &str, key: &str, hex: bool) -> CliResult {
    let key = decode(key, hex, "key")?;
    let db = open_existing(file, Options::new())?;
    // Look first, so a missing tree is an error and not created by the write.
    db.begin_read()?.open_tree(tree)?;
    let mut w = db.begin_write()?;
    if !w.open_tree(tree)?.remove(&key)? {
        eprintln!("nevar: key not found");
        return Ok(Outcome::Failed);
    }
    w.commit()?;
    Ok(Outcome::Done)
}
