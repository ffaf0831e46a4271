//! `nevar`: inspect, check, dump, load, copy and compact nevar databases.
//!
//! Every command that only reads opens the file read-only, so it never changes it. Errors are
//! one line on stderr and exit status 1 (`check` also exits 1 when it finds problems); usage
//! errors exit 2.
#![forbid(unsafe_code)]

mod commands;
mod common;
mod dump_format;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::*;
use crate::common::{CliResult, Failure, Outcome};

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
    #[command(after_help = "Example:\n  nevar check data.nevar && echo clean\n  \
                            nevar check data.nevar --repair\n\n\
                            --repair fixes only leaked and doubly-free pages, by rebuilding the\n\
                            free-page index from what the trees reach (one durable commit). Any\n\
                            other damage is reported and the file is left as it is.")]
    Check {
        /// The database file.
        file: PathBuf,
        /// Rebuild the free-page index when it is all that is wrong.
        #[arg(long)]
        repair: bool,
    },
    /// Decode one page: its kind, writer txn, whether its checksum holds, and its cells.
    #[command(after_help = "Example:\n  nevar page data.nevar 0\n  nevar page data.nevar 17")]
    Page {
        /// The database file.
        file: PathBuf,
        /// The page number.
        number: u64,
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
        Command::Stat { file, tree, json } => stat::run(&file, tree.as_deref(), json),
        Command::Check { file, repair } => check::run(&file, repair),
        Command::Page { file, number } => page::run(&file, number),
        Command::Trees { file } => trees::run(&file),
        Command::Dump { file, tree } => dump::run(&file, tree),
        Command::Load { file, tree } => load::run(&file, tree.as_deref()),
        Command::Copy { src, dst, compact } => copy::run(&src, &dst, compact),
        Command::Compact { file } => compact::run(&file),
        Command::Get {
            file,
            tree,
            key,
            hex,
        } => get::run(&file, &tree, &key, hex),
        Command::Put {
            file,
            tree,
            key,
            value,
            hex,
        } => put::run(&file, &tree, &key, &value, hex),
        Command::Del {
            file,
            tree,
            key,
            hex,
        } => del::run(&file, &tree, &key, hex),
    }
}
