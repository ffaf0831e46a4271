//! What storing branch separators without their page prefix would save: builds a tree the
//! way the benchmark's bulk load does (random order, one transaction), walks every branch
//! page reachable from the tree's root and, per level, reports the pages, their fan-out, the
//! page prefix length (`prefix_len`, already kept for the key heads) and the cell bytes that
//! truncating the keyed separators by it would free (`(entries - 2) * prefix_len`: every
//! keyed separator loses the prefix, one copy is stored).
//!
//! `cargo run --release -p nevar-bench --example branch_prefix_probe -- [entries] [random|composite]`
//! (default 1000000 composite).

use nevar::Database;
use nevar_page::{
    Branch, DEFAULT_PAGE_SIZE, HEADER_LEN, Leaf, LeafValue, Meta, PageNo, SLOT_LEN, TreeRoot,
    header, tree_root_from_bytes,
};
use nevar_testkit::Rng;

/// Totals for one level of branches (level 2 is the leaves' parents).
#[derive(Default, Debug)]
struct LevelStats {
    pages: u64,
    entries: u64,
    used: u64,
    prefix_bytes: u64,
    separator_bytes: u64,
    freed: u64,
    /// Pages whose heads skip a gap.
    with_gap: u64,
    /// Runs of equal heads among the keyed separators, summed over the pages.
    head_runs: u64,
}

fn key(rng: &mut Rng, i: u64, composite: bool) -> Vec<u8> {
    if composite {
        format!(
            "org-{:04}/user-{:08}/p",
            rng.below(1000),
            i.wrapping_mul(2_654_435_761) % 100_000_000
        )
        .into_bytes()
    } else {
        (0..24).map(|_| rng.next() as u8).collect()
    }
}

fn walk(file: &[u8], page_size: usize, no: PageNo, level: u32, stats: &mut Vec<LevelStats>) {
    let page = &file[no as usize * page_size..][..page_size];
    if level == 1 {
        return;
    }
    let b = Branch::new(page, no).expect("a branch");
    let p = header(page, no).unwrap().prefix_len.get() as u64;
    let s = &mut stats[level as usize];
    s.pages += 1;
    s.entries += b.len() as u64;
    s.used += b.used() as u64;
    s.prefix_bytes += p;
    s.separator_bytes += (1..b.len())
        .map(|i| b.key(i).unwrap().len() as u64)
        .sum::<u64>();
    s.freed += (b.len() as u64).saturating_sub(2) * p;
    s.with_gap += u64::from(header(page, no).unwrap().head_gap != 0);
    let head = |i: usize| &page[HEADER_LEN + i * SLOT_LEN + 2..][..4];
    s.head_runs += (1..b.len())
        .filter(|&i| i == 1 || head(i) != head(i - 1))
        .count() as u64;
    for i in 0..b.len() {
        walk(file, page_size, b.child(i).unwrap().page, level - 1, stats);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let entries: u64 = args
        .first()
        .map_or(1_000_000, |a| a.parse().expect("a number"));
    let composite = args.get(1).is_none_or(|k| k == "composite");
    let dir = std::path::PathBuf::from("target/bench/branch_prefix_probe");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("probe.nevar");
    let _ = std::fs::remove_file(&path);
    let mut rng = Rng(0x5EED_0000_4A6E_0002);
    {
        let db = Database::open(&path).unwrap();
        let mut w = db.begin_write().unwrap();
        let mut t = w.open_tree("probe").unwrap();
        let value = [7u8; 150];
        for i in 0..entries {
            t.insert(&key(&mut rng, i, composite), &value).unwrap();
        }
        w.commit().unwrap();
    }
    let file = std::fs::read(&path).unwrap();
    let metas: Vec<Meta> = (0..2u64)
        // The probe's file has the default page size.
        .filter_map(|no| {
            let at = no as usize * DEFAULT_PAGE_SIZE;
            Meta::read(&file[at..at + DEFAULT_PAGE_SIZE], no).ok()
        })
        .collect();
    let meta = metas.iter().max_by_key(|m| m.txn_id()).expect("a meta");
    let page_size = meta.fields.page_size.get() as usize;
    let catalog = meta.fields.catalog;
    assert_eq!(catalog.depth.get(), 1, "the probe's catalog is one leaf");
    let leaf_no = catalog.root.get();
    let leaf = Leaf::new(&file[leaf_no as usize * page_size..][..page_size], leaf_no).unwrap();
    let LeafValue::Inline(value) = leaf.value(0).unwrap() else {
        panic!("an inline catalog value")
    };
    // A raw tree's catalog value is its root descriptor alone.
    let root = tree_root_from_bytes(&value[..size_of::<TreeRoot>()]).expect("a tree root");
    let depth = root.depth.get();
    let mut stats: Vec<LevelStats> = (0..=depth).map(|_| LevelStats::default()).collect();
    walk(&file, page_size, root.root.get(), depth, &mut stats);
    let usable = (page_size - HEADER_LEN) as f64;
    println!(
        "{entries} {} entries, depth {depth}, {} leaf pages",
        if composite { "composite" } else { "random" },
        root.leaf_pages.get()
    );
    println!(
        "level  pages  fan-out  fill  mean separator  mean prefix  bytes freed  head gap  mean head run"
    );
    for (level, s) in stats.iter().enumerate().skip(2).rev() {
        println!(
            "{level:>5} {:>6} {:>8.1} {:>5.0}% {:>15.1} {:>12.1} {:>11.1}% {:>8.0}% {:>14.2}",
            s.pages,
            s.entries as f64 / s.pages as f64,
            100.0 * s.used as f64 / (s.pages as f64 * usable),
            s.separator_bytes as f64 / (s.entries - s.pages).max(1) as f64,
            s.prefix_bytes as f64 / s.pages as f64,
            100.0 * s.freed as f64 / s.used.max(1) as f64,
            100.0 * s.with_gap as f64 / s.pages as f64,
            (s.entries - s.pages) as f64 / s.head_runs.max(1) as f64,
        );
    }
}
