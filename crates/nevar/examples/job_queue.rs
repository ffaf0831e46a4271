//! A durable job queue: producers `append` jobs under increasing ids, workers `pop_first`
//! the oldest one, each step one atomic, durable commit. A job popped by a worker whose
//! transaction aborts (here: a job that "fails") stays in the queue for the next worker.
//!
//! Run with `cargo run -p nevar --example job_queue`.

use nevar::{Database, Error, TreeDef};

/// Job id -> payload.
const JOBS: TreeDef<u64, &str> = TreeDef::new("jobs");
/// Results of finished jobs: id -> outcome.
const DONE: TreeDef<u64, String> = TreeDef::new("done");

fn enqueue(db: &Database, payload: &str) -> nevar::Result<u64> {
    let mut w = db.begin_write()?;
    let id = {
        let mut jobs = w.open_tree(JOBS)?;
        let next = jobs.last()?.map_or(1, |(id, _)| id + 1);
        jobs.append(next, payload)?;
        next
    };
    w.commit()?;
    Ok(id)
}

/// Takes the oldest job, runs it and records its result in the same transaction: either
/// both happen or, if the job fails, neither does and the job waits for a retry.
fn work_one(
    db: &Database,
    run: impl FnOnce(&str) -> Result<String, String>,
) -> nevar::Result<Option<u64>> {
    let mut w = db.begin_write()?;
    let Some((id, payload)) = w.open_tree(JOBS)?.pop_first()? else {
        return Ok(None);
    };
    match run(&payload) {
        Ok(outcome) => {
            w.open_tree(DONE)?.insert(id, &outcome)?;
            w.commit()?;
            Ok(Some(id))
        }
        Err(why) => {
            println!("job {id} failed ({why}); it stays queued");
            Ok(None) // dropping `w` aborts: the pop is undone
        }
    }
}

fn main() -> nevar::Result<()> {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = Database::open(dir.path().join("queue.nevar"))?;
    for payload in ["resize photo 1", "resize photo 2", "send newsletter"] {
        let id = enqueue(&db, payload)?;
        println!("queued job {id}: {payload}");
    }
    // Appending an id that is not past the last one is refused, and nothing changes.
    let mut w = db.begin_write()?;
    assert!(matches!(
        w.open_tree(JOBS)?.append(2, "late"),
        Err(Error::KeyOutOfOrder)
    ));
    drop(w);

    let mut attempts = 0;
    while db.begin_read()?.open_tree(JOBS)?.len()? > 0 {
        attempts += 1;
        let first_try = attempts == 1;
        work_one(&db, |payload| {
            if first_try {
                Err("the image service is down".to_owned())
            } else {
                Ok(format!("done: {payload}"))
            }
        })?;
    }
    let r = db.begin_read()?;
    for item in r.open_tree(DONE)?.iter()? {
        let (id, outcome) = item?;
        println!("job {id}: {outcome}");
    }
    assert_eq!(r.open_tree(DONE)?.len()?, 3);
    Ok(())
}

#[test]
fn runs() {
    main().unwrap();
}
