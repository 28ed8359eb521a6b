//! MS-OVBA decompression, the carving search for compressed module sources, and OLE Package
//! (`\x01Ole10Native`) streams, all of which take raw stream bytes.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("ovba", data));
