//! Subject tags (`[SPAM]`, `[SUSPICIOUS]`, `[UNCHECKED]`, or a Japanese `[迷惑メール]`) added without
//! breaking RFC 2047 encoded-words.
//!
//! rspamd/rspamd#86: a tag written *into* an encoded-word, or glued to one without white space,
//! turns the whole subject into garbage for the reader. Here the tag always goes in front of the
//! original value, separated by a space, and the original bytes are kept exactly (folds and
//! encoded-words included). A tag that is not plain ASCII becomes an encoded-word of its own, in the
//! charset of the subject's first encoded-word when that charset can carry it (ISO-2022-JP,
//! Shift_JIS and EUC-JP are still common in Japanese mail and some old readers show nothing else),
//! otherwise UTF-8. When the original starts with an encoded-word, the space a reader should see
//! after the tag is put inside the tag's encoded-word, because white space between two
//! encoded-words is not displayed (RFC 2047 §6.2).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

/// The longest encoded-word RFC 2047 allows (§2).
const MAX_ENCODED_WORD: usize = 75;

/// The new raw header value: `raw` (as received, leading white space included) with `tag` in
/// front. A subject that already starts with the tag is returned unchanged.
pub fn tag_subject(raw: &[u8], tag: &str) -> Vec<u8> {
    let tag = tag.trim();
    let lead_len = raw.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let (lead, rest) = raw.split_at(lead_len);
    if tag.is_empty() || starts_with_tag(rest, tag) {
        return raw.to_vec();
    }
    let mut out = lead.to_vec();
    let rest_is_word = rest.starts_with(b"=?");
    if is_plain(tag) {
        out.extend_from_slice(tag.as_bytes());
    } else {
        let shown = if rest_is_word {
            format!("{tag} ")
        } else {
            tag.to_string()
        };
        out.extend_from_slice(encode_words(&shown, first_charset(rest).as_deref()).as_bytes());
    }
    if !rest.is_empty() {
        out.push(b' ');
        out.extend_from_slice(rest);
    }
    out
}

/// Printable ASCII that cannot be mistaken for the start of an encoded-word.
fn is_plain(tag: &str) -> bool {
    tag.bytes().all(|b| (0x20..0x7f).contains(&b)) && !tag.contains("=?")
}

fn starts_with_tag(rest: &[u8], tag: &str) -> bool {
    if is_plain(tag) {
        return rest.starts_with(tag.as_bytes());
    }
    decode(rest).trim_start().starts_with(tag)
}

/// The subject as a reader sees it (RFC 2047 decoded by mail-parser).
pub fn decode(raw: &[u8]) -> String {
    let mut msg = b"Subject:".to_vec();
    msg.extend_from_slice(raw);
    msg.extend_from_slice(b"\r\n\r\n");
    mail_parser::MessageParser::default()
        .parse(&msg[..])
        .and_then(|m| m.subject().map(str::to_string))
        .unwrap_or_default()
}

/// The charset of the first encoded-word in `value`, lowercased (`=?ISO-2022-JP?B?…` → `iso-2022-jp`).
fn first_charset(value: &[u8]) -> Option<String> {
    let start = value.windows(2).position(|w| w == b"=?")? + 2;
    let tail = value.get(start..)?;
    let end = tail.iter().position(|&b| b == b'?')?;
    let label = std::str::from_utf8(tail.get(..end)?).ok()?;
    // RFC 2231 language suffix: `=?utf-8*ja?B?…`.
    let label = label.split('*').next().unwrap_or(label);
    Some(label.to_ascii_lowercase())
}

/// `text` as one or more B encoded-words: in `charset` when it is a Japanese charset that can
/// encode every character and the word fits, else UTF-8 split at character boundaries.
fn encode_words(text: &str, charset: Option<&str>) -> String {
    let japanese = match charset {
        Some("iso-2022-jp") => Some(("ISO-2022-JP", encoding_rs::ISO_2022_JP)),
        Some("shift_jis" | "shift-jis" | "sjis" | "cp932" | "windows-31j") => {
            Some(("Shift_JIS", encoding_rs::SHIFT_JIS))
        }
        Some("euc-jp") => Some(("EUC-JP", encoding_rs::EUC_JP)),
        _ => None,
    };
    if let Some((label, enc)) = japanese {
        let (bytes, _, had_errors) = enc.encode(text);
        let word = format!("=?{label}?B?{}?=", B64.encode(&bytes));
        if !had_errors && word.len() <= MAX_ENCODED_WORD {
            return word;
        }
    }
    // UTF-8: "=?UTF-8?B?" + "?=" is 12 characters; 63 left hold 45 bytes of base64 input.
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", B64.encode(chunk.as_bytes())));
    }
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tagged(raw: &str, tag: &str) -> String {
        String::from_utf8(tag_subject(raw.as_bytes(), tag)).unwrap()
    }

    #[test]
    fn ascii_tag_before_plain_and_encoded_subjects() {
        assert_eq!(tagged(" Invoice 42", "[SPAM]"), " [SPAM] Invoice 42");
        // ISO-2022-JP "請求書" as Japanese mailers write it.
        let raw = " =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?=";
        let out = tagged(raw, "[SPAM]");
        assert_eq!(out, " [SPAM] =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?=");
        assert_eq!(decode(out.as_bytes()), "[SPAM] 請求書");
    }

    #[test]
    fn japanese_tag_uses_the_subjects_charset() {
        let raw = " =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?=";
        let out = tagged(raw, "[迷惑メール]");
        assert!(out.starts_with(" =?ISO-2022-JP?B?"), "{out}");
        assert!(out.ends_with(" =?ISO-2022-JP?B?GyRCQEE1YT1xGyhC?="));
        assert_eq!(decode(out.as_bytes()), "[迷惑メール] 請求書");

        let out = tagged(" Re: meeting", "[迷惑メール]");
        assert!(out.starts_with(" =?UTF-8?B?"), "{out}");
        assert_eq!(decode(out.as_bytes()), "[迷惑メール] Re: meeting");
    }

    #[test]
    fn folded_subject_keeps_its_folds() {
        let raw = " =?UTF-8?B?44GK6KaL56mN44KC44KK?=\r\n =?UTF-8?B?44Gu5Lu25Lu2?=";
        let out = tagged(raw, "[UNCHECKED]");
        assert_eq!(out, format!(" [UNCHECKED]{raw}"));
        assert_eq!(
            decode(out.as_bytes()),
            format!("[UNCHECKED] {}", decode(raw.as_bytes()))
        );
    }

    #[test]
    fn already_tagged_and_empty() {
        assert_eq!(tagged(" [SPAM] x", "[SPAM]"), " [SPAM] x");
        let once = tagged(" x", "[迷惑]");
        assert_eq!(tagged(&once, "[迷惑]"), once);
        assert_eq!(tagged(" ", "[SPAM]"), " [SPAM]");
        assert_eq!(tagged("", "[SPAM]"), "[SPAM]");
    }

    #[test]
    fn long_tag_is_split_into_valid_words() {
        let tag = "【注意】外部から届いたパスワード付きファイルを含むメールです";
        let out = tagged(" hi", tag);
        for w in out.split(' ').filter(|w| w.starts_with("=?")) {
            assert!(w.len() <= MAX_ENCODED_WORD, "{w}");
        }
        assert_eq!(decode(out.as_bytes()), format!("{tag} hi"));
    }

    #[test]
    fn raw_eight_bit_subject_is_kept() {
        let raw = " 請求書のご確認".as_bytes();
        let out = tag_subject(raw, "[SPAM]");
        assert_eq!(&out[..8], b" [SPAM] ");
        assert_eq!(&out[8..], &raw[1..]);
    }
}
