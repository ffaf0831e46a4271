//! Repository chores.
//! - `cargo xtask bench [ARGS]`: the comparative benchmark against LMDB and redb, in release
//!   mode (`cargo xtask bench --help` lists its arguments).
//! - `cargo xtask bench-raft [--writes N] [--repeat N]`: replicated writes on a three-node
//!   loopback cluster, nevar against an in-memory store (`crates/nevar-raft/examples/bench_raft.rs`).

use std::process::{Command, ExitCode};

/// Runs `cargo run --release --quiet` with `target` and passes `args` on.
fn cargo_run(target: &[&str], args: impl Iterator<Item = String>) -> ExitCode {
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["run", "--release", "--quiet"])
        .args(target)
        .arg("--")
        .args(args)
        .status()
        .expect("failed to run cargo");
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("bench") => cargo_run(&["--package", "nevar-bench"], args),
        Some("bench-raft") => cargo_run(
            &["--package", "nevar-raft", "--example", "bench_raft"],
            args,
        ),
        _ => {
            eprintln!(
                "usage: cargo xtask bench [--n N] [--engines nevar,lmdb,redb] [--phases ...]\n       cargo xtask bench-raft [--writes N] [--repeat N]"
            );
            ExitCode::FAILURE
        }
    }
}
