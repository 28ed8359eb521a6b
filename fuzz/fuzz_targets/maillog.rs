//! Mail-server log parsing (Postfix, Exim) and the burst detector.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("maillog", data));
