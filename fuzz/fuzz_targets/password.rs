//! Password candidates (subject, text and HTML bodies) and the HTML de-tagger on arbitrary text.
#![no_main]

use kensa_mail::password;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = password::candidates(&text, &[&text], &[&text], &[], 40);
    let _ = password::password_in_text(&text, &[&text], &[&text]);
    let _ = password::html_to_text(&text);
});
