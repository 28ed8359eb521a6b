//! ISO 9660/Joliet listing and UDF/FAT/NTFS/VHD detection.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("iso", data));
