//! ZIP listing and guarded extraction on the `zip` crate (ZipCrypto and WinZip AES decryption).
//!
//! The crate does the format work; this wrapper adds what hostile input needs: a cap on the number
//! of entries listed, a cap on the bytes taken from one entry, names decoded as Japanese Windows
//! archivers write them (Shift_JIS without the UTF-8 flag), and one error type with the entry.

use std::io::Cursor;

use zip::ZipArchive;

use crate::pad::Stripped;
use zip::result::ZipError as LibError;

/// A ZIP could not be listed or an entry could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ZipError {
    #[error("not a readable ZIP archive: {0}")]
    Open(String),
    #[error("entry {index}: {reason}")]
    Entry { index: usize, reason: String },
    #[error("entry {index}: wrong password")]
    WrongPassword { index: usize },
    #[error("entry {index}: encrypted and no password given")]
    NeedsPassword { index: usize },
}

/// What the central directory says about one entry.
#[derive(Debug, Clone)]
pub struct ZipEntry {
    pub index: usize,
    pub name: String,
    pub size: u64,
    pub compressed_size: u64,
    pub encrypted: bool,
    /// WinZip AES (method 99) rather than ZipCrypto.
    pub aes: bool,
    pub method: String,
    pub is_dir: bool,
}

impl ZipEntry {
    /// Declared size over compressed size (1 when nothing is compressed).
    pub fn ratio(&self) -> u64 {
        self.size / self.compressed_size.max(1)
    }
}

/// An opened archive over borrowed bytes. Cloning is cheap (the central directory is shared), so
/// several threads can each read entries from their own clone.
#[derive(Clone)]
pub struct Zip<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    pub entries: Vec<ZipEntry>,
    /// Entries the archive declares, including those past the listing cap.
    pub declared_entries: usize,
    /// Bytes before the first local header (junk prepended to hide the archive).
    pub prefix_bytes: u64,
}

impl<'a> Zip<'a> {
    /// Open and list at most `max_entries` entries.
    pub fn open(data: &'a [u8], max_entries: usize) -> Result<Zip<'a>, ZipError> {
        let mut archive =
            ZipArchive::new(Cursor::new(data)).map_err(|e| ZipError::Open(e.to_string()))?;
        let declared_entries = archive.len();
        let prefix_bytes = archive.offset();
        let mut entries = Vec::with_capacity(declared_entries.min(max_entries));
        for index in 0..declared_entries.min(max_entries) {
            let f = match archive.by_index_raw(index) {
                Ok(f) => f,
                Err(e) => {
                    return Err(ZipError::Entry {
                        index,
                        reason: e.to_string(),
                    });
                }
            };
            let method = f.compression();
            entries.push(ZipEntry {
                index,
                name: decode_name(f.name_raw(), f.name().ok().as_deref()),
                size: f.size(),
                compressed_size: f.compressed_size(),
                encrypted: f.encrypted(),
                aes: matches!(method, zip::CompressionMethod::Aes)
                    || f.extra_data().is_some_and(|x| has_aes_extra(&x)),
                method: format!("{method:?}"),
                is_dir: f.is_dir(),
            });
        }
        Ok(Zip {
            archive,
            entries,
            declared_entries,
            prefix_bytes,
        })
    }

    /// Read one entry, decrypting with `password` if it is encrypted, taking at most `cap` bytes.
    /// Returns the bytes and whether the entry was cut at `cap`.
    pub fn read(
        &mut self,
        index: usize,
        password: Option<&[u8]>,
        cap: usize,
    ) -> Result<(Vec<u8>, bool), ZipError> {
        let max_read = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
        let s = self.read_member(index, password, cap, max_read)?;
        Ok((s.data, s.cut))
    }

    /// Read one entry to its end (at most `max_read` decompressed bytes), keeping at most `cap`
    /// bytes with long runs of padding dropped ([`crate::pad`]): a 500 MB zero-padded document
    /// comes back as the document, in constant memory.
    pub fn read_member(
        &mut self,
        index: usize,
        password: Option<&[u8]>,
        cap: usize,
        max_read: u64,
    ) -> Result<Stripped, ZipError> {
        let encrypted = self.entries.get(index).is_some_and(|e| e.encrypted);
        let file = match (encrypted, password) {
            (true, None) => return Err(ZipError::NeedsPassword { index }),
            (true, Some(pw)) => self.archive.by_index_decrypt(index, pw),
            (false, _) => self.archive.by_index(index),
        };
        let file = file.map_err(|e| match e {
            LibError::InvalidPassword => ZipError::WrongPassword { index },
            other => ZipError::Entry {
                index,
                reason: other.to_string(),
            },
        })?;
        match crate::pad::read_stripped(file, cap, max_read) {
            Ok(s) => Ok(s),
            // A ZipCrypto header check passes for 1 in 256 wrong passwords; the CRC at the end then
            // fails. Report that as a wrong password, not as a broken archive.
            Err(e)
                if encrypted
                    && (e.to_string().contains("checksum")
                        || e.kind() == std::io::ErrorKind::InvalidData) =>
            {
                Err(ZipError::WrongPassword { index })
            }
            Err(e) => Err(ZipError::Entry {
                index,
                reason: e.to_string(),
            }),
        }
    }
}

/// The WinZip AES extra field (header ID 0x9901) anywhere in the extra data.
fn has_aes_extra(extra: &[u8]) -> bool {
    let mut i = 0usize;
    while i + 4 <= extra.len() {
        let id = u16::from_le_bytes([extra[i], extra[i + 1]]);
        let len = usize::from(u16::from_le_bytes([extra[i + 2], extra[i + 3]]));
        if id == 0x9901 {
            return true;
        }
        i = i.saturating_add(4).saturating_add(len);
    }
    false
}

/// Names without the UTF-8 flag are CP437 by the standard, but Japanese Windows archivers write
/// Shift_JIS: prefer valid UTF-8, then Shift_JIS that decodes without errors, then the crate's CP437.
fn decode_name(raw: &[u8], lib: Option<&str>) -> String {
    if let Ok(s) = std::str::from_utf8(raw) {
        return s.to_string();
    }
    let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.decode(raw);
    if !had_errors {
        return sjis.into_owned();
    }
    lib.map(str::to_string)
        .unwrap_or_else(|| String::from_utf8_lossy(raw).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(path: &str) -> Vec<u8> {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/");
        std::fs::read(format!("{p}{path}")).expect("corpus file")
    }

    #[test]
    fn lists_and_decrypts_the_emotet_zip_in_memory() {
        let data = corpus("office/emotet-droppers-2019-06.zip");
        let mut z = Zip::open(&data, 1000).expect("opens");
        assert!(z.declared_entries > 50);
        let first_file = z
            .entries
            .iter()
            .find(|e| !e.is_dir && e.encrypted)
            .expect("an encrypted entry")
            .index;
        assert!(matches!(
            z.read(first_file, None, 1 << 20),
            Err(ZipError::NeedsPassword { .. })
        ));
        assert!(matches!(
            z.read(first_file, Some(b"not-it"), 1 << 20),
            Err(ZipError::WrongPassword { .. })
        ));
        let (bytes, cut) = z
            .read(first_file, Some(b"infected"), 64 << 20)
            .expect("decrypts");
        assert!(!bytes.is_empty() && !cut);
        let (head, cut) = z.read(first_file, Some(b"infected"), 16).expect("decrypts");
        assert_eq!((head.len(), cut), (16, true));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Zip::open(b"PK\x03\x04 not really", 10).is_err());
        assert!(Zip::open(b"", 10).is_err());
    }

    #[test]
    fn shift_jis_names() {
        // "請求書.doc" in Shift_JIS.
        let raw = b"\x90\xbf\x8b\x81\x8f\x91.doc";
        assert_eq!(decode_name(raw, None), "請求書.doc");
    }
}
