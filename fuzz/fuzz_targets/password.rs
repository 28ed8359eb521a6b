//! Password candidates (subject, text and HTML bodies) and the HTML de-tagger on arbitrary text.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("password", data));
