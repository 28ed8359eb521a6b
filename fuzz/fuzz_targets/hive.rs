//! Registry hive reader (regf cells, subkey lists, big data) and transaction-log replay.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("hive", data));
