//! Excel 4.0 macro detection: BIFF streams, OOXML/XLSB parts and SYLK text.
#![no_main]

use kensa_formats::xlm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = xlm::scan_biff(data);
    let _ = xlm::scan_slk(data);
    let _ = xlm::looks_like_slk(data);
    let mut report = xlm::XlmReport::default();
    // The same bytes as each kind of package part the scanner distinguishes by name.
    for part in [
        "[Content_Types].xml",
        "xl/workbook.xml",
        "xl/_rels/workbook.xml.rels",
        "xl/macrosheets/sheet1.xml",
        "xl/workbook.bin",
        "xl/macrosheets/sheet1.bin",
    ] {
        xlm::scan_ooxml_part(part, None, data, &mut report);
    }
});
