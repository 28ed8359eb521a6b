//! ZIP listing and every entry read without a password and with `infected`, 1 MiB each.
#![no_main]

use kensa_formats::zip::Zip;
use libfuzzer_sys::fuzz_target;

const CAP: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(mut zip) = Zip::open(data, 256) else {
        return;
    };
    let indexes: Vec<usize> = zip.entries.iter().map(|e| e.index).collect();
    for index in indexes {
        let _ = zip.read(index, None, CAP);
        let _ = zip.read(index, Some(b"infected"), CAP);
    }
});
