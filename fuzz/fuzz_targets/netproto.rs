//! HTTP, TLS (JA3/JA3S, certificates), DNS and SMTP parsers on the two halves of the input.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("netproto", data));
