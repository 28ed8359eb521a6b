//! DDE fields and formula injection: Word binary, WordprocessingML, spreadsheet XML, CSV/SYLK.
#![no_main]

use kensa_formats::dde;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for f in dde::word_binary(data) {
        let _ = dde::is_dangerous(&f);
    }
    let text = String::from_utf8_lossy(data);
    let _ = dde::wordprocessing_xml(&text);
    let _ = dde::spreadsheet_xml(&text);
    let _ = dde::csv(&text);
});
