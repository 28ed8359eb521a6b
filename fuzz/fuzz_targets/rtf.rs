//! RTF object extraction: control words, `\objdata` hex and `\bin`, OLE1 headers.
#![no_main]

use kensa_formats::rtf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = rtf::is_rtf(data);
    let _ = rtf::scan(data, 1 << 20, 64);
});
