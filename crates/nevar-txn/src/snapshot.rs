//! A committed state, as readers see it.

use nevar_btree::TreeDesc;
use nevar_page::{
    FORMAT_VERSION, MAGIC, META_CLEAN_SHUTDOWN, Meta, MetaFields, PageNo, TreeRoot, TxnId,
};

/// The in-memory image of a meta page: what a transaction starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    pub txn: TxnId,
    /// Newest transaction durable before this one was written (recovery checks newer pages).
    pub durable_before: TxnId,
    pub high_water: PageNo,
    pub catalog: TreeDesc,
    pub free: TreeDesc,
}

impl Snapshot {
    pub fn from_meta(meta: &Meta) -> Snapshot {
        let f = &meta.fields;
        Snapshot {
            txn: f.txn_id.get(),
            durable_before: f.durable_txn.get(),
            high_water: f.high_water.get(),
            catalog: TreeDesc::from(&f.catalog),
            free: TreeDesc::from(&f.free),
        }
    }

    pub fn to_meta(self, page_size: usize, clean: bool) -> Meta {
        Meta {
            fields: MetaFields {
                magic: MAGIC,
                version: FORMAT_VERSION.into(),
                page_size: (page_size as u32).into(),
                txn_id: self.txn.into(),
                durable_txn: self.durable_before.into(),
                high_water: self.high_water.into(),
                flags: if clean { META_CLEAN_SHUTDOWN } else { 0 },
                pad: [0; 7],
                catalog: TreeRoot::from(&self.catalog),
                free: TreeRoot::from(&self.free),
            },
        }
    }
}
