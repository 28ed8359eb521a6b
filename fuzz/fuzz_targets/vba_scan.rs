//! The VBA keyword / IOC / decoded-literal scan on arbitrary text.
#![no_main]

use kensa_formats::vba_scan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vba_scan::scan(&String::from_utf8_lossy(data));
});
