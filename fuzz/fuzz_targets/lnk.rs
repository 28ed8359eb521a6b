//! Windows shortcut parsing and its risk assessment.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("lnk", data));
