//! Excel 4.0 macro detection: BIFF streams, OOXML/XLSB parts and SYLK text.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("xlm", data));
