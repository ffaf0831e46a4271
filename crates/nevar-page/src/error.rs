//! Errors of the page layer.

use crate::PageNo;

/// Result alias of the page layer.
pub type Result<T, E = PageError> = std::result::Result<T, E>;

/// What can go wrong while interpreting page bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PageError {
    /// A page's bytes contradict the format; `what` names the violated rule.
    #[error("page {page} is corrupted: {what}")]
    Corrupted {
        /// The page number the bytes were read as.
        page: PageNo,
        /// The rule the page breaks.
        what: &'static str,
    },
}

/// Shorthand for building a [`PageError::Corrupted`].
pub(crate) fn corrupted(page: PageNo, what: &'static str) -> PageError {
    PageError::Corrupted { page, what }
}
