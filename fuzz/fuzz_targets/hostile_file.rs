//! Structure-aware fuzzing of hostile database files: the input is a mutation program applied
//! to a valid database (see the harness for the language), then every kind of access runs on
//! the result. Any panic, abort or hang is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../crates/nevar/tests/hostile/mod.rs"]
mod hostile;

fuzz_target!(|program: &[u8]| {
    hostile::exercise(hostile::mutate(program));
});
