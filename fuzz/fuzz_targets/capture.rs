//! pcap/pcapng reading, the flow table and protocol sniffing on each connection.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("capture", data));
