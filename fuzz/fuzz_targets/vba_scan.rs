//! The VBA keyword / IOC / decoded-literal scan on arbitrary text.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("vba_scan", data));
