//! OLE Package objects: the `\x01Ole10Native` stream Office uses to embed (or link) an arbitrary file
//! in a document (spec §2.7). Layout: u32 size, u16, label (NUL-terminated), source path
//! (NUL-terminated), u32 kind — 0x0003_0000 embedded: u32 temp-path length, temp path, u32 data size,
//! data; 0x0001_0000 link: the path only. Names are ANSI: non-Latin characters are already lost when
//! Office writes them (`ünicöde-???????????.txt`).

/// What the package holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// The file itself (cut at the cap given to [`parse`]; `truncated` says so).
    Embedded { data: Vec<u8>, truncated: bool },
    /// Only a path to a file on the victim's machine or a share.
    Link,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The file name shown under the icon.
    pub label: String,
    /// The path the file was taken from (for a link: the target).
    pub source_path: String,
    pub content: Content,
}

/// Why a stream is not a package.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackageError {
    #[error("Ole10Native ends at offset {offset} inside the {what}")]
    Truncated { offset: usize, what: &'static str },
    #[error("Ole10Native: unknown package kind {kind:#010x} at offset {offset}")]
    UnknownKind { kind: u32, offset: usize },
}

const EMBEDDED: u32 = 0x0003_0000;
const LINK: u32 = 0x0001_0000;
/// Names and paths longer than this are not names: the stream is damaged or hostile.
const MAX_NAME: usize = 4096;

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], PackageError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or(PackageError::Truncated {
            offset: self.data.len(),
            what,
        })?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, PackageError> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A NUL-terminated ANSI string of at most MAX_NAME bytes.
    fn cstr(&mut self, what: &'static str) -> Result<String, PackageError> {
        let rest = &self.data[self.pos..];
        let window = &rest[..rest.len().min(MAX_NAME + 1)];
        let n = memchr::memchr(0, window).ok_or(PackageError::Truncated {
            offset: self.pos + window.len(),
            what,
        })?;
        let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&window[..n]);
        self.pos += n + 1;
        Ok(text.into_owned())
    }
}

/// Parse an `\x01Ole10Native` stream, keeping at most `max_data` bytes of an embedded file.
pub fn parse(stream: &[u8], max_data: usize) -> Result<Package, PackageError> {
    let mut r = Reader {
        data: stream,
        pos: 0,
    };
    r.u32("size")?;
    r.take(2, "flags")?;
    let label = r.cstr("label")?;
    let source_path = r.cstr("source path")?;
    let kind_at = r.pos;
    let kind = r.u32("kind")?;
    let content = match kind {
        EMBEDDED => {
            let temp_len = r.u32("temp path length")? as usize;
            r.take(temp_len, "temp path")?;
            let size = r.u32("data size")? as usize;
            let available = stream.len() - r.pos;
            let keep = size.min(available).min(max_data);
            let data = r.take(keep, "data")?.to_vec();
            Content::Embedded {
                truncated: size > keep,
                data,
            }
        }
        LINK => Content::Link,
        kind => {
            return Err(PackageError::UnknownKind {
                kind,
                offset: kind_at,
            });
        }
    };
    Ok(Package {
        label,
        source_path,
        content,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(label: &str, kind: u32, tail: &[u8]) -> Vec<u8> {
        let mut p = vec![0, 0, 0, 0, 2, 0];
        p.extend_from_slice(label.as_bytes());
        p.push(0);
        p.extend_from_slice(b"C:\\src\\");
        p.extend_from_slice(label.as_bytes());
        p.push(0);
        p.extend_from_slice(&kind.to_le_bytes());
        p.extend_from_slice(tail);
        p
    }

    #[test]
    fn embedded_and_link() {
        let mut tail = 5u32.to_le_bytes().to_vec();
        tail.extend_from_slice(b"C:\\t\0");
        tail.extend_from_slice(&4u32.to_le_bytes());
        tail.extend_from_slice(b"MZ\x90\x00");
        let p = parse(&package("calc.exe", EMBEDDED, &tail), 1 << 20).expect("parses");
        assert_eq!(p.label, "calc.exe");
        assert_eq!(p.source_path, "C:\\src\\calc.exe");
        assert_eq!(
            p.content,
            Content::Embedded {
                data: b"MZ\x90\x00".to_vec(),
                truncated: false
            }
        );
        let cut = parse(&package("calc.exe", EMBEDDED, &tail), 2).expect("parses");
        assert!(
            matches!(cut.content, Content::Embedded { truncated: true, ref data } if data.len() == 2)
        );
        let link = parse(&package("calc.exe", LINK, b"\x01\x00C:\\x\0"), 1 << 20).expect("parses");
        assert_eq!(link.content, Content::Link);
    }

    #[test]
    fn damaged_streams_are_errors() {
        assert!(parse(b"", 10).is_err());
        assert!(parse(&package("a", 7, b""), 10).is_err());
        let mut tail = u32::MAX.to_le_bytes().to_vec();
        tail.extend_from_slice(b"xx");
        assert!(
            parse(&package("a", EMBEDDED, &tail), 10).is_err(),
            "temp path past the end"
        );
        // A declared data size past the end keeps what is there.
        let mut tail = 0u32.to_le_bytes().to_vec();
        tail.extend_from_slice(&u32::MAX.to_le_bytes());
        tail.extend_from_slice(b"abc");
        let p = parse(&package("a", EMBEDDED, &tail), 10).expect("lenient");
        assert!(
            matches!(p.content, Content::Embedded { truncated: true, ref data } if data == b"abc")
        );
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for n in 0..3000 {
            let buf: Vec<u8> = (0..n % 200)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let _ = parse(&buf, 64);
        }
    }
}
