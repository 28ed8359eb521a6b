//! Threat-intel feed parsing, snapshot round trip, index matching, ZIP export reading.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("intel", data));
