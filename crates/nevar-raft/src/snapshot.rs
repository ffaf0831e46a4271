//! Snapshots as files: a compact nevar database of the state machine's trees
//! (`ReadTxn::write_trees_to`), streamed from a read snapshot, never held in memory.
//!
//! ```text
//! <file>.snapshots/
//!   <id>.nevar          the current snapshot (its meta is raft/meta "snapshot")
//!   <id>.tmp            one being written; renamed to .nevar once synced
//!   incoming-<n>.part   one being received from a leader
//! ```
//!
//! Building: stream the sm/* trees of one read snapshot (so data, applied log id and
//! membership agree) to `<id>.tmp`, sync, rename, sync the directory, then record the meta
//! in a durable commit and remove older files. Installing: copy the received bytes to
//! `<id>.tmp`, sync, rename, then replace the sm/* trees with the snapshot's and record its
//! meta in one durable transaction. A crash at any point leaves the old state or the new
//! one; unreferenced files are removed at the next open.

use std::io::{BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use openraft::storage::Snapshot;
use openraft::{ErrorSubject, ErrorVerb, LogId, SnapshotMeta, StorageError, StoredMembership};

use crate::TypeConfig;
use crate::error::storage_error;
use crate::store::{
    Described, Inner, RAFT_META, SM_META, SM_PREFIX, commit, decode, encode, existing, keys,
    read_record,
};

type Error = StorageError<u64>;
type Meta = SnapshotMeta<u64, openraft::BasicNode>;

fn snapshot_error(verb: ErrorVerb, e: &dyn std::error::Error) -> Error {
    storage_error(
        ErrorSubject::Snapshot(None),
        verb,
        &Described(e.to_string()),
    )
}

/// The file of snapshot `id`; ids are ours (`<term>-<index>-<seq>-<millis>`), but one
/// received from a leader is checked before it names a file.
fn file_of(inner: &Inner, id: &str, ext: &str) -> Result<PathBuf, Error> {
    let safe = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !safe {
        return Err(snapshot_error(
            ErrorVerb::Write,
            &Described(format!("snapshot id {id:?} is not a file name")),
        ));
    }
    Ok(inner.snapshots.join(format!("{id}.{ext}")))
}

/// Syncs the directory holding the snapshot files, so a rename in it is durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

/// Writes `tmp` with `fill`, syncs it and renames it to `path`, durably.
fn write_file(
    tmp: &Path,
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(tmp)?);
    fill(&mut out)?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(tmp, path)?;
    sync_dir(path.parent().expect("snapshot files live in a directory"))
}

pub(crate) async fn build(inner: &Arc<Inner>) -> Result<Snapshot<TypeConfig>, Error> {
    let worker = Arc::clone(inner);
    let (meta, path) = tokio::task::spawn_blocking(move || -> Result<(Meta, PathBuf), Error> {
        let fail = |e: &dyn std::error::Error| snapshot_error(ErrorVerb::Write, e);
        let read = worker.db.begin_read().map_err(|e| fail(&e))?;
        let record = |key: &str| -> Result<Option<Vec<u8>>, Error> {
            match existing(&read, SM_META).map_err(|e| fail(&e))? {
                Some(t) => Ok(t.get(key).map_err(|e| fail(&e))?.map(<[u8]>::to_vec)),
                None => Ok(None),
            }
        };
        let last_log_id: Option<LogId<u64>> = record(keys::APPLIED)?
            .map(|b| decode(&b))
            .transpose()
            .map_err(|e| fail(&e))?
            .flatten();
        let last_membership: StoredMembership<u64, openraft::BasicNode> = record(keys::MEMBERSHIP)?
            .map(|b| decode(&b))
            .transpose()
            .map_err(|e| fail(&e))?
            .unwrap_or_default();
        let seq = worker.snapshot_seq.fetch_add(1, Ordering::Relaxed);
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let at = last_log_id.map_or("0-0".to_owned(), |l| {
            format!("{}-{}", l.leader_id.term, l.index)
        });
        let snapshot_id = format!("{at}-{seq}-{millis}");
        let path = file_of(&worker, &snapshot_id, "nevar")?;
        let tmp = file_of(&worker, &snapshot_id, "tmp")?;
        write_file(&tmp, &path, |out| {
            read.write_trees_to(out, |name| name.starts_with(SM_PREFIX))
                .map(drop)
                .map_err(std::io::Error::other)
        })
        .map_err(|e| fail(&e))?;
        Ok((
            Meta {
                last_log_id,
                last_membership,
                snapshot_id,
            },
            path,
        ))
    })
    .await
    .map_err(|e| snapshot_error(ErrorVerb::Write, &e))??;
    record_current(inner, &meta).await?;
    open_snapshot(meta, &path).await
}

/// Makes `meta` the current snapshot (a durable commit), then removes older files.
async fn record_current(inner: &Arc<Inner>, meta: &Meta) -> Result<(), Error> {
    let bytes = encode(meta);
    inner
        .writer
        .run(move |db| {
            commit(db, ErrorSubject::Snapshot(None), |w| {
                w.open_tree(RAFT_META)?.insert(keys::SNAPSHOT, &bytes)?;
                Ok(())
            })
        })
        .await?;
    remove_older(inner, &meta.snapshot_id).map_err(|e| snapshot_error(ErrorVerb::Delete, &e))
}

async fn open_snapshot(meta: Meta, path: &Path) -> Result<Snapshot<TypeConfig>, Error> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| snapshot_error(ErrorVerb::Read, &e))?;
    Ok(Snapshot {
        meta,
        snapshot: Box::new(file),
    })
}

pub(crate) async fn current(inner: &Arc<Inner>) -> Result<Option<Snapshot<TypeConfig>>, Error> {
    let meta: Option<Meta> = read_record(
        &inner.db,
        RAFT_META,
        keys::SNAPSHOT,
        ErrorSubject::Snapshot(None),
    )?;
    match meta {
        Some(meta) => {
            let path = file_of(inner, &meta.snapshot_id, "nevar")?;
            open_snapshot(meta, &path).await.map(Some)
        }
        None => Ok(None),
    }
}

pub(crate) async fn begin_receiving(inner: &Arc<Inner>) -> Result<Box<tokio::fs::File>, Error> {
    let seq = inner.snapshot_seq.fetch_add(1, Ordering::Relaxed);
    let path = inner.snapshots.join(format!("incoming-{seq}.part"));
    let file = tokio::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .await
        .map_err(|e| snapshot_error(ErrorVerb::Write, &e))?;
    Ok(Box::new(file))
}

pub(crate) async fn install(
    inner: &Arc<Inner>,
    meta: Meta,
    received: tokio::fs::File,
) -> Result<(), Error> {
    let fail = |e: &dyn std::error::Error| snapshot_error(ErrorVerb::Write, e);
    let path = file_of(inner, &meta.snapshot_id, "nevar")?;
    let tmp = file_of(inner, &meta.snapshot_id, "tmp")?;
    let mut received = received.into_std().await;
    let copy_to = path.clone();
    tokio::task::spawn_blocking(move || {
        received.seek(SeekFrom::Start(0))?;
        write_file(&tmp, &copy_to, |out| {
            std::io::copy(&mut received, out).map(drop)
        })
    })
    .await
    .map_err(|e| fail(&e))?
    .map_err(|e| fail(&e))?;
    let bytes = encode(&meta);
    inner
        .writer
        .run(move |db| {
            let snapshot = nevar::Options::new().read_only(true).open(&path);
            commit(db, ErrorSubject::Snapshot(None), |w| {
                let from = snapshot?.begin_read()?;
                // Replace the state machine: its trees go, the snapshot's come, in one commit.
                for name in w.tree_names()? {
                    if name.starts_with(SM_PREFIX) {
                        w.delete_tree(&name)?;
                    }
                }
                for name in from.tree_names()? {
                    if !name.starts_with(SM_PREFIX) {
                        continue;
                    }
                    let source = from.open_tree(&name)?;
                    let mut target = w.open_tree(&name)?;
                    for item in source.iter()? {
                        let (k, v) = item?;
                        target.append(k, v)?;
                    }
                }
                w.open_tree(RAFT_META)?.insert(keys::SNAPSHOT, &bytes)?;
                Ok(())
            })
        })
        .await?;
    remove_older(inner, &meta.snapshot_id).map_err(|e| fail(&e))?;
    remove_incoming(inner).map_err(|e| fail(&e))
}

/// Removes the snapshot files whose names `doomed` picks.
fn remove_files(inner: &Inner, doomed: impl Fn(&str) -> bool) -> std::io::Result<()> {
    for entry in std::fs::read_dir(&inner.snapshots)? {
        let name = entry?.file_name();
        if doomed(&name.to_string_lossy()) {
            std::fs::remove_file(inner.snapshots.join(&name))?;
        }
    }
    Ok(())
}

/// Removes snapshot files other than `keep`'s (not those being received or written).
fn remove_older(inner: &Inner, keep: &str) -> std::io::Result<()> {
    let keep = format!("{keep}.nevar");
    remove_files(inner, |name| name.ends_with(".nevar") && name != keep)
}

fn remove_incoming(inner: &Inner) -> std::io::Result<()> {
    remove_files(inner, |name| name.ends_with(".part"))
}

/// At open: removes every file the current snapshot meta does not name (interrupted builds,
/// receptions and installs).
pub(crate) fn remove_stale(inner: &Inner) -> std::io::Result<()> {
    let current: Option<Meta> = read_record(
        &inner.db,
        RAFT_META,
        keys::SNAPSHOT,
        ErrorSubject::Snapshot(None),
    )
    .map_err(std::io::Error::other)?;
    let keep = current.map(|m| format!("{}.nevar", m.snapshot_id));
    remove_files(inner, |name| keep.as_deref() != Some(name))
}
