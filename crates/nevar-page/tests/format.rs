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

/// A leaf of composite keys sharing `org-0421/user-` built through inserts in both
/// directions, then searched for every key and every gap.
fn composite_leaf(page: &mut [u8]) -> Vec<Vec<u8>> {
    let keys: Vec<Vec<u8>> = (0..60u32)
        .map(|i| format!("org-0421/user-{:08}/p", i * 7).into_bytes())
        .collect();
    // Middle first, then both ends, so the prefix shrinks and heads are recomputed.
    insert_all(page, keys[30..].iter().chain(keys[..30].iter().rev()));
    keys
}

/// Formats `page` as leaf 9 and inserts `keys` in the order given, each where a search puts it.
fn insert_all<'k>(page: &mut [u8], keys: impl Iterator<Item = &'k Vec<u8>>) {
    let mut leaf = LeafMut::init(page, 9, 1).unwrap();
    for k in keys {
        let at = leaf.view().search(k).unwrap().unwrap_err();
        assert!(leaf.insert(at, k, ValueRef::Inline(b"v")));
    }
}

#[test]
fn heads_and_the_page_prefix_route_every_search() {
    let mut page = vec![0u8; PS];
    let keys = composite_leaf(&mut page);
    let leaf = Leaf::new(&page, 9).unwrap();
    leaf.check_heads().unwrap();
    // Keys run from user-00000000 to user-00000413.
    assert_eq!(
        header(&page, 9).unwrap().prefix_len.get(),
        "org-0421/user-00000".len() as u16
    );
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(leaf.search(k).unwrap(), Ok(i));
        let mut after = k.clone();
        after.push(0);
        assert_eq!(leaf.search(&after).unwrap(), Err(i + 1));
    }
    assert_eq!(leaf.search(b"org-0421/user-").unwrap(), Err(0));
    assert_eq!(leaf.search(b"").unwrap(), Err(0));
    assert_eq!(leaf.search(b"zzz").unwrap(), Err(keys.len()));
    assert_eq!(leaf.search(b"org-0421/user-9").unwrap(), Err(keys.len()));
}

#[test]
fn a_damaged_head_or_prefix_length_is_an_error_naming_the_page() {
    let mut page = vec![0u8; PS];
    let keys = composite_leaf(&mut page);
    // Slot 10's head, set far too high: searches that probe it disagree with the keys.
    let mut damaged = page.clone();
    let at = HEADER_LEN + 10 * SLOT_LEN + 2;
    damaged[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    let leaf = Leaf::new(&damaged, 9).unwrap();
    assert!(matches!(
        leaf.check_heads(),
        Err(PageError::Corrupted { page: 9, .. })
    ));
    let mut errors = 0;
    for (i, k) in keys.iter().enumerate() {
        match leaf.search(k) {
            Ok(found) => assert_eq!(found, Ok(i), "a damaged head gave a wrong answer"),
            Err(PageError::Corrupted { page: 9, .. }) => errors += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(errors > 0);
    // A prefix length longer than the keys share, and one beyond the first key.
    for bad in [20u16, 200] {
        let mut damaged = page.clone();
        header_mut(&mut damaged, 9).unwrap().prefix_len = bad.into();
        let leaf = Leaf::new(&damaged, 9).unwrap();
        assert!(leaf.check_heads().is_err(), "prefix length {bad}");
        for (i, k) in keys.iter().enumerate() {
            if let Ok(found) = leaf.search(k) {
                assert_eq!(found, Ok(i), "prefix length {bad} gave a wrong answer");
            }
        }
    }
}

/// A leaf of four tenants' keys, `org-041t/user-00.../p`: the page prefix is `org-041`, and
/// the heads skip the `/user-00` every key has after the tenant digit.
fn tenants_leaf(page: &mut [u8]) -> Vec<Vec<u8>> {
    tenant_keys(page, "")
}

/// Like [`tenants_leaf`] with the tenant digit written four times, `org-041tttt/user-...`:
/// nothing after the prefix is shared within 4 bytes, so each tenant's keys share one head
/// and a search runs over whole keys inside each run.
fn runs_leaf(page: &mut [u8]) -> Vec<Vec<u8>> {
    tenant_keys(page, "ttt")
}

fn tenant_keys(page: &mut [u8], repeat: &str) -> Vec<Vec<u8>> {
    let keys: Vec<Vec<u8>> = (0..4u32)
        .flat_map(|t| {
            let tenant = format!("{t}{}", repeat.replace('t', &t.to_string()));
            (0..15u32).map(move |u| format!("org-041{tenant}/user-{:08}/p", u * 7919))
        })
        .map(String::into_bytes)
        .collect();
    insert_all(page, keys.iter().rev());
    keys
}

/// The header's `head_gap` byte: lead in the top two bits, gap length in the low six.
fn head_gap(lead: u8, gap: usize) -> u8 {
    (lead << 6) | gap as u8
}

#[test]
fn heads_skip_the_bytes_every_key_shares_after_the_tenant() {
    let mut page = vec![0u8; PS];
    let keys = tenants_leaf(&mut page);
    let leaf = Leaf::new(&page, 9).unwrap();
    leaf.check_heads().unwrap();
    let h = header(&page, 9).unwrap();
    assert_eq!(h.prefix_len.get(), 7);
    assert_eq!(h.head_gap, head_gap(1, "/user-00".len()));
    // Heads are the tenant digit and the three id digits after the gap: every key has its
    // own (without the gap, the 4 bytes after the prefix would give one head per tenant).
    let heads: std::collections::BTreeSet<[u8; 4]> = (0..keys.len())
        .map(|i| {
            page[HEADER_LEN + i * SLOT_LEN + 2..][..4]
                .try_into()
                .unwrap()
        })
        .collect();
    assert_eq!(heads.len(), keys.len());
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(leaf.search(k).unwrap(), Ok(i));
    }
}

/// Keys with the gap bytes, then keys that differ inside the gap or end before it, inserted
/// in the middle and at the ends: a key that differs narrows the gap to where it differs
/// (every head again), one that ends before it or agrees as far as it goes keeps it; each
/// insert lands where a sorted model puts it, `check_heads` passes after every one, and
/// searches for keys with and without the gap bytes agree with the model throughout.
#[test]
fn a_key_that_differs_inside_the_gap_narrows_it() {
    let mut page = vec![0u8; PS];
    let mut model: Vec<Vec<u8>> = tenants_leaf(&mut page);
    let probes: Vec<Vec<u8>> = [
        "org-0410/user-",
        "org-0411/usez",
        "org-0412/",
        "org-0413/user-00x",
        "org-0414",
        "org-041",
    ]
    .iter()
    .map(|k| k.as_bytes().to_vec())
    .chain(model.iter().cloned())
    .collect();
    // Each key with the gap (lead, length) after it went in: from `/user-00`, to `/use`
    // (differs in the middle), kept by a key that agrees as far as the gap goes and by one
    // that ends before it, to `/` (differs, at the end), kept by a key at the start.
    let inserts = [
        ("org-0412/usex-7", (1, 4)),
        ("org-0410/user-01000000/p", (1, 4)),
        ("org-0411", (1, 4)),
        ("org-0419/zzz", (1, 1)),
        ("org-0410", (1, 1)),
    ];
    assert_eq!(header(&page, 9).unwrap().head_gap, head_gap(1, 8));
    for (new, (lead, gap)) in inserts {
        let new = new.as_bytes().to_vec();
        let mut leaf = LeafMut::new(&mut page, 9).unwrap();
        let at = leaf.view().search(&new).unwrap().unwrap_err();
        assert_eq!(Err(at), model.binary_search(&new), "{new:?}");
        assert!(leaf.insert(at, &new, ValueRef::Inline(b"v")));
        model.insert(at, new);
        assert_eq!(header(&page, 9).unwrap().head_gap, head_gap(lead, gap));
        let view = Leaf::new(&page, 9).unwrap();
        view.check_heads().unwrap();
        for probe in &probes {
            assert_eq!(
                view.search(probe).unwrap(),
                model.binary_search(probe),
                "{probe:?}"
            );
        }
    }
}

#[test]
fn runs_of_equal_heads_are_searched_by_whole_keys() {
    let mut page = vec![0u8; PS];
    let keys = runs_leaf(&mut page);
    let leaf = Leaf::new(&page, 9).unwrap();
    leaf.check_heads().unwrap();
    let h = header(&page, 9).unwrap();
    assert_eq!((h.prefix_len.get(), h.head_gap), (7, 0));
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(leaf.search(k).unwrap(), Ok(i));
        let mut after = k.clone();
        after.push(0);
        assert_eq!(leaf.search(&after).unwrap(), Err(i + 1));
        let mut before = k.clone();
        *before.last_mut().unwrap() -= 1;
        assert_eq!(leaf.search(&before).unwrap(), Err(i));
    }
}

/// Every slot's head replaced by values below, equal to and above its neighbours', the
/// prefix length by every value up to the key length, and the head gap byte by every value:
/// each search for a stored key, a key just before or after it, or a key outside the prefix
/// or the gap either gives the answer of the undamaged page or a `Corrupted` error naming
/// it, never another position. Run on a page whose heads all differ, on one whose heads skip
/// a gap and on one with runs of equal heads.
#[test]
fn no_damaged_head_prefix_length_or_gap_moves_a_search() {
    for build in [composite_leaf, tenants_leaf, runs_leaf] {
        let mut page = vec![0u8; PS];
        let keys = build(&mut page);
        damage_never_moves_a_search(&page, &keys);
    }
}

fn damage_never_moves_a_search(page: &[u8], keys: &[Vec<u8>]) {
    let mut probes: Vec<Vec<u8>> = [
        "",
        "org-0421/user-",
        "zzz",
        "org-0412/usez",
        "org-0411/user-1",
        "org-0413",
    ]
    .iter()
    .map(|k| k.as_bytes().to_vec())
    .collect();
    for k in keys {
        probes.push(k.clone());
        let mut after = k.clone();
        after.push(0);
        probes.push(after);
        let mut before = k.clone();
        *before.last_mut().unwrap() -= 1;
        probes.push(before);
    }
    let leaf = Leaf::new(page, 9).unwrap();
    let truth: Vec<_> = probes.iter().map(|p| leaf.search(p).unwrap()).collect();
    let check = |damaged: &[u8], what: &str| {
        let leaf = match Leaf::new(damaged, 9) {
            Ok(leaf) => leaf,
            Err(PageError::Corrupted { page: 9, .. }) => return,
            Err(e) => panic!("{what}: {e}"),
        };
        for (probe, want) in probes.iter().zip(&truth) {
            match leaf.search(probe) {
                Ok(found) => assert_eq!(found, *want, "{what}: {probe:?}"),
                Err(PageError::Corrupted { page: 9, .. }) => {}
                Err(e) => panic!("{what}: {e}"),
            }
        }
    };
    for slot in 0..keys.len() {
        let at = HEADER_LEN + slot * SLOT_LEN + 2;
        let own = u32::from_be_bytes(page[at..at + 4].try_into().unwrap());
        for head in [
            0,
            0x3030_3030,
            0x3030_3439,
            0x3434_3434,
            u32::MAX,
            own - 1,
            own + 1,
        ] {
            let mut damaged = page.to_vec();
            damaged[at..at + 4].copy_from_slice(&u32::to_be_bytes(head));
            check(&damaged, &format!("slot {slot} head {head:#x}"));
        }
    }
    for bad in 0..=keys[0].len() as u16 + 1 {
        let mut damaged = page.to_vec();
        header_mut(&mut damaged, 9).unwrap().prefix_len = bad.into();
        check(&damaged, &format!("prefix length {bad}"));
    }
    for bad in 0..=u8::MAX {
        let mut damaged = page.to_vec();
        header_mut(&mut damaged, 9).unwrap().head_gap = bad;
        check(&damaged, &format!("head gap {bad:#x}"));
    }
}
