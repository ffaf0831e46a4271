//! `nevar page FILE N`: decode one page straight from the file, without opening the database
//! (so it works on files that no longer open): its header, whether its checksum holds, and
//! its cells, child references or meta fields.

use std::fmt::Write as _;
use std::os::unix::fs::FileExt;
use std::path::Path;

use nevar_page::{
    Branch, DEFAULT_PAGE_SIZE, Leaf, LeafValue, Meta, PageKind, header, valid_page_size,
    verify_checksum,
};

use crate::common::{CliResult, Failure, Outcome};

/// Key bytes shown per cell; longer keys end in `..`.
const KEY_SHOWN: usize = 32;

pub fn run(file: &Path, number: u64) -> CliResult {
    let context = |why: String| Failure(format!("{}: {why}", file.display()));
    let f = std::fs::File::open(file).map_err(|e| context(e.to_string()))?;
    let mut head = [0u8; 256];
    let n = f
        .read_at(&mut head, 0)
        .map_err(|e| context(e.to_string()))?;
    let page_size = Meta::peek(&head[..n])
        .map(|m| m.page_size.get() as usize)
        .filter(|&s| valid_page_size(s))
        .unwrap_or(DEFAULT_PAGE_SIZE);
    let mut page = vec![0u8; page_size];
    let offset = number
        .checked_mul(page_size as u64)
        .ok_or_else(|| context(format!("page {number} is beyond any file")))?;
    let got = f
        .read_at(&mut page, offset)
        .map_err(|e| context(e.to_string()))?;
    if got < page_size {
        return Err(context(format!(
            "page {number} is beyond the end of the file ({} pages of {page_size} bytes)",
            f.metadata()?.len() / page_size as u64
        )));
    }
    print!("{}", describe(&page, number, &f, page_size));
    Ok(Outcome::Done)
}

/// The text `nevar page` prints for `page` (page `no`). An overflow run's checksum covers the
/// whole run, so its further pages are read from `file`.
fn describe(page: &[u8], no: u64, file: &std::fs::File, page_size: usize) -> String {
    let mut out = String::new();
    let h = match header(page, no) {
        Ok(h) => *h,
        Err(e) => return format!("page {no}: {e}\n"),
    };
    let kind = PageKind::from_byte(h.kind);
    let kind_name = kind.map_or_else(
        || format!("unknown ({:#04x})", h.kind),
        |k| format!("{k:?}"),
    );
    let run_pages = u64::from(h.run_pages.get()).max(1);
    let checked = if kind == Some(PageKind::Overflow) && run_pages > 1 {
        let mut run = vec![0u8; page_size * run_pages as usize];
        match file.read_at(&mut run, no * page_size as u64) {
            Ok(n) if n == run.len() => verify_checksum(&run, no),
            _ => Err(nevar_page::PageError::Corrupted {
                page: no,
                what: "run beyond the file",
            }),
        }
    } else {
        verify_checksum(page, no)
    };
    let _ = writeln!(out, "page {no}: {kind_name}");
    let _ = writeln!(out, "  written by txn {}", h.txn_id.get());
    let named = h.page_no.get();
    let place = if named == no {
        "matches".to_owned()
    } else {
        format!("MISPLACED: names page {named}")
    };
    let _ = writeln!(out, "  page number in header: {place}");
    let _ = writeln!(
        out,
        "  checksum {:#010x}: {}",
        h.checksum.get(),
        match &checked {
            Ok(()) => "ok".to_owned(),
            Err(e) => format!("BAD ({e})"),
        }
    );
    match kind {
        Some(PageKind::Meta) => describe_meta(&mut out, page, no),
        Some(PageKind::Leaf) => describe_leaf(&mut out, page, no),
        Some(PageKind::Branch) => describe_branch(&mut out, page, no),
        Some(PageKind::Overflow) => {
            let _ = writeln!(out, "  overflow run of {run_pages} pages");
        }
        None => {}
    }
    out
}

fn describe_meta(out: &mut String, page: &[u8], no: u64) {
    let fields = match Meta::read(page, no) {
        Ok(meta) => meta.fields,
        Err(e) => {
            let _ = writeln!(out, "  meta does not verify: {e}");
            return;
        }
    };
    let _ = writeln!(
        out,
        "  format version {}, page size {}",
        fields.version.get(),
        fields.page_size.get()
    );
    let _ = writeln!(
        out,
        "  commits txn {} (durable before it: txn {})",
        fields.txn_id.get(),
        fields.durable_txn.get()
    );
    let _ = writeln!(
        out,
        "  high-water mark {} pages, clean shutdown: {}",
        fields.high_water.get(),
        fields.flags & nevar_page::META_CLEAN_SHUTDOWN != 0
    );
    for (name, root) in [("catalog", &fields.catalog), ("free tree", &fields.free)] {
        let _ = writeln!(
            out,
            "  {name}: root {} (txn {}), depth {}, {} entries",
            root.root.get(),
            root.root_txn.get(),
            root.depth.get(),
            root.entries.get()
        );
    }
}

fn describe_leaf(out: &mut String, page: &[u8], no: u64) {
    let leaf = match Leaf::new(page, no) {
        Ok(leaf) => leaf,
        Err(e) => {
            let _ = writeln!(out, "  leaf does not decode: {e}");
            return;
        }
    };
    let _ = writeln!(
        out,
        "  {} cells, {} bytes used, {} free",
        leaf.len(),
        leaf.used(),
        leaf.free()
    );
    for i in 0..leaf.len() {
        let line = match leaf.entry(i) {
            Ok((key, LeafValue::Inline(v))) => {
                format!("{}  = {} bytes inline", shown(key), v.len())
            }
            Ok((key, LeafValue::Overflow { page, txn, len })) => {
                format!(
                    "{}  = {len} bytes in overflow run at page {page} (txn {txn})",
                    shown(key)
                )
            }
            Err(e) => format!("undecodable: {e}"),
        };
        let _ = writeln!(out, "  [{i}] {line}");
    }
}

fn describe_branch(out: &mut String, page: &[u8], no: u64) {
    let branch = match Branch::new(page, no) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(out, "  branch does not decode: {e}");
            return;
        }
    };
    let _ = writeln!(
        out,
        "  {} children, {} bytes used, {} free",
        branch.len(),
        branch.used(),
        branch.free()
    );
    for i in 0..branch.len() {
        let line = match (branch.child(i), branch.key(i)) {
            (Ok(child), Ok(_)) if i == 0 => format!(
                "child {} (txn {}), keys below {}",
                child.page,
                child.txn,
                separator(&branch, 1)
            ),
            (Ok(child), Ok(key)) => {
                format!(
                    "child {} (txn {}), keys from {}",
                    child.page,
                    child.txn,
                    shown(key)
                )
            }
            (Err(e), _) | (_, Err(e)) => format!("undecodable: {e}"),
        };
        let _ = writeln!(out, "  [{i}] {line}");
    }
}

fn separator(branch: &Branch<'_>, i: usize) -> String {
    match branch.key(i) {
        Ok(key) if i < branch.len() => shown(key),
        _ => "(end)".to_owned(),
    }
}

/// A key as printable text when it is, else hex; cut at [`KEY_SHOWN`] bytes.
fn shown(key: &[u8]) -> String {
    let cut = &key[..key.len().min(KEY_SHOWN)];
    let more = if key.len() > KEY_SHOWN { ".." } else { "" };
    if cut.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!("{:?}{more}", String::from_utf8_lossy(cut))
    } else {
        format!("0x{}{more}", hex::encode(cut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_as_text_or_hex_and_are_cut() {
        assert_eq!(shown(b"user/7"), "\"user/7\"");
        assert_eq!(shown(&[0, 255]), "0x00ff");
        assert_eq!(shown(&[b'a'; 40]), format!("{:?}..", "a".repeat(32)));
        assert_eq!(shown(b""), "\"\"");
    }
}
