//! Windows shortcut parsing and its risk assessment.
#![no_main]

use kensa_formats::lnk;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(l) = lnk::parse(data) {
        let _ = lnk::assess(&l);
    }
});
