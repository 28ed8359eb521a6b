//! Outlook .msg parsing (properties, recipients, attachments, embedded messages).
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("msg", data));
