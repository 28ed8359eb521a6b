//! The whole walker on arbitrary bytes: sniffing, then mail, ZIP, OOXML, OLE/VBA and executable
//! analysers as the bytes lead, plus the message model on its own.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = kensa_scan::scan_bytes("fuzz.eml", data, &kensa_scan::ScanOptions::default());
    let _ = kensa_mail::message::Mail::parse(data);
});
