//! `nevar load`: a dump from stdin into a database, in one transaction.

use std::path::Path;

use nevar::{Database, Options};

use crate::common::{CliResult, Failure, Outcome};
use crate::dump_format::DumpReader;

/// `nevar load`: the whole dump in one write transaction, so a bad line loads nothing. A file
/// created for the load is removed again when the load fails.
pub fn run(path: &Path, rename: Option<&str>) -> CliResult {
    let created = !path.exists();
    let result = (|| {
        let db = Options::new()
            .open(path)
            .map_err(|e| Failure(format!("{}: {e}", path.display())))?;
        load_into(&db, rename)
    })();
    if result.is_err() && created {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn load_into(db: &Database, rename: Option<&str>) -> CliResult {
    let mut reader = DumpReader::new(std::io::stdin().lock())?;
    let mut w = db.begin_write()?;
    let mut sections = 0;
    while let Some(section) = reader.next_section()? {
        sections += 1;
        if rename.is_some() && sections > 1 {
            return Err(Failure(format!(
                "dump line {}: --tree needs a dump of exactly one tree",
                reader.line_no()
            )));
        }
        let name = rename.unwrap_or(&section.tree).to_owned();
        let mut tree = w.open_tree(&name)?;
        let (mut count, mut sorted, mut previous) = (0u64, true, None::<Vec<u8>>);
        while let Some((key, value)) = reader.next_pair()? {
            tree.insert(&key, &value)
                .map_err(|e| Failure(format!("dump line {}: {e}", reader.line_no())))?;
            sorted &= previous.as_ref().is_none_or(|p| *p < key);
            previous = Some(key);
            count += 1;
        }
        if let Some(expected) = section.entries
            && expected != count
        {
            return Err(Failure(format!(
                "dump line {}: tree {name:?} declares {expected} entries but holds {count}",
                reader.line_no()
            )));
        }
        let order = if sorted { "sorted" } else { "unsorted" };
        eprintln!("loaded {count} entries into {name:?} ({order} input)");
    }
    w.commit()?;
    Ok(Outcome::Done)
}
