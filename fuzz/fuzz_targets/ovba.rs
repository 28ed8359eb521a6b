//! MS-OVBA decompression, the carving search for compressed module sources, and OLE Package
//! (`\x01Ole10Native`) streams, all of which take raw stream bytes.
#![no_main]

use kensa_formats::{ole10native, ovba};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ovba::decompress(data, 1 << 20);
    let _ = ovba::find_compressed_source(data, 1 << 20);
    let _ = ole10native::parse(data, 1 << 20);
});
