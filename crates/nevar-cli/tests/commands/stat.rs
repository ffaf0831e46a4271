//! `nevar stat`, `nevar trees` and `nevar get`.

use super::*;

#[test]
fn stat_trees_and_get_on_a_prepared_file() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    let before = std::fs::read(&path).unwrap();

    let out = nevar(&["stat", s(&path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("page size       4096 bytes"), "{report}");
    assert!(
        report.contains("tree \"events\"\n  entries       2000"),
        "{report}"
    );
    assert!(
        report.contains("tree \"users\"\n  entries       3"),
        "{report}"
    );

    let out = nevar(&["stat", s(&path), "--tree", "events", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trees = json["trees"].as_array().unwrap();
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0]["name"], "events");
    assert_eq!(trees[0]["entries"], 2000);
    assert!(trees[0]["overflow_pages"].as_u64().unwrap() >= 4 * 3);
    let fill = trees[0]["average_fill"].as_f64().unwrap();
    assert!(fill > 0.25 && fill <= 1.0, "fill {fill}");
    assert_eq!(json["page_size"], 4096);
    assert!(json["used_pages"].as_u64().unwrap() <= json["high_water"].as_u64().unwrap());

    let out = nevar(&["trees", s(&path)]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "events\t2000\nusers\t3\n");

    let out = nevar(&["get", s(&path), "users", "alice"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "admin\n");
    let out = nevar(&["get", s(&path), "users", "626f62", "--hex"]);
    assert_eq!(text(&out.stdout), "726561646572\n");
    let out = nevar(&["get", s(&path), "users", "dave"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("key not found"));

    assert_eq!(
        std::fs::read(&path).unwrap(),
        before,
        "reading commands changed the file"
    );
}
