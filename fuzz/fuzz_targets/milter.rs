//! Milter protocol codec (both directions), SMTP reply validation, subject tagging.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("milter", data));
