//! `nevar put`: set one key, durably.

use std::path::Path;

use nevar::Options;

use crate::common::{CliResult, Outcome, decode, open_existing};

pub fn run(file: &Path, tree: &str, key: &str, value: &str, hex: bool) -> CliResult {
    let (key, value) = (decode(key, hex, "key")?, decode(value, hex, "value")?);
    let db = open_existing(file, Options::new())?;
    let mut w = db.begin_write()?;
    w.open_tree(tree)?.insert(&key, &value)?;
    w.commit()?;
    Ok(Outcome::Done)
}
