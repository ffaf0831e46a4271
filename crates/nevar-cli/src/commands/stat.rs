//! `nevar stat`: the figures of a database, as text or JSON.

use std::path::Path;

use nevar::{Database, Stats, TreeStats};
use serde_json::{Value, json};

use crate::common::{CliResult, Outcome, open_read_only};

pub fn run(file: &Path, tree: Option<&str>, json_out: bool) -> CliResult {
    let db = open_read_only(file)?;
    let (stats, trees) = gather(&db, tree)?;
    if json_out {
        println!("{:#}", json(&stats, &trees));
    } else {
        print!("{}", text(&stats, &trees));
    }
    Ok(Outcome::Done)
}

/// One tree's figures plus its fill, which costs a walk of the tree.
pub struct TreeFigures {
    pub stats: TreeStats,
    pub fill: Option<f64>,
}

/// The figures of `db`, with only the tree `only` if given.
pub fn gather(db: &Database, only: Option<&str>) -> nevar::Result<(Stats, Vec<TreeFigures>)> {
    let stats = db.stats()?;
    if let Some(name) = only
        && !stats.trees.iter().any(|t| t.name == name)
    {
        return Err(nevar::Error::TreeNotFound(name.to_owned()));
    }
    let mut trees = Vec::new();
    for tree in stats
        .trees
        .iter()
        .filter(|t| only.is_none_or(|n| n == t.name))
    {
        trees.push(TreeFigures {
            fill: db.tree_fill(&tree.name)?,
            stats: tree.clone(),
        });
    }
    Ok((stats, trees))
}

/// Pages below the high-water mark that hold live data (metas included).
fn used_pages(s: &Stats) -> u64 {
    s.high_water
        .saturating_sub(s.free_pages)
        .saturating_sub(s.pending_free_pages)
}

/// The human-readable report.
pub fn text(s: &Stats, trees: &[TreeFigures]) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: String| out.push_str(&format!("{label:<16}{value}\n"));
    line("page size", format!("{} bytes", s.page_size));
    line(
        "file size",
        format!(
            "{} bytes ({} pages)",
            s.file_size,
            s.file_size / s.page_size as u64
        ),
    );
    line("last txn", s.txn_id.to_string());
    line("high water", format!("{} pages", s.high_water));
    line(
        "used pages",
        format!(
            "{} (branch {}, leaf {}, overflow {}, catalog and free-page tree {})",
            used_pages(s),
            s.branch_pages,
            s.leaf_pages,
            s.overflow_pages,
            s.meta_tree_pages
        ),
    );
    line("free pages", s.free_pages.to_string());
    line("pending free", s.pending_free_pages.to_string());
    line(
        "readers",
        match s.oldest_reader_age {
            Some(age) => format!("{} (oldest {age} txns behind)", s.readers),
            None => format!("{} (none open)", s.readers),
        },
    );
    line("trees", s.trees.len().to_string());
    for t in trees {
        let fill = t
            .fill
            .map_or("-".to_owned(), |f| format!("{:.1}%", f * 100.0));
        out.push_str(&format!(
            "\ntree {:?}\n  entries       {}\n  depth         {}\n  pages         \
             branch {}, leaf {}, overflow {}\n  average fill  {fill}\n",
            t.stats.name,
            t.stats.entries,
            t.stats.depth,
            t.stats.branch_pages,
            t.stats.leaf_pages,
            t.stats.overflow_pages
        ));
    }
    out
}

/// The same figures as JSON.
pub fn json(s: &Stats, trees: &[TreeFigures]) -> Value {
    let trees: Vec<Value> = trees
        .iter()
        .map(|t| {
            json!({
                "name": t.stats.name,
                "entries": t.stats.entries,
                "depth": t.stats.depth,
                "branch_pages": t.stats.branch_pages,
                "leaf_pages": t.stats.leaf_pages,
                "overflow_pages": t.stats.overflow_pages,
                "average_fill": t.fill,
            })
        })
        .collect();
    json!({
        "page_size": s.page_size,
        "file_size": s.file_size,
        "txn_id": s.txn_id,
        "high_water": s.high_water,
        "used_pages": used_pages(s),
        "free_pages": s.free_pages,
        "pending_free_pages": s.pending_free_pages,
        "branch_pages": s.branch_pages,
        "leaf_pages": s.leaf_pages,
        "overflow_pages": s.overflow_pages,
        "catalog_and_free_tree_pages": s.meta_tree_pages,
        "readers": s.readers,
        "oldest_reader_age": s.oldest_reader_age,
        "trees": trees,
    })
}
