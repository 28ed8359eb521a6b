//! The registry value model shared by the hive reader (`hive`) and the `.reg` export reader
//! (`regexport`): a value is its name, its type number and its raw bytes, decoded on demand.

/// Registry value types (winnt.h).
pub const REG_NONE: u32 = 0;
pub const REG_SZ: u32 = 1;
pub const REG_EXPAND_SZ: u32 = 2;
pub const REG_BINARY: u32 = 3;
pub const REG_DWORD: u32 = 4;
pub const REG_DWORD_BIG_ENDIAN: u32 = 5;
pub const REG_LINK: u32 = 6;
pub const REG_MULTI_SZ: u32 = 7;
pub const REG_QWORD: u32 = 11;

/// One registry value as stored: `name` is empty for the key's default value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegValue {
    pub name: String,
    pub kind: u32,
    pub data: Vec<u8>,
}

impl RegValue {
    /// The data of a string value (REG_SZ, REG_EXPAND_SZ, REG_LINK; REG_MULTI_SZ joined with `\n`),
    /// decoded from UTF-16LE up to the first NUL. `None` for other types.
    pub fn text(&self) -> Option<String> {
        if !matches!(self.kind, REG_SZ | REG_EXPAND_SZ | REG_LINK | REG_MULTI_SZ) {
            return None;
        }
        let units: Vec<u16> = self
            .data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if self.kind == REG_MULTI_SZ {
            let parts: Vec<String> = units
                .split(|&u| u == 0)
                .filter(|p| !p.is_empty())
                .map(String::from_utf16_lossy)
                .collect();
            return Some(parts.join("\n"));
        }
        let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        Some(String::from_utf16_lossy(&units[..end]))
    }

    /// The data of a REG_DWORD (little-endian) or REG_DWORD_BIG_ENDIAN value.
    pub fn dword(&self) -> Option<u32> {
        let b: [u8; 4] = self.data.get(..4)?.try_into().ok()?;
        match self.kind {
            REG_DWORD => Some(u32::from_le_bytes(b)),
            REG_DWORD_BIG_ENDIAN => Some(u32::from_be_bytes(b)),
            _ => None,
        }
    }

    /// A short name for the type, as regedit shows it.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            REG_NONE => "REG_NONE",
            REG_SZ => "REG_SZ",
            REG_EXPAND_SZ => "REG_EXPAND_SZ",
            REG_BINARY => "REG_BINARY",
            REG_DWORD => "REG_DWORD",
            REG_DWORD_BIG_ENDIAN => "REG_DWORD_BIG_ENDIAN",
            REG_LINK => "REG_LINK",
            REG_MULTI_SZ => "REG_MULTI_SZ",
            REG_QWORD => "REG_QWORD",
            _ => "REG_UNKNOWN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(s: &str) -> Vec<u8> {
        s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn strings_stop_at_nul_and_multi_joins() {
        let mut d = utf16("abc");
        d.extend([0, 0, b'x', 0]);
        let v = RegValue {
            name: "n".into(),
            kind: REG_EXPAND_SZ,
            data: d,
        };
        assert_eq!(v.text().as_deref(), Some("abc"));
        let mut m = utf16("a");
        m.extend([0, 0]);
        m.extend(utf16("bc"));
        m.extend([0, 0, 0, 0]);
        let v = RegValue {
            name: "m".into(),
            kind: REG_MULTI_SZ,
            data: m,
        };
        assert_eq!(v.text().as_deref(), Some("a\nbc"));
        let v = RegValue {
            name: "b".into(),
            kind: REG_BINARY,
            data: vec![1],
        };
        assert_eq!(v.text(), None);
    }

    #[test]
    fn dwords() {
        let v = RegValue {
            name: String::new(),
            kind: REG_DWORD,
            data: vec![1, 0, 0, 0],
        };
        assert_eq!(v.dword(), Some(1));
        let v = RegValue {
            name: String::new(),
            kind: REG_DWORD,
            data: vec![1, 0],
        };
        assert_eq!(v.dword(), None);
    }
}
