//! `nevar check` on a good file and on a file with a flipped byte.

use super::*;

/// Page numbers of leaf pages, found by reading headers (kind byte 3 at offset 4, page
/// number at offset 8).
fn leaf_pages(bytes: &[u8], page_size: usize) -> Vec<usize> {
    (2..bytes.len() / page_size)
        .filter(|&no| {
            let page = &bytes[no * page_size..(no + 1) * page_size];
            page[4] == 3 && u64::from_le_bytes(page[8..16].try_into().unwrap()) == no as u64
        })
        .collect()
}

#[test]
fn check_is_clean_on_a_good_file_and_names_the_page_of_a_flipped_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (path, _) = prepare(dir.path());
    let out = nevar(&["check", s(&path)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).starts_with("clean: "));

    let mut bytes = std::fs::read(&path).unwrap();
    let leaf = *leaf_pages(&bytes, 4096).last().expect("a leaf page");
    bytes[leaf * 4096 + 4000] ^= 0x20;
    std::fs::write(&path, &bytes).unwrap();
    let out = nevar(&["check", s(&path)]);
    assert_eq!(out.status.code(), Some(1));
    let report = text(&out.stdout);
    assert!(report.contains(&format!("page {leaf}: ")), "{report}");
    assert!(report.contains("checksum"), "{report}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "check changed the file"
    );
}
