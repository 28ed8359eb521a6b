//! RTF object extraction: control words, `\objdata` hex and `\bin`, OLE1 headers.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("rtf", data));
