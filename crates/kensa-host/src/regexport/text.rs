//! Text decoding shared by the text-format artefact readers (`.reg` exports, task XML, process lists,
//! file listings). Collected Windows text comes in a handful of encodings:
//!
//! 1. a byte-order mark decides: `FF FE` UTF-16LE (regedit, Task Scheduler, wmic, PowerShell 5.1 `>`),
//!    `FE FF` UTF-16BE, `EF BB BF` UTF-8 (PowerShell 5.1 `-Encoding UTF8`);
//! 2. without a BOM, a NUL in the first or second byte position means UTF-16 (LE or BE) without BOM;
//! 3. otherwise UTF-8 when the bytes are valid UTF-8 (PowerShell 7 writes UTF-8 without BOM);
//! 4. otherwise the ANSI code page of the machine that wrote it: Shift_JIS (encoding_rs's Shift_JIS is
//!    the WHATWG one, i.e. Windows code page 932, what a Japanese Windows writes) when the bytes decode
//!    without error, else windows-1252 (Western Windows; never fails).
//!
//! Invalid sequences in the chosen encoding become U+FFFD and are flagged in [`Decoded::lossy`].
//! This module is crate-internal; it lives here because `regexport` was the first user.

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// Text decoded from collected bytes, with what was used to decode it.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    /// The text, BOM removed.
    pub text: String,
    /// The encoding used: `"UTF-8"`, `"UTF-16LE"`, `"UTF-16BE"`, `"Shift_JIS"` or `"windows-1252"`.
    pub encoding: &'static str,
    /// Whether undecodable sequences were replaced with U+FFFD.
    pub lossy: bool,
}

/// Decodes `data` following the order in the module doc.
pub(crate) fn decode(data: &[u8]) -> Decoded {
    if let Some((enc, bom_len)) = Encoding::for_bom(data) {
        let rest = data.get(bom_len..).unwrap_or_default();
        return with(enc, rest);
    }
    match data {
        [a, 0, ..] if *a != 0 => return with(UTF_16LE, data),
        [0, b, ..] if *b != 0 => return with(UTF_16BE, data),
        _ => {}
    }
    let (text, encoding) = decode_ansi(data);
    Decoded {
        text,
        encoding,
        lossy: false,
    }
}

/// Decodes bytes written in "the ANSI code page": UTF-8 if valid, else Shift_JIS (cp932) if it decodes
/// cleanly, else windows-1252. Never lossy (windows-1252 maps every byte).
pub(crate) fn decode_ansi(data: &[u8]) -> (String, &'static str) {
    if let Ok(s) = std::str::from_utf8(data) {
        return (s.to_owned(), "UTF-8");
    }
    if let Some(s) = SHIFT_JIS.decode_without_bom_handling_and_without_replacement(data) {
        return (s.into_owned(), "Shift_JIS");
    }
    let (s, _) = WINDOWS_1252.decode_without_bom_handling(data);
    (s.into_owned(), "windows-1252")
}

/// Decodes `data` as ANSI in the named encoding (`"Shift_JIS"` or `"windows-1252"`), or with the
/// [`decode_ansi`] heuristics for any other name.
pub(crate) fn decode_ansi_as(data: &[u8], encoding: &str) -> String {
    let enc = match encoding {
        "Shift_JIS" => SHIFT_JIS,
        "windows-1252" => WINDOWS_1252,
        _ => return decode_ansi(data).0,
    };
    enc.decode_without_bom_handling(data).0.into_owned()
}

fn with(enc: &'static Encoding, bytes: &[u8]) -> Decoded {
    let (text, lossy) = enc.decode_without_bom_handling(bytes);
    let encoding = if enc == UTF_8 {
        "UTF-8"
    } else if enc == UTF_16LE {
        "UTF-16LE"
    } else if enc == UTF_16BE {
        "UTF-16BE"
    } else {
        enc.name()
    };
    Decoded {
        text: text.into_owned(),
        encoding,
        lossy,
    }
}

/// Encodes `s` as UTF-16LE bytes (no BOM, no terminator).
pub(crate) fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// Splits text into lines on CR LF, a lone CR or a lone LF (as regedit's importer does), numbering
/// them from 1.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    let mut number = 0usize;
    std::iter::from_fn(move || {
        let s = rest?;
        number = number.saturating_add(1);
        match s.find(['\r', '\n']) {
            Some(i) => {
                let line = s.get(..i).unwrap_or_default();
                let after = s.get(i..).unwrap_or_default();
                let skip = if after.starts_with("\r\n") { 2 } else { 1 };
                let next = after.get(skip..).unwrap_or_default();
                rest = if next.is_empty() { None } else { Some(next) };
                Some((number, line))
            }
            None => {
                rest = None;
                Some((number, s))
            }
        }
    })
}

/// Deterministic input mutation for the robustness tests of every text-format reader.
#[cfg(test)]
pub(crate) mod mutate {
    /// xorshift64 generator.
    pub(crate) struct XorShift(pub u64);

    impl XorShift {
        pub(crate) fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        pub(crate) fn below(&mut self, n: usize) -> usize {
            if n == 0 {
                0
            } else {
                (self.next() % n as u64) as usize
            }
        }
    }

    /// Bytes that matter to the text formats read here (quotes, escapes, brackets, separators,
    /// line ends, NUL, XML markup).
    const INTERESTING: &[u8] = b"\"\\[]@=,;:-()\r\n\0\xff<>&/ \t0123456789abcdefx";

    /// Calls `check` on `count` variants of the `seeds`: truncations, bit flips, interesting-byte
    /// overwrites, insertions, deletions and duplicated chunks.
    pub(crate) fn for_each_variant(seeds: &[Vec<u8>], count: usize, mut check: impl FnMut(&[u8])) {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for i in 0..count {
            let Some(seed) = seeds.get(i % seeds.len().max(1)) else {
                return;
            };
            let mut v = seed.clone();
            let ops = 1 + rng.below(4);
            for _ in 0..ops {
                mutate_once(&mut rng, &mut v);
            }
            check(&v);
        }
    }

    fn mutate_once(rng: &mut XorShift, v: &mut Vec<u8>) {
        let len = v.len();
        match rng.below(6) {
            0 => v.truncate(rng.below(len + 1)),
            1 if len > 0 => {
                let i = rng.below(len);
                v[i] ^= 1 << rng.below(8);
            }
            2 if len > 0 => {
                let i = rng.below(len);
                v[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            3 => {
                let i = rng.below(len + 1);
                let b = INTERESTING[rng.below(INTERESTING.len())];
                v.insert(i, b);
            }
            4 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(64)).min(len);
                v.drain(a..b);
            }
            5 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(256)).min(len);
                let chunk = v[a..b].to_vec();
                let at = rng.below(len + 1);
                v.splice(at..at, chunk);
            }
            _ => v.push(rng.next() as u8),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boms_and_guesses() {
        let d = decode(&[0xFF, 0xFE, b'a', 0, 0x42, 0x30]);
        assert_eq!(
            (d.text.as_str(), d.encoding, d.lossy),
            ("aあ", "UTF-16LE", false)
        );
        let d = decode(&[b'a', 0, b'b', 0]);
        assert_eq!((d.text.as_str(), d.encoding), ("ab", "UTF-16LE"));
        let d = decode(&[0xEF, 0xBB, 0xBF, b'x']);
        assert_eq!((d.text.as_str(), d.encoding), ("x", "UTF-8"));
        let d = decode("日本".as_bytes());
        assert_eq!(d.encoding, "UTF-8");
        // "日本" in cp932
        let d = decode(&[0x93, 0xFA, 0x96, 0x7B]);
        assert_eq!((d.text.as_str(), d.encoding), ("日本", "Shift_JIS"));
        // 0x81 0x20 is not valid Shift_JIS (bad trail byte) → windows-1252
        let d = decode(&[b'c', 0x81, 0x20, 0xE9]);
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.text.ends_with('é'));
        // odd UTF-16 length is lossy, not a panic
        let d = decode(&[0xFF, 0xFE, b'a']);
        assert!(d.lossy);
    }

    #[test]
    fn line_splitting() {
        let v: Vec<_> = lines("a\r\nb\rc\n\nd").collect();
        assert_eq!(v, vec![(1, "a"), (2, "b"), (3, "c"), (4, ""), (5, "d")]);
        let v: Vec<_> = lines("a\r\n").collect();
        assert_eq!(v, vec![(1, "a")]);
        assert_eq!(lines("").count(), 1);
    }
}
