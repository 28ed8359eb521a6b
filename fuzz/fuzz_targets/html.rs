//! HTML smuggling patterns, blob decoding and visible text.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("html", data));
