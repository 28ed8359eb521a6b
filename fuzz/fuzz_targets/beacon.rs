//! RITA beacon scoring on connection records made of the input, and domain classification.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("beacon", data));
