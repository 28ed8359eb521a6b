//! Process-list exports (tasklist, PowerShell CSV/JSON, WMIC, kensa JSONL) and file listings.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("proclist", data));
