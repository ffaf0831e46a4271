//! Errors of the pager.

use crate::PageNo;

/// Result alias of the pager.
pub type Result<T, E = PagerError> = std::result::Result<T, E>;

/// What can go wrong in the file layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PagerError {
    /// The operating system refused an operation.
    #[error("I/O error during {op}: {source}")]
    Io {
        /// What the pager was doing.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// Another handle (in this or another process) holds the file's lock.
    #[error("the database file is already open in another handle or process")]
    AlreadyOpen,
    /// A page number beyond the end of the file was asked for.
    #[error("page {page} (run of {count}) lies beyond the end of the file ({file_pages} pages)")]
    OutOfBounds {
        /// First page asked for.
        page: PageNo,
        /// Pages asked for.
        count: u64,
        /// Pages in the file.
        file_pages: u64,
    },
    /// A run of pages crosses a segment boundary, so it cannot be one slice.
    #[error("run of {count} pages at page {page} crosses a segment boundary")]
    StraddlesSegment {
        /// First page of the run.
        page: PageNo,
        /// Pages in the run.
        count: u64,
    },
    /// A write was attempted on a page not owned by the current write transaction.
    #[error("page {page} is not writable in this transaction")]
    NotWritable {
        /// The page.
        page: PageNo,
    },
    /// The file cannot grow this far.
    #[error("the file cannot grow to {pages} pages")]
    TooLarge {
        /// Pages asked for.
        pages: u64,
    },
}

impl PagerError {
    pub(crate) fn io(op: &'static str) -> impl FnOnce(std::io::Error) -> PagerError {
        move |source| PagerError::Io { op, source }
    }
}
