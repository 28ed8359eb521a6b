//! `mime_walk` on bytes first mapped to an RFC 822-ish alphabet, so that mutations stay in header,
//! boundary and encoded-word syntax and reach deeper MIME states. Bytes already in the alphabet
//! are kept (real mail seeds keep their shape); any other byte `b` becomes `ALPHABET[b % len]`.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Kept in step with `to_alphabet` in `crates/kensa-scan/tests/fuzz_regressions.rs`.
const ALPHABET: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789: \r\n=?-;\"<>@/.+";

fuzz_target!(|data: &[u8]| {
    let mapped: Vec<u8> = data
        .iter()
        .map(|&b| {
            if ALPHABET.contains(&b) {
                b
            } else {
                ALPHABET[usize::from(b) % ALPHABET.len()]
            }
        })
        .collect();
    let _ = kensa_scan::scan_bytes("fuzz.eml", &mapped, &kensa_scan::ScanOptions::default());
    let _ = kensa_mail::message::Mail::parse(&mapped);
});
