//! Repository chores. `cargo xtask bench [ARGS]` builds and runs the comparative benchmark
//! in release mode (`cargo xtask bench --help` lists its arguments).

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("bench") => {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args([
                    "run",
                    "--release",
                    "--quiet",
                    "--package",
                    "nevar-bench",
                    "--",
                ])
                .args(args)
                .status()
                .expect("failed to run cargo");
            if status.success() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        _ => {
            eprintln!(
                "usage: cargo xtask bench [--n N] [--engines nevar,lmdb,redb] [--phases ...]"
            );
            ExitCode::FAILURE
        }
    }
}
