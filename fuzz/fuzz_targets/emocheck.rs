//! EmoCheck helpers on attacker text: boot sectors, `vol` output, v2 decoding, command lines, Windows paths.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("emocheck", data));
