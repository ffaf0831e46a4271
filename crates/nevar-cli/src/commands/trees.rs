//! `nevar trees`: each tree's name and entry count, and for a typed tree the key and value
//! type names the catalog records.

use std::path::Path;

use crate::common::{CliResult, Outcome, open_read_only};

pub fn run(file: &Path) -> CliResult {
    let db = open_read_only(file)?;
    for tree in db.stats()?.trees {
        match tree.types {
            Some(types) => println!("{}\t{}\t{types}", tree.name, tree.entries),
            None => println!("{}\t{}", tree.name, tree.entries),
        }
    }
    Ok(Outcome::Done)
}
