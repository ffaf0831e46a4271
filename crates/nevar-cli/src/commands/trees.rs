//! `nevar trees`: each tree's name and entry count.

use std::path::Path;

use crate::common::{CliResult, Outcome, open_read_only};

pub fn run(file: &Path) -> CliResult {
    let db = open_read_only(file)?;
    let read = db.begin_read()?;
    for name in read.tree_names()? {
        println!("{name}\t{}", read.open_tree(&name)?.len()?);
    }
    Ok(Outcome::Done)
}
