//! Round trips through every page kind's builder and accessor.

use nevar_page::*;

const PS: usize = DEFAULT_PAGE_SIZE;

#[test]
fn leaf_insert_search_remove_round_trip() {
    let mut page = vec![0u8; PS];
    let mut leaf = LeafMut::init(&mut page, 7, 3).unwrap();
    for (i, k) in [b"b".as_slice(), b"d", b"a", b"c"].iter().enumerate() {
        let at = leaf.view().search(k).unwrap().unwrap_err();
        assert!(leaf.insert(at, k, ValueRef::Inline(&[i as u8; 10])));
    }
    assert!(leaf.insert(
        4,
        b"e",
        ValueRef::Overflow {
            page: 99,
            txn: 2,
            len: 5000
        }
    ));
    let view = Leaf::new(&page, 7).unwrap();
    let keys: Vec<_> = (0..view.len()).map(|i| view.key(i).unwrap()).collect();
    assert_eq!(keys, [b"a", b"b", b"c", b"d", b"e"]);
    assert_eq!(view.value(0).unwrap(), LeafValue::Inline(&[2; 10]));
    assert_eq!(
        view.value(4).unwrap(),
        LeafValue::Overflow {
            page: 99,
            txn: 2,
            len: 5000
        }
    );
    assert_eq!(view.search(b"c").unwrap(), Ok(2));
    assert_eq!(view.search(b"bb").unwrap(), Err(2));

    let mut leaf = LeafMut::new(&mut page, 7).unwrap();
    let free_before = leaf.view().free();
    leaf.remove(1).unwrap();
    let view = leaf.view();
    assert_eq!(
        view.free(),
        free_before + SLOT_LEN + leaf_cell_len(1, &ValueRef::Inline(&[0; 10]))
    );
    let keys: Vec<_> = (0..view.len()).map(|i| view.key(i).unwrap()).collect();
    assert_eq!(keys, [b"a", b"c", b"d", b"e"]);
    assert_eq!(view.value(1).unwrap(), LeafValue::Inline(&[3; 10]));
}

#[test]
fn leaf_refuses_cell_that_does_not_fit() {
    let mut page = vec![0u8; PS];
    let mut leaf = LeafMut::init(&mut page, 1, 1).unwrap();
    let big = vec![1u8; 1500];
    assert!(leaf.insert(0, b"a", ValueRef::Inline(&big)));
    assert!(leaf.insert(1, b"b", ValueRef::Inline(&big)));
    let before = page.clone();
    let mut leaf = LeafMut::new(&mut page, 1).unwrap();
    assert!(!leaf.insert(2, b"c", ValueRef::Inline(&big)));
    assert_eq!(page, before, "a refused insert changes nothing");
}

#[test]
fn branch_search_routes_keys() {
    let mut page = vec![0u8; PS];
    let mut b = BranchMut::init(&mut page, 5, 9).unwrap();
    let child = |page, txn| ChildRef { page, txn };
    assert!(b.insert(0, child(10, 1), b""));
    assert!(b.insert(1, child(11, 2), b"g"));
    assert!(b.insert(2, child(12, 3), b"p"));
    b.set_child(1, child(21, 8)).unwrap();
    let view = Branch::new(&page, 5).unwrap();
    assert_eq!(view.search(b"a").unwrap(), 0);
    assert_eq!(view.search(b"g").unwrap(), 1);
    assert_eq!(view.search(b"o").unwrap(), 1);
    assert_eq!(view.search(b"z").unwrap(), 2);
    assert_eq!(view.child(1).unwrap(), child(21, 8));
    assert_eq!(view.key(2).unwrap(), b"p");
}

#[test]
fn meta_round_trip_and_damage() {
    let mut fields = MetaFields {
        magic: MAGIC,
        version: FORMAT_VERSION.into(),
        page_size: (PS as u32).into(),
        txn_id: 42.into(),
        durable_txn: 40.into(),
        high_water: 100.into(),
        flags: META_CLEAN_SHUTDOWN,
        pad: [0; 7],
        catalog: TreeRoot::default(),
        free: TreeRoot::default(),
    };
    fields.catalog.root = 17.into();
    let mut page = vec![0u8; PS];
    Meta { fields }.write(&mut page, 1).unwrap();
    let meta = Meta::read(&page, 1).unwrap();
    assert_eq!(meta.txn_id(), 42);
    assert!(meta.clean());
    assert_eq!(meta.fields.catalog.root.get(), 17);
    assert!(
        Meta::read(&page, 0).is_err(),
        "a meta read at the wrong slot is rejected"
    );
    page[100] ^= 1;
    assert!(matches!(
        Meta::read(&page, 1),
        Err(PageError::Corrupted {
            page: 1,
            what: "checksum mismatch"
        })
    ));
}

#[test]
fn checksum_detects_flips_and_overflow_run_validates() {
    let mut run = vec![0u8; 2 * PS];
    header_mut(&mut run, 30)
        .unwrap()
        .init(PageKind::Overflow, 30, 4);
    header_mut(&mut run, 30).unwrap().run_pages = 2.into();
    run[HEADER_LEN..HEADER_LEN + 5000].fill(7);
    seal(&mut run, 30).unwrap();
    verify_checksum(&run, 30).unwrap();
    let ov = Overflow::new(&run, 30, 4, PS).unwrap();
    assert_eq!(ov.value(5000, 30).unwrap(), &[7u8; 5000][..]);
    assert!(ov.value(2 * PS as u64, 30).is_err());
    assert!(
        Overflow::new(&run, 30, 5, PS).is_err(),
        "txn mismatch detected"
    );
    run[PS + 9] ^= 0x10;
    assert!(verify_checksum(&run, 30).is_err());
    assert_eq!(overflow_pages(PS as u64 - HEADER_LEN as u64, PS), 1);
    assert_eq!(overflow_pages(PS as u64 - HEADER_LEN as u64 + 1, PS), 2);
}

#[test]
fn limits_fit_two_max_cells_per_page() {
    for shift in 12..=16 {
        let l = Limits::new(1 << shift);
        assert!(2 * (l.max_inline_cell + SLOT_LEN) <= l.usable());
        let max_overflow_cell = LEAF_CELL_FIXED + l.max_key + OVERFLOW_REF_LEN;
        assert!(max_overflow_cell <= l.max_inline_cell);
        assert!(branch_cell_len(l.max_key) <= l.max_inline_cell);
    }
    assert!(Limits::new(4096).max_key >= 1024);
}
