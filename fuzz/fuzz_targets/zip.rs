//! ZIP listing and every entry read without a password and with `infected`, 1 MiB each.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("zip", data));
