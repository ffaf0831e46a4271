//! `nevar`: inspect, check, dump, load, copy and compact nevar databases.
//!
//! Every command that only reads opens the file read-only, so it never changes it. Errors are
//! one line on stderr and exit status 1 (`check` also exits 1 when it finds problems); usage
//! errors exit 2.
#![forbid(unsafe_code)]

mod dump;
mod stat;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nevar::{Database, Options};

use crate::dump::{DumpError, DumpReader, write_dump};

#[derive(Parser)]
#[command(
    name = "nevar",
    version,
    about = "Inspect, check, dump, load and copy nevar databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Page size, file size, used, free and pending-free pages, readers, and per-tree depth,
    /// pages, entries and average fill.
    #[command(
        after_help = "Example:\n  nevar stat data.nevar\n  nevar stat data.nevar --tree users --json"
    )]
    Stat {
        /// The database file.
        file: PathBuf,
        /// Report only this tree.
        #[arg(long)]
        tree: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check every page and tree. Exits 0 when clean, 1 with each problem and its page.
    #[command(after_help = "Example:\n  nevar check data.nevar && echo clean")]
    Check {
        /// The database file.
        file: PathBuf,
    },
    /// List the trees with their entry counts.
    #[command(after_help = "Example:\n  nevar trees data.nevar")]
    Trees {
        /// The database file.
        file: PathBuf,
    },
    /// Write every tree (or one) to stdout in the portable text format.
    #[command(
        after_help = "Example:\n  nevar dump data.nevar --tree users > users.dump\n\n\
                            The format is described in docs/dump-format.md."
    )]
    Dump {
        /// The database file.
        file: PathBuf,
        /// Dump only this tree.
        #[arg(long)]
        tree: Option<String>,
    },
    /// Read a dump from stdin into FILE (created if missing) in one atomic transaction.
    #[command(
        after_help = "Example:\n  nevar dump old.nevar | nevar load new.nevar\n  \
                            nevar load new.nevar --tree people < users.dump\n\n\
                            Sorted input (as dump writes it) fills pages completely."
    )]
    Load {
        /// The database file.
        file: PathBuf,
        /// Load the dump's single tree under this name instead of its own.
        #[arg(long)]
        tree: Option<String>,
    },
    /// Copy the database to DST, a new file, as of its last commit.
    #[command(after_help = "Example:\n  nevar copy data.nevar backup.nevar --compact")]
    Copy {
        /// The database file.
        src: PathBuf,
        /// The new file.
        dst: PathBuf,
        /// Rewrite every tree with full pages and no free pages (smaller, slower).
        #[arg(long)]
        compact: bool,
    },
    /// Compact FILE in place: a compacting copy renamed over it, atomically.
    #[command(after_help = "Example:\n  nevar compact data.nevar")]
    Compact {
        /// The database file.
        file: PathBuf,
    },
    /// Print the value of KEY in TREE.
    #[command(after_help = "Example:\n  nevar get data.nevar users alice\n  \
                            nevar get data.nevar users 616c696365 --hex")]
    Get {
        /// The database file.
        file: PathBuf,
        /// The tree.
        tree: String,
        /// The key, as UTF-8 (or hex with --hex).
        key: String,
        /// Keys are given and values printed as hex.
        #[arg(long)]
        hex: bool,
    },
    /// Set KEY to VALUE in TREE (created if missing) and commit durably.
    #[command(after_help = "Example:\n  nevar put data.nevar users alice admin")]
    Put {
        /// The database file.
        file: PathBuf,
        /// The tree.
        tree: String,
        /// The key, as UTF-8 (or hex with --hex).
        key: String,
        /// The value, as UTF-8 (or hex with --hex).
        value: String,
        /// Key and value are given as hex.
        #[arg(long)]
        hex: bool,
    },
    /// Remove KEY from TREE and commit durably; exits 1 when the key is missing.
    #[command(after_help = "Example:\n  nevar del data.nevar users alice")]
    Del {
        /// The database file.
        file: PathBuf,
        /// The tree.
        tree: String,
        /// The key, as UTF-8 (or hex with --hex).
        key: String,
        /// The key is given as hex.
        #[arg(long)]
        hex: bool,
    },
}

/// Why a command failed: printed as one line.
#[derive(Debug)]
struct Failure(String);

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
enum Outcome {
    Done,
    Failed,
}

type CliResult = Result<Outcome, Failure>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(Outcome::Done) => ExitCode::SUCCESS,
        Ok(Outcome::Failed) => ExitCode::FAILURE,
        Err(Failure(why)) => {
            eprintln!("nevar: {why}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> CliResult {
    match command {
        Command::Stat { file, tree, json } => {
            let db = open_read_only(&file)?;
            let (stats, trees) = stat::gather(&db, tree.as_deref())?;
            if json {
                println!("{:#}", stat::json(&stats, &trees));
            } else {
                print!("{}", stat::text(&stats, &trees));
            }
            Ok(Outcome::Done)
        }
        Command::Check { file } => check(&file),
        Command::Trees { file } => {
            let db = open_read_only(&file)?;
            let read = db.begin_read()?;
            for name in read.tree_names()? {
                println!("{name}\t{}", read.open_tree(&name)?.len()?);
            }
            Ok(Outcome::Done)
        }
        Command::Dump { file, tree } => {
            let db = open_read_only(&file)?;
            let read = db.begin_read()?;
            let names = match tree {
                Some(name) => vec![name],
                None => read.tree_names()?,
            };
            write_dump(&read, &names, &mut BufWriter::new(std::io::stdout().lock()))?;
            Ok(Outcome::Done)
        }
        Command::Load { file, tree } => load(&file, tree.as_deref()),
        Command::Copy { src, dst, compact } => {
            let db = open_read_only(&src)?;
            db.copy_to(&dst, compact)
                .map_err(|e| Failure(format!("{}: {e}", dst.display())))?;
            Ok(Outcome::Done)
        }
        Command::Compact { file } => {
            let mut db = open_existing(&file, Options::new())?;
            let before = db.stats()?.file_size;
            db.compact()?;
            let after = db.stats()?.file_size;
            eprintln!("compacted {}: {before} -> {after} bytes", file.display());
            Ok(Outcome::Done)
        }
        Command::Get {
            file,
            tree,
            key,
            hex,
        } => {
            let key = decode(&key, hex, "key")?;
            let db = open_read_only(&file)?;
            let read = db.begin_read()?;
            let Some(value) = read.open_tree(&tree)?.get(&key)? else {
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
        Command::Put {
            file,
            tree,
            key,
            value,
            hex,
        } => {
            let (key, value) = (decode(&key, hex, "key")?, decode(&value, hex, "value")?);
            let db = open_existing(&file, Options::new())?;
            let mut w = db.begin_write()?;
            w.open_tree(&tree)?.insert(&key, &value)?;
            w.commit()?;
            Ok(Outcome::Done)
        }
        Command::Del {
            file,
            tree,
            key,
            hex,
        } => {
            let key = decode(&key, hex, "key")?;
            let db = open_existing(&file, Options::new())?;
            // Look first, so a missing tree is an error and not created by the write.
            db.begin_read()?.open_tree(&tree)?;
            let mut w = db.begin_write()?;
            if !w.open_tree(&tree)?.remove(&key)? {
                eprintln!("nevar: key not found");
                return Ok(Outcome::Failed);
            }
            w.commit()?;
            Ok(Outcome::Done)
        }
    }
}

/// Opens an existing database file; a missing or empty file is an error, not a new database.
fn open_existing(path: &Path, options: Options) -> Result<Database, Failure> {
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

fn open_read_only(path: &Path) -> Result<Database, Failure> {
    open_existing(path, Options::new().read_only(true))
}

/// A key or value argument: UTF-8 as given, or hex.
fn decode(arg: &str, hex: bool, what: &str) -> Result<Vec<u8>, Failure> {
    if hex {
        hex::decode(arg).map_err(|e| Failure(format!("{what} is not hex: {e}")))
    } else {
        Ok(arg.as_bytes().to_vec())
    }
}

/// Files at least this large get a progress bar (on a terminal).
const PROGRESS_THRESHOLD: u64 = 64 << 20;

fn check(path: &Path) -> CliResult {
    let db = open_read_only(path)?;
    let size = std::fs::metadata(path)?.len();
    let bar = (std::io::stderr().is_terminal() && size >= PROGRESS_THRESHOLD).then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("checking {bar:40} {pos}/{len} pages ({eta})")
                .expect("a valid template"),
        );
        bar
    });
    let report = db.check_with_progress(|done, total| {
        if let Some(bar) = &bar {
            bar.set_length(total);
            bar.set_position(done);
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if report.is_clean() {
        println!(
            "clean: txn {}, {} pages, {} trees",
            report.txn, report.pages, report.trees
        );
        return Ok(Outcome::Done);
    }
    for problem in &report.problems {
        println!("page {}: {}", problem.page, problem.what);
    }
    println!(
        "{} problems in txn {} ({} pages, {} trees)",
        report.problems.len(),
        report.txn,
        report.pages,
        report.trees
    );
    Ok(Outcome::Failed)
}

/// `nevar load`: the whole dump in one write transaction, so a bad line loads nothing. A file
/// created for the load is removed again when the load fails.
fn load(path: &Path, rename: Option<&str>) -> CliResult {
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
