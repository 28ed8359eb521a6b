//! `mime_walk` on bytes first mapped to an RFC 822-ish alphabet, so that mutations stay in header,
//! boundary and encoded-word syntax and reach deeper MIME states. Bytes already in the alphabet
//! are kept (real mail seeds keep their shape); any other byte `b` becomes `ALPHABET[b % len]`.
#![no_main]

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::run("mime_rfc822_alphabet", data));
