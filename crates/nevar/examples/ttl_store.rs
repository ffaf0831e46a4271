//! A cache with time-to-live: entries live in a tree keyed by `(expiry, key)`, so expiring
//! everything older than "now" is one `remove_range` that frees whole subtrees instead of
//! deleting entries one at a time; a second tree maps each key to its current expiry.
//!
//! Run with `cargo run -p nevar --example ttl_store`.

use nevar::{Database, TreeDef};

/// (expires at, key) -> value.
const BY_EXPIRY: TreeDef<(u64, &str), &[u8]> = TreeDef::new("cache_by_expiry");
/// key -> expires at.
const EXPIRY: TreeDef<&str, u64> = TreeDef::new("cache_expiry");

struct Cache {
    db: Database,
}

impl Cache {
    fn put(&self, key: &str, value: &[u8], now: u64, ttl: u64) -> nevar::Result<()> {
        let mut w = self.db.begin_write()?;
        if let Some(old) = w.open_tree(EXPIRY)?.get(key)? {
            w.open_tree(BY_EXPIRY)?.remove((old, key))?;
        }
        w.open_tree(EXPIRY)?.insert(key, now + ttl)?;
        w.open_tree(BY_EXPIRY)?.insert((now + ttl, key), value)?;
        w.commit()
    }

    fn get(&self, key: &str, now: u64) -> nevar::Result<Option<Vec<u8>>> {
        let r = self.db.begin_read()?;
        let Some(expires) = r.open_tree(EXPIRY)?.get(key)? else {
            return Ok(None);
        };
        if expires <= now {
            return Ok(None);
        }
        Ok(r.open_tree(BY_EXPIRY)?
            .get((expires, key))?
            .map(<[u8]>::to_vec))
    }

    /// Drops every entry that expired at or before `now`; returns how many.
    fn expire(&self, now: u64) -> nevar::Result<u64> {
        let mut w = self.db.begin_write()?;
        let mut expired = Vec::new();
        for item in w.open_tree(BY_EXPIRY)?.range(..(now + 1, ""))? {
            let ((_, key), _) = item?;
            expired.push(key.to_owned());
        }
        // One range removal for the entries, however many there are.
        let removed = w.open_tree(BY_EXPIRY)?.remove_range(..(now + 1, ""))?;
        let mut index = w.open_tree(EXPIRY)?;
        for key in &expired {
            index.remove(key)?;
        }
        w.commit()?;
        Ok(removed)
    }
}

fn main() -> nevar::Result<()> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let cache = Cache {
        db: Database::open(dir.path().join("cache.nevar"))?,
    };
    for i in 0..10_000u64 {
        cache.put(&format!("session-{i}"), b"token", i / 100, 60)?;
    }
    cache.put("session-5", b"refreshed", 200, 60)?;
    assert_eq!(cache.get("session-42", 59)?, Some(b"token".to_vec()));
    assert_eq!(cache.get("session-42", 60)?, None);
    let removed = cache.expire(120)?;
    println!("expired {removed} entries at t=120");
    assert_eq!(removed, 6_099);
    assert_eq!(cache.get("session-5", 120)?, Some(b"refreshed".to_vec()));
    assert_eq!(cache.get("session-9999", 120)?, Some(b"token".to_vec()));
    let r = cache.db.begin_read()?;
    assert_eq!(r.open_tree(BY_EXPIRY)?.len()?, r.open_tree(EXPIRY)?.len()?);
    drop(r);
    assert!(cache.db.check()?.is_clean());
    Ok(())
}

#[test]
fn runs() {
    main().unwrap();
}
