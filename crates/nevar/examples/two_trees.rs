//! A small program using two trees: users and an index from email to user id.

use nevar::{Database, Result};

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("nevar-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| nevar::Error::Io {
        op: "mkdir",
        source: e,
    })?;
    let db = Database::open(dir.join("example.nevar"))?;

    let mut w = db.begin_write()?;
    for (id, name, email) in [
        (1u32, "ada", "ada@example.org"),
        (2, "grace", "grace@example.org"),
    ] {
        w.open_tree("users")?
            .insert(&id.to_be_bytes(), name.as_bytes())?;
        w.open_tree("by_email")?
            .insert(email.as_bytes(), &id.to_be_bytes())?;
    }
    w.commit()?;

    {
        let r = db.begin_read()?;
        let by_email = r.open_tree("by_email")?;
        let users = r.open_tree("users")?;
        let id = by_email.get(b"grace@example.org")?.expect("indexed");
        let name = users.get(id)?.expect("user exists");
        println!(
            "grace@example.org -> user {} ({})",
            u32::from_be_bytes(id.try_into().unwrap()),
            String::from_utf8_lossy(name)
        );
        println!("trees: {:?}, users: {}", r.tree_names()?, users.len()?);
    }
    drop(db);
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
