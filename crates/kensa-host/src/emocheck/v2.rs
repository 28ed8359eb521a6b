//! v2: the XOR-encoded process name Emotet (2020-02-06 → 2020-08-06) kept in the registry.
//!
//! `scan_v2.cpp`: a REG_BINARY value named by the volume serial in lowercase hex without leading
//! zeros (`std::hex`), under the three Explorer keys of [`V2_KEYS`]. Data byte k is XORed with byte
//! (k mod 4) of the serial, little-endian; decoded bytes b with 0x20 < b < 0x7E are kept (NUL,
//! space, DEL and everything else dropped); `.exe` is appended and compared with process names.
//!
//! Offline ([`v2_decode_offline`], **[derived]** in `host.md` §1.3) the serial is not needed: the
//! value name is the serial, so each value named by 1–8 hex digits decodes with its own name.

/// The three keys EmoCheck reads, in its order (HKCU; HKLM for a 32-bit admin install; HKLM
/// WOW6432Node for a 64-bit admin install).
pub const V2_KEYS: [&str; 3] = [
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer",
    "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer",
    "HKLM\\Software\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer",
];

/// The same keys as (hive file, path inside that hive) for offline triage: HKCU is a profile's
/// `NTUSER.DAT`, HKLM\Software the `SOFTWARE` hive (whose root is `HKLM\Software`).
pub const V2_KEYS_OFFLINE: [(&str, &str); 3] = [
    (
        "NTUSER.DAT",
        "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer",
    ),
    ("SOFTWARE", "Microsoft\\Windows\\CurrentVersion\\Explorer"),
    (
        "SOFTWARE",
        "WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Explorer",
    ),
];

/// Longest base name [`v2_decode_offline`] accepts (System32 base names are far shorter).
pub const V2_MAX_NAME: usize = 80;

/// Shortest base name [`v2_decode_offline`] accepts.
const V2_MIN_NAME: usize = 3;

/// The value name EmoCheck looks up: the serial in lowercase hex, no leading zeros (`0` for 0).
pub fn v2_value_name(serial: u32) -> String {
    format!("{serial:x}")
}

/// The serial a value name stands for: 1–8 ASCII hex digits, either case (registry value names
/// are case-insensitive, so EmoCheck's lookup also finds upper-case names). Leading zeros are
/// accepted here although EmoCheck's own lookup would never produce them.
pub fn v2_value_serial(value_name: &str) -> Option<u32> {
    let ok =
        (1..=8).contains(&value_name.len()) && value_name.bytes().all(|b| b.is_ascii_hexdigit());
    if !ok {
        return None;
    }
    u32::from_str_radix(value_name, 16).ok()
}

/// EmoCheck's decoding (compat): XOR with the serial's little-endian bytes, keep 0x20 < b < 0x7E.
/// Returns the base name without `.exe`; EmoCheck ignores an empty result.
pub fn v2_decode(data: &[u8], serial: u32) -> String {
    xor_serial(data, serial)
        .filter(|b| (0x21..0x7E).contains(b))
        .map(char::from)
        .collect()
}

/// **\[derived\]** offline decoding: `value_name` must be 1–8 hex digits ([`v2_value_serial`]) and is
/// the key. Because any short hex-named binary value decodes to *something*, the result is kept
/// only if the whole decoded buffer looks like a System32 exe/dll base name:
///
/// - it is name characters followed by zero or more NUL bytes (Emotet's trailing terminator),
///   nothing else — no byte that EmoCheck's filter would silently drop;
/// - the name characters are `[A-Za-z0-9_.-]`, 3 to [`V2_MAX_NAME`] of them;
/// - the first is a letter or digit and at least one is a letter.
///
/// When kept, the result equals [`v2_decode`] for the same data and serial.
pub fn v2_decode_offline(value_name: &str, data: &[u8]) -> Option<String> {
    let serial = v2_value_serial(value_name)?;
    let decoded: Vec<u8> = xor_serial(data, serial).collect();
    let name_len = decoded
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |last| last + 1);
    let name = decoded.get(..name_len)?;
    let looks_like_name = (V2_MIN_NAME..=V2_MAX_NAME).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && name.first().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.iter().any(|b| b.is_ascii_alphabetic());
    looks_like_name.then(|| name.iter().copied().map(char::from).collect())
}

/// Data XORed with the serial's bytes, little-endian, byte k with key byte k mod 4.
fn xor_serial(data: &[u8], serial: u32) -> impl Iterator<Item = u8> + '_ {
    let key = serial.to_le_bytes();
    data.iter()
        .zip(key.into_iter().cycle())
        .map(|(&d, k)| d ^ k)
}
