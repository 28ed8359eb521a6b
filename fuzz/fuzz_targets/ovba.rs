//! MS-OVBA decompression and the carving search for compressed module sources.
#![no_main]

use kensa_formats::ovba;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = ovba::decompress(data, 1 << 20);
    let _ = ovba::find_compressed_source(data, 1 << 20);
});
