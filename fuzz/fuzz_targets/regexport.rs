//! `.reg` export reader (regedit's UTF-16 files and REGEDIT4).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("regexport", data));
