//! `nevar dump`: every tree (or one) to stdout in the portable text format.

use std::io::BufWriter;
use std::path::Path;

use crate::common::{CliResult, Outcome, open_read_only};
use crate::dump_format::write_dump;

pub fn run(file: &Path, tree: Option<String>) -> CliResult {
    let db = open_read_only(file)?;
    let read = db.begin_read()?;
    let names = match tree {
        Some(name) => vec![name],
        None => read.tree_names()?,
    };
    write_dump(&read, &names, &mut BufWriter::new(std::io::stdout().lock()))?;
    Ok(Outcome::Done)
}
