//! Validation of custom SMTP reply texts ([`Reply::ReplyCode`](super::Reply::ReplyCode)) against libmilter's
//! `smfi_setreply` rules and Postfix's reply check, so that no attacker-derived text can break
//! the SMTP reply the MTA sends.

use super::MAX_REPLY_TEXT;

/// Whether `text` is a safe single-line custom reply for [`Reply::ReplyCode`](super::Reply::ReplyCode): `4xx` or `5xx`
/// (libmilter `smfi_setreply`: first digit 4 or 5, then two digits), then either the end or one
/// space and the rest; when the rest starts with a digit it must be an enhanced status code
/// `c.d.d` (1–3 digits per part, libmilter `myisenhsc`) whose class `c` equals the first digit of
/// the code (Postfix milter8.c rejects a mismatch as a "malformed reply"), followed by the end or a
/// space. The whole text is printable ASCII (no CR, LF, NUL or other control bytes: libmilter fails
/// on CR/LF), every `%` is doubled (`%%`; Sendmail treats the text as a format string and Postfix
/// drops a lone `%`), and the text after the code is at most [`MAX_REPLY_TEXT`] bytes.
pub fn validate_replycode(text: &[u8]) -> bool {
    let Some((code, rest)) = text.split_first_chunk::<3>() else {
        return false;
    };
    if !matches!(code[0], b'4' | b'5') || !code[1].is_ascii_digit() || !code[2].is_ascii_digit() {
        return false;
    }
    if !text.iter().all(|&b| (0x20..0x7f).contains(&b)) || !percent_doubled(text) {
        return false;
    }
    let Some((&sep, rest)) = rest.split_first() else {
        return true;
    };
    if sep != b' ' || rest.len() > MAX_REPLY_TEXT {
        return false;
    }
    match rest.first() {
        Some(d) if d.is_ascii_digit() => enhanced_status_len(rest, code[0])
            .is_some_and(|n| matches!(rest.get(n), None | Some(b' '))),
        _ => true,
    }
}

/// Length of an enhanced status code `class.d{1,3}.d{1,3}` at the start of `s`.
fn enhanced_status_len(s: &[u8], class: u8) -> Option<usize> {
    if s.first() != Some(&class) || s.get(1) != Some(&b'.') {
        return None;
    }
    let subject = digits(s.get(2..)?);
    if subject == 0 || s.get(2 + subject) != Some(&b'.') {
        return None;
    }
    let start = 3 + subject;
    let detail = digits(s.get(start..)?);
    (detail > 0).then_some(start + detail)
}

/// Number of leading ASCII digits, if 1–3 (more than 3 digits counts as 0: invalid).
fn digits(s: &[u8]) -> usize {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n <= 3 { n } else { 0 }
}

/// Whether every `%` in `text` is part of a `%%` pair.
fn percent_doubled(text: &[u8]) -> bool {
    let mut iter = text.iter();
    while let Some(&b) = iter.next() {
        if b == b'%' && iter.next() != Some(&b'%') {
            return false;
        }
    }
    true
}
