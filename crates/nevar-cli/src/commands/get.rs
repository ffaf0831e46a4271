//! `nevar get`: print one value.

use std::io::Write;
use std::path::Path;

use crate::common::{CliResult, Outcome, decode, open_read_only};

pub fn run(file: &Path, tree: &str, key: &str, hex: bool) -> CliResult {
    let key = decode(key, hex, "key")?;
    let db = open_read_only(file)?;
    let read = db.begin_read()?;
    let Some(value) = read.open_tree(tree)?.get(&key)? else {
        eprintln!("nevar: key not found");
        return Ok(Outcome::Failed);
    };
    let mut out = std::io::stdout().lock();
    if hex {
        writeln!(out, "{}", hex::encode(value))?;
    } else {
        out.write_all(value)?;
        writeln!(out)?;
    }
    Ok(Outcome::Done)
}
