//! Every accessor fed random or mutated bytes returns errors, never panics.

use nevar_page::*;
use proptest::prelude::*;

const PS: usize = 4096;

/// Runs every read accessor over `page` as page `no`, touching every entry.
fn exercise(page: &[u8], no: PageNo) {
    if let Ok(leaf) = Leaf::new(page, no) {
        for i in 0..leaf.len() + 1 {
            let _ = leaf.key(i);
            let _ = leaf.value(i);
            let _ = leaf.entry(i);
            let _ = leaf.cell(i);
        }
        let _ = leaf.search(b"m");
        let _ = (leaf.free(), leaf.used());
    }
    if let Ok(branch) = Branch::new(page, no) {
        for i in 0..branch.len() + 1 {
            let _ = branch.key(i);
            let _ = branch.child(i);
        }
        let _ = branch.search(b"m");
    }
    let _ = Meta::read(page, no);
    let _ = verify_checksum(page, no);
    if let Ok(ov) = Overflow::new(page, no, 1, PS) {
        let _ = ov.value(u64::MAX, no);
        let _ = ov.value(100, no);
    }
    let (mut scratch_leaf, mut scratch_branch) = (page.to_vec(), page.to_vec());
    if let Ok(mut copy) = LeafMut::new(&mut scratch_leaf, no) {
        let _ = copy.remove(0);
        let _ = copy.insert(0, b"k", ValueRef::Inline(b"v"));
    }
    if let Ok(mut copy) = BranchMut::new(&mut scratch_branch, no) {
        let _ = copy.set_child(0, ChildRef { page: 1, txn: 1 });
        let _ = copy.remove(0);
    }
}

/// A valid leaf and branch to mutate.
fn valid_pages() -> Vec<Vec<u8>> {
    let mut leaf = vec![0u8; PS];
    let mut l = LeafMut::init(&mut leaf, 3, 1).unwrap();
    for i in 0..40u8 {
        assert!(l.insert(i as usize, &[b'a', i], ValueRef::Inline(&[i; 20])));
    }
    let mut branch = vec![0u8; PS];
    let mut b = BranchMut::init(&mut branch, 3, 1).unwrap();
    for i in 0..40u8 {
        let key = [b'a', i];
        assert!(b.insert(
            i as usize,
            ChildRef {
                page: 100 + i as u64,
                txn: 1
            },
            if i == 0 { &[] } else { &key }
        ));
    }
    vec![leaf, branch]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..PS), kind in 0u8..6) {
        let mut page = bytes;
        page.resize(PS, 0);
        page[4] = kind;
        page[8..16].copy_from_slice(&3u64.to_le_bytes());
        exercise(&page, 3);
        exercise(&page[..page.len() / 3], 3);
    }

    #[test]
    fn mutated_pages_never_panic(which in 0usize..2, flips in proptest::collection::vec((0usize..PS, any::<u8>()), 1..12)) {
        let mut page = valid_pages().swap_remove(which);
        for (at, byte) in flips {
            page[at] = byte;
        }
        exercise(&page, 3);
    }
}
