//! OLE / CFB: parse, list, read every stream (1 MiB each), then VBA project extraction.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("cfb", data));
