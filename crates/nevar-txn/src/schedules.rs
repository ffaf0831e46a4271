//! Settings shared by the shuttle model checks (`readers.rs`, `group/model.rs`).

/// `NEVAR_SEED` when set (printed, so a failing schedule can be replayed), else `default`.
pub(crate) fn seed(default: u64) -> u64 {
    let seed = std::env::var("NEVAR_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default);
    eprintln!("shuttle schedules from NEVAR_SEED={seed}");
    seed
}

/// `short` schedules in CI; `long` of them with `NEVAR_LONG=1`.
pub(crate) fn iterations(short: usize, long: usize) -> usize {
    if std::env::var_os("NEVAR_LONG").is_some() {
        long
    } else {
        short
    }
}
