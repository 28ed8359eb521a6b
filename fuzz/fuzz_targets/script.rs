//! Script classification and assessment, .url parsing, Script Encoder decoding.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("script", data));
