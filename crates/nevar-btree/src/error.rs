//! Errors of the B+tree layer.

use nevar_page::{PageError, PageNo};

/// Result alias of the B+tree layer.
pub type Result<T, E = BtreeError> = std::result::Result<T, E>;

/// What can go wrong in a tree operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BtreeError {
    /// A page contradicts the format or the tree's structure.
    #[error("page {page} is corrupted: {what}")]
    Corrupted {
        /// The page.
        page: PageNo,
        /// What is wrong.
        what: &'static str,
    },
    /// A key longer than the page size allows; nothing was changed.
    #[error("key of {len} bytes exceeds the maximum of {max}")]
    KeyTooLarge {
        /// The key's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// A value longer than [`crate::MAX_VALUE`]; nothing was changed.
    #[error("value of {len} bytes exceeds the maximum of {max}")]
    ValueTooLarge {
        /// The value's length.
        len: u64,
        /// The maximum.
        max: u64,
    },
    /// The page store failed (I/O, growth).
    #[error(transparent)]
    Store(Box<dyn std::error::Error + Send + Sync>),
}

impl From<PageError> for BtreeError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::Corrupted { page, what } => BtreeError::Corrupted { page, what },
            #[allow(unreachable_patterns)]
            _ => BtreeError::Corrupted {
                page: 0,
                what: "unknown page error",
            },
        }
    }
}

pub(crate) fn corrupted(page: PageNo, what: &'static str) -> BtreeError {
    BtreeError::Corrupted { page, what }
}
