//! DDE fields and formula injection: Word binary, WordprocessingML, spreadsheet XML, CSV/SYLK.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("dde", data));
