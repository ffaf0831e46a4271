//! Opening a file: creating it, or choosing the newest meta whose commit verifies.

use nevar_btree::{BtreeError, Range, TreeDesc, visit_newer};
use nevar_page::{
    FORMAT_VERSION, MAX_PAGE_SIZE, META_PAGES, MIN_PAGE_SIZE, Meta, PageNo, verify_checksum,
};
use nevar_pager::{Dirty, Pager, Storage};

use crate::catalog;
use crate::error::{Error, Result, corrupted};
use crate::options::Options;
use crate::snapshot::Snapshot;
use crate::store::ReadStore;

/// Meta slots: pages 0 and 1.
pub(crate) const META_SLOTS: u64 = META_PAGES;

/// What opening found.
pub(crate) struct Opened {
    pub store: ReadStore,
    pub snapshot: Snapshot,
    /// Slot holding the chosen meta.
    pub slot: PageNo,
}

/// Writes `snapshot` as the meta in `slot` (not synced).
pub(crate) fn write_meta(
    pager: &Pager,
    dirty: &mut Dirty,
    slot: PageNo,
    snapshot: Snapshot,
    clean: bool,
) -> Result<()> {
    dirty.insert(slot, 1);
    let page = pager.page_mut(dirty, slot)?;
    let result = snapshot.to_meta(pager.page_size(), clean).write(page, slot);
    dirty.remove(slot);
    Ok(result?)
}

/// Opens the database on `storage`, which holds bytes: a file that is not a nevar database
/// (zeros included) is refused with [`Error::NotADatabase`], untouched.
pub(crate) fn open(storage: Box<dyn Storage>, options: &Options) -> Result<Opened> {
    let _span = tracing::info_span!("recovery").entered();
    if storage.len()? == 0 {
        return Err(Error::NotADatabase);
    }
    let found = read_metas(&*storage)?;
    let page_size = found[0].2;
    let pager = Pager::new(storage, page_size, options.segment_base)?;
    let store = ReadStore(pager);
    let mut truncated = None;
    for (meta, slot, _) in found.iter().filter(|m| m.2 == page_size) {
        let snapshot = Snapshot::from_meta(meta);
        let file_pages = store.0.file_pages();
        if snapshot.high_water > file_pages || snapshot.high_water < META_SLOTS {
            truncated.get_or_insert(Error::Truncated {
                file_pages,
                needed: snapshot.high_water,
            });
            continue;
        }
        if !meta.clean()
            && let Err(e) = verify_commit(&store, &snapshot)
        {
            tracing::warn!(txn = snapshot.txn, slot, error = %e, "newest commit failed verification; falling back");
            continue;
        }
        // What we are about to serve must survive a power loss from now on.
        if !options.read_only {
            store.0.sync()?;
        }
        tracing::info!(txn = snapshot.txn, slot, clean = meta.clean(), "opened");
        return Ok(Opened {
            store,
            snapshot,
            slot: *slot,
        });
    }
    Err(truncated.unwrap_or(corrupted(0, "no meta page describes an intact commit")))
}

/// Initializes empty `storage` as a new database: both meta slots hold the empty commit 1,
/// synced before this returns.
pub(crate) fn create(storage: Box<dyn Storage>, options: &Options) -> Result<Opened> {
    let pager = Pager::new(storage, options.page_size, options.segment_base)?;
    pager.grow_to(META_SLOTS)?;
    let snapshot = Snapshot {
        txn: 1,
        durable_before: 0,
        high_water: META_SLOTS,
        catalog: TreeDesc::default(),
        free: TreeDesc::default(),
    };
    let mut dirty = Dirty::new();
    for slot in 0..META_SLOTS {
        write_meta(&pager, &mut dirty, slot, snapshot, false)?;
    }
    pager.sync()?;
    Ok(Opened {
        store: ReadStore(pager),
        snapshot,
        slot: 0,
    })
}

/// Every meta that decodes and verifies, newest first, with its slot and page size.
fn read_metas(storage: &dyn Storage) -> Result<Vec<(Meta, PageNo, usize)>> {
    let mut head = [0u8; 256];
    let n = storage.read_at(0, &mut head)?;
    let mut sizes: Vec<usize> = Vec::new();
    if let Some(fields) = Meta::peek(&head[..n]) {
        sizes.push(fields.page_size.get() as usize);
    }
    sizes.extend(
        (MIN_PAGE_SIZE.trailing_zeros()..=MAX_PAGE_SIZE.trailing_zeros()).map(|s| 1usize << s),
    );
    let (mut found, mut saw_magic, mut other_version) = (Vec::new(), false, None);
    let mut tried = Vec::new();
    for ps in sizes {
        if !nevar_page::valid_page_size(ps) || tried.contains(&ps) {
            continue;
        }
        tried.push(ps);
        for slot in 0..META_SLOTS {
            let mut page = vec![0u8; ps];
            if storage.read_at(slot * ps as u64, &mut page)? < ps {
                continue;
            }
            if let Some(fields) = Meta::peek(&page) {
                saw_magic = true;
                if fields.version.get() != FORMAT_VERSION {
                    other_version = Some(fields.version.get());
                }
            }
            if let Ok(meta) = Meta::read(&page, slot) {
                found.push((meta, slot, ps));
            }
        }
    }
    if found.is_empty() {
        return Err(match (other_version, saw_magic) {
            (Some(found), _) => Error::IncompatibleVersion {
                found,
                supported: FORMAT_VERSION,
            },
            (None, true) => corrupted(0, "no intact meta page"),
            (None, false) => Error::NotADatabase,
        });
    }
    found.sort_by_key(|(meta, _, _)| std::cmp::Reverse(meta.txn_id()));
    Ok(found)
}

/// Verifies every page written after the last commit that was durable when `snapshot` was
/// written: checksums, page numbers, and each child's writer txn as its parent records it.
fn verify_commit(store: &ReadStore, snapshot: &Snapshot) -> Result<()> {
    let since = snapshot.durable_before;
    let mut check = |no: PageNo, bytes: &[u8]| verify_checksum(bytes, no).map_err(BtreeError::from);
    visit_newer(store, &snapshot.catalog, since, &mut check)?;
    visit_newer(store, &snapshot.free, since, &mut check)?;
    for item in Range::new(
        store,
        &snapshot.catalog,
        std::ops::Bound::Unbounded,
        std::ops::Bound::Unbounded,
    )? {
        let (_, value) = item?;
        let desc = catalog::decode(value)
            .ok_or(corrupted(snapshot.catalog.root, "malformed catalog entry"))?
            .desc;
        visit_newer(store, &desc, since, &mut check)?;
    }
    Ok(())
}
