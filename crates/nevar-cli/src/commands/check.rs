//! `nevar check`: the full checker, with a progress bar on large files, and `--repair`.

use std::io::IsTerminal;
use std::path::Path;

use nevar::{CheckReport, Options};

use crate::common::{CliResult, Outcome, open_existing, open_read_only};

/// Files at least this large get a progress bar (on a terminal).
const PROGRESS_THRESHOLD: u64 = 64 << 20;

pub fn run(path: &Path, repair: bool) -> CliResult {
    if repair {
        return run_repair(path);
    }
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
        print_clean(&report);
        return Ok(Outcome::Done);
    }
    print_problems(&report);
    println!(
        "{} problems in txn {} ({} pages, {} trees)",
        report.problems.len(),
        report.txn,
        report.pages,
        report.trees
    );
    Ok(Outcome::Failed)
}

/// `--repair`: rebuilds the free-page index when only it is wrong, then checks again.
fn run_repair(path: &Path) -> CliResult {
    // Checked read-only first, so a file that cannot be repaired is not written at all.
    let before = open_read_only(path)?.check()?;
    if before.is_clean() {
        println!("clean: nothing to repair (txn {})", before.txn);
        return Ok(Outcome::Done);
    }
    if !before.only_free_list_problems() {
        print_problems(&before);
        println!(
            "not repaired: {} problems, some in the trees themselves; the file is unchanged",
            before.problems.len()
        );
        return Ok(Outcome::Failed);
    }
    let db = open_existing(path, Options::new())?;
    let fixed = db.rebuild_free_list()?;
    println!(
        "repaired in txn {}: {} leaked pages, {} pages free twice, {} free pages in use; \
         the free list now holds {} pages",
        fixed.txn, fixed.leaked, fixed.free_twice, fixed.free_but_used, fixed.free_pages
    );
    let after = db.check()?;
    if !after.is_clean() {
        print_problems(&after);
        return Ok(Outcome::Failed);
    }
    print_clean(&after);
    Ok(Outcome::Done)
}

fn print_clean(report: &CheckReport) {
    println!(
        "clean: txn {}, {} pages, {} trees",
        report.txn, report.pages, report.trees
    );
}

/// One line per problem, with its page.
fn print_problems(report: &CheckReport) {
    for problem in &report.problems {
        println!("page {}: {}", problem.page, problem.what);
    }
}
