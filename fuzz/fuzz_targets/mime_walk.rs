//! The whole walker on arbitrary bytes: sniffing, then mail, ZIP, OOXML, OLE/VBA and executable
//! analysers as the bytes lead, plus the message model on its own.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("mime_walk", data));
