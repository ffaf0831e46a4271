//! What every command shares: its result type and how it opens a database file.

use std::path::Path;

use nevar::{Database, Options};

use crate::dump_format::DumpError;

/// Why a command failed: printed as one line.
#[derive(Debug)]
pub struct Failure(pub String);

impl From<nevar::Error> for Failure {
    fn from(e: nevar::Error) -> Self {
        Failure(e.to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure(e.to_string())
    }
}

impl From<DumpError> for Failure {
    fn from(e: DumpError) -> Self {
        Failure(e.to_string())
    }
}

/// What a command reports besides success: `check` finding problems, `del` a missing key.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Failed,
}

/// The result of a command.
pub type CliResult = Result<Outcome, Failure>;

/// Opens an existing database file; a missing or empty file is an error, not a new database.
pub fn open_existing(path: &Path, options: Options) -> Result<Database, Failure> {
    let context = |why: String| Failure(format!("{}: {why}", path.display()));
    let meta = std::fs::metadata(path).map_err(|e| context(e.to_string()))?;
    if !meta.is_file() {
        return Err(context("not a regular file".into()));
    }
    if meta.len() == 0 {
        return Err(context(nevar::Error::NotADatabase.to_string()));
    }
    options.open(path).map_err(|e| context(e.to_string()))
}

pub fn open_read_only(path: &Path) -> Result<Database, Failure> {
    open_existing(path, Options::new().read_only(true))
}

/// A key or value argument: UTF-8 as given, or hex.
pub fn decode(arg: &str, hex: bool, what: &str) -> Result<Vec<u8>, Failure> {
    if hex {
        hex::decode(arg).map_err(|e| Failure(format!("{what} is not hex: {e}")))
    } else {
        Ok(arg.as_bytes().to_vec())
    }
}
