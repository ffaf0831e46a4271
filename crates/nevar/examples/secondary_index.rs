//! A table of users with a secondary index on their city, kept in step in one transaction:
//! the index is a tree of `(city, user id)` tuple keys with empty values, so "users in a
//! city" is a prefix-like range scan, and changing a user's city moves its index entry in
//! the same commit as the user.
//!
//! Run with `cargo run -p nevar --example secondary_index`.

use nevar::{Database, TreeDef, WriteTxn};

/// User id -> (name, city).
const USERS: TreeDef<u32, (&str, &str)> = TreeDef::new("users");
/// (city, user id) -> nothing.
const BY_CITY: TreeDef<(&str, u32), ()> = TreeDef::new("users_by_city");

/// Inserts or updates a user and its index entry.
fn put_user(w: &mut WriteTxn<'_>, id: u32, name: &str, city: &str) -> nevar::Result<()> {
    let old_city = w
        .open_tree(USERS)?
        .get(id)?
        .map(|(_, city)| city.to_owned());
    if let Some(old) = &old_city {
        w.open_tree(BY_CITY)?.remove((old, id))?;
    }
    w.open_tree(USERS)?.insert(id, (name, city))?;
    w.open_tree(BY_CITY)?.insert((city, id), ())?;
    Ok(())
}

fn users_in(db: &Database, city: &str) -> nevar::Result<Vec<String>> {
    let r = db.begin_read()?;
    let users = r.open_tree(USERS)?;
    let index = r.open_tree(BY_CITY)?;
    // Every key (city, id) for this city lies in [(city, 0), (city, u32::MAX)].
    let mut names = Vec::new();
    for item in index.range((city, 0)..=(city, u32::MAX))? {
        let ((_, id), ()) = item?;
        let (name, _) = users.get(id)?.expect("the index only names existing users");
        names.push(name.into_owned());
    }
    Ok(names)
}

fn main() -> nevar::Result<()> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::open(dir.path().join("users.nevar"))?;
    let mut w = db.begin_write()?;
    for (id, name, city) in [
        (1, "ada", "london"),
        (2, "grace", "new york"),
        (3, "alan", "london"),
        (4, "edsger", "austin"),
    ] {
        put_user(&mut w, id, name, city)?;
    }
    w.commit()?;
    println!("london: {:?}", users_in(&db, "london")?);
    assert_eq!(users_in(&db, "london")?, ["ada", "alan"]);

    // Alan moves: the user and the index change in one commit, so no reader ever sees him in
    // both cities or in neither.
    let mut w = db.begin_write()?;
    put_user(&mut w, 3, "alan", "manchester")?;
    w.commit()?;
    println!("london: {:?}", users_in(&db, "london")?);
    println!("manchester: {:?}", users_in(&db, "manchester")?);
    assert_eq!(users_in(&db, "london")?, ["ada"]);
    assert_eq!(users_in(&db, "manchester")?, ["alan"]);
    // "london" sorts before "londonderry" whatever the ids: tuple elements are delimited.
    let mut w = db.begin_write()?;
    put_user(&mut w, 0, "seamus", "londonderry")?;
    w.commit()?;
    assert_eq!(users_in(&db, "london")?, ["ada"]);
    assert!(db.check()?.is_clean());
    Ok(())
}

#[test]
fn runs() {
    main().unwrap();
}
