//! The error type of the database.

use nevar_btree::BtreeError;
use nevar_page::PageNo;
use nevar_pager::PagerError;

use crate::catalog::TreeTypes;

/// Result alias of the database.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, named with where it happened.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The operating system refused an operation.
    #[error("I/O error during {op}: {source}")]
    Io {
        /// What the database was doing.
        op: &'static str,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file contradicts its format; `page` says where.
    #[error("page {page} is corrupted: {what}")]
    Corrupted {
        /// The damaged page.
        page: PageNo,
        /// What is wrong.
        what: &'static str,
    },
    /// The key is longer than the page size allows.
    #[error("key of {len} bytes exceeds the maximum of {max}")]
    KeyTooLarge {
        /// The key's length.
        len: usize,
        /// The maximum.
        max: usize,
    },
    /// The value is longer than the maximum.
    #[error("value of {len} bytes exceeds the maximum of {max}")]
    ValueTooLarge {
        /// The value's length.
        len: u64,
        /// The maximum.
        max: u64,
    },
    /// No tree of this name exists.
    #[error("no tree named {0:?}")]
    TreeNotFound(String),
    /// Tree names are non-empty UTF-8 of at most 255 bytes.
    #[error("invalid tree name {0:?}: names are 1 to 255 bytes of UTF-8")]
    InvalidTreeName(String),
    /// Another handle or process has the file open.
    #[error("the database file is already open in another handle or process")]
    AlreadyOpen,
    /// The file is not a nevar database.
    #[error("not a nevar database (no valid meta page and no nevar magic)")]
    NotADatabase,
    /// The file was written by an incompatible format version.
    #[error("incompatible format version {found} (this build reads version {supported})")]
    IncompatibleVersion {
        /// Version in the file.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// The file is shorter than its meta page says.
    #[error("the file is truncated: it holds {file_pages} pages, the database needs {needed}")]
    Truncated {
        /// Pages in the file.
        file_pages: u64,
        /// Pages the newest usable meta references.
        needed: u64,
    },
    /// An earlier error in this write transaction left it half-applied; it can only be
    /// dropped (aborted).
    #[error("this write transaction failed earlier and must be aborted")]
    TxnFailed,
    /// A failed write or sync left the file's state unknown; reopen the database.
    #[error("an earlier I/O failure left the database state unknown; reopen it")]
    NeedsReopen,
    /// The database was opened read-only.
    #[error("the database was opened read-only")]
    ReadOnly,
    /// A repair was refused: the check found damage a free-list rebuild cannot fix.
    #[error("not repairable: {problems} problems, among them {first}")]
    NotRepairable {
        /// Problems the check found.
        problems: usize,
        /// The first problem a rebuild cannot fix, with its page.
        first: String,
    },
    /// `append` was given a key that does not sort after the tree's last key; nothing changed.
    #[error("key out of order: append needs a key after the tree's last key")]
    KeyOutOfOrder,
    /// A tree of this name exists already (the target of `rename_tree`); nothing changed.
    #[error("a tree named {0:?} exists already")]
    TreeExists(String),
    /// An [`Options`](crate::Options) setting is out of range; nothing was opened.
    #[error("invalid option {option}: must be {why}")]
    InvalidOption {
        /// The option's builder method.
        option: &'static str,
        /// What it must be.
        why: &'static str,
    },
    /// A typed open named other key or value types than the tree records; nothing changed.
    /// Opening the tree raw, by its name, always works.
    #[error("tree {tree:?} holds {stored}; it was opened with {requested}")]
    TreeTypeMismatch {
        /// The tree.
        tree: String,
        /// The types the catalog records for it.
        stored: TreeTypes,
        /// The types it was opened with.
        requested: TreeTypes,
    },
    /// Stored bytes of a typed tree do not decode as its type (a raw writer put other bytes
    /// there, or a custom type's decoder refused them).
    #[error("tree {tree:?}: stored bytes are no {type_name}: {what}")]
    Decode {
        /// The tree.
        tree: String,
        /// The type the bytes were read as.
        type_name: String,
        /// What is wrong with them.
        what: String,
    },
    /// A savepoint of another transaction, or one made invalid by rolling back past it.
    #[error("invalid savepoint: {0}")]
    InvalidSavepoint(&'static str),
    /// A type name longer than the catalog records (65,535 bytes); nothing changed.
    #[error("type name of {len} bytes is longer than 65535")]
    TypeNameTooLong {
        /// Its length in bytes.
        len: usize,
    },
}

/// The page and the complaint, when a pager error means the file is damaged: a page number
/// read from the file points outside it. Both the page stores (as a [`BtreeError`]) and the
/// conversion into [`Error`] classify pager errors through this one function.
pub(crate) fn pager_corruption(e: &PagerError) -> Option<(PageNo, &'static str)> {
    match *e {
        PagerError::OutOfBounds { page, .. } => Some((page, "page beyond the end of the file")),
        PagerError::StraddlesSegment { page, .. } => Some((page, "run crosses a segment boundary")),
        _ => None,
    }
}

impl From<PagerError> for Error {
    fn from(e: PagerError) -> Self {
        if let Some((page, what)) = pager_corruption(&e) {
            return corrupted(page, what);
        }
        match e {
            PagerError::Io { op, source } => Error::Io { op, source },
            PagerError::AlreadyOpen => Error::AlreadyOpen,
            PagerError::NotWritable { page } => Error::Corrupted {
                page,
                what: "write to a page this transaction does not own",
            },
            PagerError::TooLarge { pages } => Error::Io {
                op: "grow",
                source: std::io::Error::other(format!("file cannot grow to {pages} pages")),
            },
            other => Error::Io {
                op: "pager",
                source: std::io::Error::other(other),
            },
        }
    }
}

impl From<BtreeError> for Error {
    fn from(e: BtreeError) -> Self {
        match e {
            BtreeError::Corrupted { page, what } => Error::Corrupted { page, what },
            BtreeError::KeyTooLarge { len, max } => Error::KeyTooLarge { len, max },
            BtreeError::ValueTooLarge { len, max } => Error::ValueTooLarge { len, max },
            BtreeError::Store(inner) => match inner.downcast::<PagerError>() {
                Ok(pager) => Error::from(*pager),
                Err(other) => Error::Io {
                    op: "page store",
                    source: std::io::Error::other(other),
                },
            },
            other => Error::Io {
                op: "b+tree",
                source: std::io::Error::other(other),
            },
        }
    }
}

impl From<nevar_page::PageError> for Error {
    fn from(e: nevar_page::PageError) -> Self {
        Error::from(BtreeError::from(e))
    }
}

/// Shorthand for a corruption error.
pub(crate) fn corrupted(page: PageNo, what: &'static str) -> Error {
    Error::Corrupted { page, what }
}
