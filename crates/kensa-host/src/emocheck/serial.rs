//! The 32-bit volume serial of the system drive, for v1/v2 offline (`host.md` §3).
//!
//! Sources, in the order an analyst has them:
//! - `vol C:` output: `Volume Serial Number is 1234-ABCD` (English), `ボリューム シリアル番号は
//!   1234-ABCD です` (Japanese), other languages likewise end in `XXXX-XXXX` (always `%04X-%04X`);
//! - `fsutil fsinfo volumeinfo C:`: `Volume Serial Number : 0x1234abcd`; `fsutil fsinfo ntfsinfo C:`:
//!   `NTFS Volume Serial Number : 0x<16 hex digits>` (the 64-bit NTFS serial: low half);
//! - a bare number: `1234ABCD`, `0x1234abcd`, `1234-ABCD`;
//! - the volume boot sector: NTFS (OEM id `NTFS    ` @3, 64-bit serial @0x48, low half reported by
//!   Windows), exFAT (`EXFAT   ` @3, serial @0x64), FAT32 (signature 0x29 @0x42, serial @0x43),
//!   FAT12/16 (signature 0x29 @0x26, serial @0x27, `FAT` @0x36). All little-endian.

/// [`parse_vol_output`] reads at most this many bytes of text.
pub const MAX_VOL_TEXT: usize = 64 * 1024;

/// Words marking the serial-number line in `vol`/`fsutil` output (lowercased comparison).
const SERIAL_WORDS: [&str; 6] = [
    "serial",
    "serie",
    "série",
    "シリアル",
    "序列号",
    "일련 번호",
];

/// The serial as `vol` prints it: `1234-ABCD`.
pub fn format_serial(serial: u32) -> String {
    format!("{:04X}-{:04X}", serial >> 16, serial & 0xFFFF)
}

/// The serial from an NTFS boot sector: OEM id `NTFS    ` at offset 3 and the low 32 bits of the
/// 64-bit little-endian serial at 0x48. `None` for anything else or a short buffer.
pub fn serial_from_ntfs_boot_sector(sector: &[u8]) -> Option<u32> {
    if sector.get(3..11)? != b"NTFS    " {
        return None;
    }
    let serial: [u8; 8] = sector.get(0x48..0x50)?.try_into().ok()?;
    Some(u64::from_le_bytes(serial) as u32)
}

/// The serial from an NTFS, exFAT, FAT32 or FAT12/16 boot sector (see the module notes).
pub fn serial_from_boot_sector(sector: &[u8]) -> Option<u32> {
    if let Some(serial) = serial_from_ntfs_boot_sector(sector) {
        return Some(serial);
    }
    let oem = sector.get(3..11)?;
    if oem == b"EXFAT   " {
        return le_u32(sector, 0x64);
    }
    if sector.get(0x42) == Some(&0x29) && sector.get(0x52..0x57) == Some(b"FAT32") {
        return le_u32(sector, 0x43);
    }
    if sector.get(0x26) == Some(&0x29) && sector.get(0x36..0x39) == Some(b"FAT") {
        return le_u32(sector, 0x27);
    }
    None
}

/// The serial from `vol` or `fsutil` output, or from a bare hex number (see the module notes).
/// Preference: `XXXX-XXXX` on a serial-number line, then `0x…` on such a line, then the last
/// `XXXX-XXXX` anywhere (the label line comes first in `vol`), then the whole text as one number.
pub fn parse_vol_output(text: &str) -> Option<u32> {
    let text = truncate(text, MAX_VOL_TEXT);
    let serial_lines = || {
        text.lines().filter(|l| {
            let lower = l.to_lowercase();
            SERIAL_WORDS.iter().any(|w| lower.contains(w))
        })
    };
    serial_lines()
        .find_map(dashed_token)
        .or_else(|| serial_lines().find_map(prefixed_hex_token))
        .or_else(|| text.lines().rev().find_map(dashed_token))
        .or_else(|| bare_number(text.trim()))
}

/// A whole text that is `XXXX-XXXX`, `0x` + 1–16 hex digits, or 1–16 hex digits (more than 8
/// digits: a 64-bit NTFS serial, low half).
fn bare_number(s: &str) -> Option<u32> {
    if s.len() == 9
        && let Some(serial) = dashed_token(s)
    {
        return Some(serial);
    }
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    hex_low32(digits)
}

/// 1–16 hex digits → the low 32 bits.
fn hex_low32(digits: &str) -> Option<u32> {
    let ok = (1..=16).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return None;
    }
    u64::from_str_radix(digits, 16).ok().map(|v| v as u32)
}

/// The first `XXXX-XXXX` token (4 hex digits, `-`, 4 hex digits, not inside a longer word).
fn dashed_token(line: &str) -> Option<u32> {
    let b = line.as_bytes();
    (0..b.len()).find_map(|i| {
        let token = b.get(i..i + 9)?;
        let boundary_before = i == 0 || b.get(i - 1).is_some_and(|c| !c.is_ascii_alphanumeric());
        let boundary_after = b.get(i + 9).is_none_or(|c| !c.is_ascii_alphanumeric());
        let shape = token[4] == b'-'
            && token[..4].iter().all(u8::is_ascii_hexdigit)
            && token[5..].iter().all(u8::is_ascii_hexdigit);
        if !(boundary_before && boundary_after && shape) {
            return None;
        }
        let hi = u32::from_str_radix(line.get(i..i + 4)?, 16).ok()?;
        let lo = u32::from_str_radix(line.get(i + 5..i + 9)?, 16).ok()?;
        Some(hi << 16 | lo)
    })
}

/// The first `0x` + 1–16 hex digits token on a line, low 32 bits.
fn prefixed_hex_token(line: &str) -> Option<u32> {
    let b = line.as_bytes();
    (0..b.len()).find_map(|i| {
        let starts = b.get(i) == Some(&b'0') && matches!(b.get(i + 1), Some(b'x' | b'X'));
        let boundary_before = i == 0 || b.get(i - 1).is_some_and(|c| !c.is_ascii_alphanumeric());
        if !(starts && boundary_before) {
            return None;
        }
        let digits_len = b
            .get(i + 2..)?
            .iter()
            .take_while(|c| c.is_ascii_hexdigit())
            .count();
        let after = b.get(i + 2 + digits_len);
        if after.is_some_and(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        hex_low32(line.get(i + 2..i + 2 + digits_len)?)
    })
}

/// Little-endian u32 at `at`.
fn le_u32(b: &[u8], at: usize) -> Option<u32> {
    let bytes: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(bytes))
}

/// At most `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}
