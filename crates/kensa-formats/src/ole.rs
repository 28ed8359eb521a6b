//! OLE / Compound File Binary (MS-CFB) access on top of the `cfb` crate.
//!
//! A thin wrapper for hostile input: the file is a borrowed byte slice, the entry list is capped at
//! [`MAX_ENTRIES`], stream reads are capped by the caller, names are compared case-insensitively
//! (Office does; calamine `capitalized_wbook_stream.xls` names its workbook `BOOK`), and a panic
//! inside `cfb` becomes an [`OleError::Panicked`].
//!
//! Why `catch_unwind`: `cfb` 0.16 validates what it reads (chain cycles, sibling-tree loops, sector
//! indexes), but it indexes its directory and unwraps its internal lock in many places; a panic in a
//! parser would take the whole scanner down. Unwinding out of `cfb` leaves its lock poisoned, so
//! after one panic this wrapper refuses further reads of the same file. An allocation failure
//! aborts rather than unwinds: stream reads are capped by the caller and `cfb` reserves no more
//! than the sector chain behind a stream, itself bounded by the input size.

use std::borrow::Cow;
use std::io::{Cursor, Read, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use thiserror::Error;

/// The eight bytes every compound file starts with.
pub const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Most entries (storages and streams) listed by [`OleFile::entries`].
pub const MAX_ENTRIES: usize = 100_000;

/// Errors of this module. Each names the stream path (`'/'`-joined, see [`OleEntry::path`]) or the
/// byte offset it concerns.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OleError {
    /// The data does not start with [`OLE_MAGIC`].
    #[error("not an OLE compound file (no magic at offset 0, {len} bytes)")]
    NotOle { len: usize },
    /// `cfb` refused the header, FAT, DIFAT, directory or MiniFAT.
    #[error("malformed OLE compound file ({len} bytes): {detail}")]
    Malformed { len: usize, detail: String },
    /// `cfb` panicked; the file is not read any further.
    #[error("OLE reader panicked while {during}: {detail}")]
    Panicked { during: String, detail: String },
    /// No stream with that path (compared case-insensitively).
    #[error("no OLE stream {path:?}")]
    NotFound { path: String },
    /// The path names a storage.
    #[error("OLE entry {path:?} is a storage, not a stream")]
    NotAStream { path: String },
    /// The stream is longer than the caller's limit (see [`OleFile::read_stream`]).
    #[error("OLE stream {path:?} holds {size} bytes, more than the limit of {max}")]
    TooLarge { path: String, size: u64, max: usize },
    /// The sector chain behind the stream is broken.
    #[error("reading OLE stream {path:?} failed at stream offset {offset}: {detail}")]
    Read {
        path: String,
        offset: u64,
        detail: String,
    },
}

/// Entries copied into a rebuilt storage ([`OleFile::storage_as_file`]); each copy looks its
/// stream up by path, so the cap also bounds that work.
const MAX_REBUILD_ENTRIES: usize = 4096;

/// One storage or stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OleEntry {
    /// `'/'`-joined names from the root, e.g. `Macros/VBA/Module1`; root children have no leading
    /// `'/'`. Names are kept as stored, control characters included (`\x01CompObj`).
    pub path: String,
    /// True for a stream, false for a storage.
    pub is_stream: bool,
    /// Declared size in bytes (0 for storages). Hostile files may declare more than they hold.
    pub size: u64,
}

/// A parsed compound file over borrowed bytes (or, for a truncated file, a zero-padded copy).
pub struct OleFile<'a> {
    cfb: cfb::CompoundFile<Cursor<Cow<'a, [u8]>>>,
    entries: Vec<OleEntry>,
    /// The path as `cfb` knows it, parallel to `entries`.
    cfb_paths: Vec<PathBuf>,
    truncated: bool,
    data_len: usize,
    padded: usize,
    poisoned: bool,
}

impl std::fmt::Debug for OleFile<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OleFile")
            .field("entries", &self.entries.len())
            .field("truncated", &self.truncated)
            .field("data_len", &self.data_len)
            .field("padded", &self.padded)
            .finish()
    }
}

/// True when `data` starts with the OLE magic `D0 CF 11 E0 A1 B1 1A E1`.
pub fn is_ole(data: &[u8]) -> bool {
    data.starts_with(&OLE_MAGIC)
}

/// Case-insensitive name comparison (Unicode simple lowercase; ASCII fast path).
pub fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// The last `'/'`-separated component of an entry path.
pub fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The storage path holding an entry (`""` for root children).
pub fn parent_path(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Most zero bytes appended to a truncated file: as many as the file holds, at least 1 MiB.
const MIN_PAD_CAP: usize = 1 << 20;

/// The length a truncated file needs for every sector its FAT uses (as listed by the header's
/// 109 DIFAT slots) to exist, when that is longer than the file and within the padding cap.
fn padded_len(data: &[u8]) -> Option<usize> {
    let u16_at = |at: usize| Some(u16::from_le_bytes(data.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(data.get(at..at + 4)?.try_into().ok()?));
    let sector_len: usize = match u16_at(0x1A)? {
        3 => 512,
        4 => 4096,
        _ => return None,
    };
    let per_sector = sector_len / 4;
    let mut needed = 0usize;
    for slot in 0..109usize {
        let fat_sector = u32_at(0x4C + slot * 4)?;
        if fat_sector > 0xFFFF_FFFA {
            continue;
        }
        let start = (usize::try_from(fat_sector).ok()? + 1).checked_mul(sector_len)?;
        let Some(bytes) = data.get(start..start.checked_add(sector_len)?) else {
            continue;
        };
        for (j, entry) in bytes.chunks_exact(4).enumerate() {
            // `cfb` itself drops trailing free, zero, FAT and DIFAT entries past the end.
            let value = u32::from_le_bytes(entry.try_into().ok()?);
            if !matches!(value, 0 | 0xFFFF_FFFC | 0xFFFF_FFFD | 0xFFFF_FFFF) {
                needed = needed.max(slot * per_sector + j + 1);
            }
        }
    }
    let want = needed.checked_add(1)?.checked_mul(sector_len)?;
    let cap = data.len().saturating_add(data.len().max(MIN_PAD_CAP));
    (want > data.len() && want <= cap).then_some(want)
}

fn panic_detail(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

impl<'a> OleFile<'a> {
    /// Opens a compound file leniently (`cfb`'s permissive mode: bad padding, odd root names,
    /// adjacent red nodes and wrong header counts are accepted) and lists its entries.
    pub fn parse(data: &'a [u8]) -> Result<Self, OleError> {
        if !is_ole(data) {
            return Err(OleError::NotOle { len: data.len() });
        }
        match Self::open(Cow::Borrowed(data)) {
            Err(OleError::Malformed { len, detail }) => {
                // A truncated file (sectors the FAT uses lie past the end) is refused by `cfb`;
                // Office and olefile read what is there, so retry on a copy padded with zeros.
                let Some(padded_len) = padded_len(data) else {
                    return Err(OleError::Malformed { len, detail });
                };
                let mut copy = Vec::with_capacity(padded_len);
                copy.extend_from_slice(data);
                copy.resize(padded_len, 0);
                let mut ole = Self::open(Cow::Owned(copy))
                    .map_err(|_| OleError::Malformed { len, detail })?;
                ole.data_len = data.len();
                ole.padded = padded_len - data.len();
                Ok(ole)
            }
            other => other,
        }
    }

    fn open(data: Cow<'a, [u8]>) -> Result<Self, OleError> {
        let len = data.len();
        let opened = catch_unwind(AssertUnwindSafe(|| {
            cfb::CompoundFile::open(Cursor::new(data)).map(|cfb| {
                let mut entries = Vec::new();
                let mut cfb_paths = Vec::new();
                let mut truncated = false;
                for entry in cfb.walk() {
                    if entry.is_root() {
                        continue;
                    }
                    if entries.len() >= MAX_ENTRIES {
                        truncated = true;
                        break;
                    }
                    // Names cannot hold '/' or '\' (cfb rejects them), so the joined path is
                    // unambiguous; '\' only appears as the separator on Windows.
                    let text = entry.path().to_string_lossy().replace('\\', "/");
                    entries.push(OleEntry {
                        path: text.trim_start_matches('/').to_string(),
                        is_stream: entry.is_stream(),
                        size: if entry.is_stream() { entry.len() } else { 0 },
                    });
                    cfb_paths.push(entry.path().to_path_buf());
                }
                (cfb, entries, cfb_paths, truncated)
            })
        }));
        match opened {
            Ok(Ok((cfb, entries, cfb_paths, truncated))) => Ok(OleFile {
                cfb,
                entries,
                cfb_paths,
                truncated,
                data_len: len,
                padded: 0,
                poisoned: false,
            }),
            Ok(Err(e)) => Err(OleError::Malformed {
                len,
                detail: e.to_string(),
            }),
            Err(payload) => Err(OleError::Panicked {
                during: "opening the file".to_string(),
                detail: panic_detail(payload.as_ref()),
            }),
        }
    }

    /// Zero bytes appended because the file was truncated (0 for a whole file).
    pub fn padded_bytes(&self) -> usize {
        self.padded
    }

    /// Every storage and stream except the root, in pre-order, at most [`MAX_ENTRIES`].
    pub fn entries(&self) -> &[OleEntry] {
        &self.entries
    }

    /// True when the file has more than [`MAX_ENTRIES`] entries and the list was cut.
    pub fn entries_truncated(&self) -> bool {
        self.truncated
    }

    /// The entry at `path` (exact match first, then case-insensitive).
    pub fn entry(&self, path: &str) -> Option<&OleEntry> {
        self.index_of(path).and_then(|i| self.entries.get(i))
    }

    fn index_of(&self, path: &str) -> Option<usize> {
        let path = path.trim_start_matches('/');
        self.entries
            .iter()
            .position(|e| e.path == path)
            .or_else(|| {
                self.entries
                    .iter()
                    .position(|e| eq_ignore_case(&e.path, path))
            })
    }

    /// Reads a whole stream of at most `max` bytes. The path is matched case-insensitively (an
    /// exact match wins). A stream declaring more than `max` bytes is an [`OleError::TooLarge`]
    /// error, never silently cut: use [`OleFile::read_stream_prefix`] to get its first bytes.
    pub fn read_stream(&mut self, path: &str, max: usize) -> Result<Vec<u8>, OleError> {
        let (data, truncated, size) = self.read_capped(path, max)?;
        if truncated {
            return Err(OleError::TooLarge {
                path: path.to_string(),
                size,
                max,
            });
        }
        Ok(data)
    }

    /// Reads the first `max` bytes of a stream; the flag is true when the stream holds more.
    pub fn read_stream_prefix(
        &mut self,
        path: &str,
        max: usize,
    ) -> Result<(Vec<u8>, bool), OleError> {
        self.read_capped(path, max).map(|(d, t, _)| (d, t))
    }

    fn read_capped(&mut self, path: &str, max: usize) -> Result<(Vec<u8>, bool, u64), OleError> {
        let not_found = || OleError::NotFound {
            path: path.to_string(),
        };
        let idx = self.index_of(path).ok_or_else(not_found)?;
        let entry = self.entries.get(idx).ok_or_else(not_found)?;
        if !entry.is_stream {
            return Err(OleError::NotAStream {
                path: entry.path.clone(),
            });
        }
        let shown = entry.path.clone();
        if self.poisoned {
            return Err(OleError::Panicked {
                during: format!("reading stream {shown:?}"),
                detail: "an earlier panic left the reader unusable".to_string(),
            });
        }
        let cfb_path = self.cfb_paths.get(idx).cloned().ok_or_else(not_found)?;
        let data_len = self.data_len;
        let cfb = &mut self.cfb;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut stream = cfb.open_stream(&cfb_path).map_err(|e| (0u64, 0u64, e))?;
            let size = stream.len();
            let limit = usize::try_from(size).unwrap_or(usize::MAX).min(max);
            // The file itself bounds what a stream can really hold.
            let mut out = Vec::with_capacity(limit.min(data_len));
            let read = (&mut stream)
                .take(limit as u64)
                .read_to_end(&mut out)
                .map(|_| ())
                .map_err(|e| (size, out.len() as u64, e));
            read.map(|()| (out, size > limit as u64, size))
        }));
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err((_, offset, e))) => Err(OleError::Read {
                path: shown,
                offset,
                detail: e.to_string(),
            }),
            Err(payload) => {
                self.poisoned = true;
                Err(OleError::Panicked {
                    during: format!("reading stream {shown:?}"),
                    detail: panic_detail(payload.as_ref()),
                })
            }
        }
    }

    /// The storage at `storage` and everything below it, written out as a standalone compound file:
    /// an embedded document (`ObjectPool/_1234` in Word, `MBD…` in Excel) as its own file. At most
    /// `max_bytes` of stream data are copied; the flag says streams were cut or left out.
    pub fn storage_as_file(
        &mut self,
        storage: &str,
        max_bytes: usize,
    ) -> Result<(Vec<u8>, bool), OleError> {
        let prefix = format!("{storage}/");
        let inside: Vec<OleEntry> = self
            .entries
            .iter()
            .filter(|e| {
                e.path.len() > prefix.len()
                    && e.path.is_char_boundary(prefix.len())
                    && eq_ignore_case(&e.path[..prefix.len()], &prefix)
            })
            .cloned()
            .collect();
        let mut cut = inside.len() > MAX_REBUILD_ENTRIES;
        let mut items = Vec::with_capacity(inside.len().min(MAX_REBUILD_ENTRIES));
        let mut left = max_bytes;
        for e in inside.into_iter().take(MAX_REBUILD_ENTRIES) {
            let rel = format!("/{}", &e.path[prefix.len()..]);
            if !e.is_stream {
                items.push((rel, None));
                continue;
            }
            // An unreadable stream is left out and the copy marked cut, not the whole storage
            // given up: the rest (a VBA project) is still analysed.
            match self.read_stream_prefix(&e.path, left) {
                Ok((data, short)) => {
                    left = left.saturating_sub(data.len());
                    cut |= short;
                    items.push((rel, Some(data)));
                }
                Err(_) if !self.poisoned => cut = true,
                Err(e) => return Err(e),
            }
        }
        let (bytes, skipped) =
            build_compound_file(&items).map_err(|detail| OleError::Panicked {
                during: format!("rebuilding storage {storage:?}"),
                detail,
            })?;
        Ok((bytes, cut || skipped > 0))
    }

    /// Paths of the streams whose last component equals `name` case-insensitively.
    pub fn find_streams(&self, name: &str) -> Vec<String> {
        self.entries
            .iter()
            .filter(|e| e.is_stream && eq_ignore_case(base_name(&e.path), name))
            .map(|e| e.path.clone())
            .collect()
    }

    /// Entries directly inside the storage at `storage` (`""` for the root), case-insensitively.
    pub fn children<'s>(&'s self, storage: &'s str) -> impl Iterator<Item = &'s OleEntry> + 's {
        self.entries
            .iter()
            .filter(move |e| eq_ignore_case(parent_path(&e.path), storage))
    }
}

/// Writes storages (`None`) and streams into a new version-3 compound file, parents first.
/// Returns the file and how many entries were refused (bad names, duplicates).
pub(crate) fn build_compound_file(
    items: &[(String, Option<Vec<u8>>)],
) -> Result<(Vec<u8>, usize), String> {
    let built = catch_unwind(AssertUnwindSafe(|| -> std::io::Result<(Vec<u8>, usize)> {
        let mut out =
            cfb::CompoundFile::create_with_version(cfb::Version::V3, Cursor::new(Vec::new()))?;
        let mut skipped = 0usize;
        for (path, data) in items {
            let done = match data {
                None => out.create_storage(path),
                Some(bytes) => out
                    .create_new_stream(path)
                    .and_then(|mut s| s.write_all(bytes)),
            };
            skipped += usize::from(done.is_err());
        }
        out.flush()?;
        Ok((out.into_inner().into_inner(), skipped))
    }));
    match built {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the compound file writer panicked".to_string()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Also home of the corpus helpers the `ovba` and `vba` tests use.
    use super::*;
    use crate::vba::{VbaLimits, extract};
    use std::io::Read;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

    pub(crate) fn corpus(rel: &str) -> Vec<u8> {
        let path = format!("{CORPUS}/{rel}");
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Every file member of a ZIP, read in memory (decrypted with `password` when given).
    fn zip_members(bytes: &[u8], password: Option<&[u8]>) -> Vec<(String, Vec<u8>)> {
        let mut zip = ::zip::ZipArchive::new(Cursor::new(bytes)).expect("zip");
        let mut out = Vec::new();
        for i in 0..zip.len() {
            let mut f = match password {
                Some(pw) => zip.by_index_decrypt(i, pw),
                None => zip.by_index(i),
            }
            .expect("member");
            let name = f.name().map(|n| n.to_string()).unwrap_or_default();
            let mut data = Vec::new();
            (&mut f)
                .take(64 << 20)
                .read_to_end(&mut data)
                .expect("read");
            out.push((name, data));
        }
        out
    }

    /// The OLE member of an OOXML package, found by its magic.
    pub(crate) fn ole_in_zip(bytes: &[u8]) -> Option<Vec<u8>> {
        zip_members(bytes, None)
            .into_iter()
            .map(|(_, d)| d)
            .find(|d| is_ole(d))
    }

    /// The 50 droppers as (sha256, OLE bytes), in memory only: the .docm gives its vbaProject.bin.
    pub(crate) fn droppers() -> Vec<(String, Vec<u8>)> {
        let zip = corpus("office/emotet-droppers-2019-06.zip");
        zip_members(&zip, Some(b"infected"))
            .into_iter()
            .filter(|(n, _)| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(|(n, d)| match is_ole(&d) {
                true => (n, d),
                false => {
                    let ole = ole_in_zip(&d).unwrap_or_else(|| panic!("{n}: no OLE member"));
                    (n, ole)
                }
            })
            .collect()
    }

    fn dropper(prefix: &str) -> Vec<u8> {
        droppers()
            .into_iter()
            .find(|(n, _)| n.starts_with(prefix))
            .map(|(_, d)| d)
            .expect(prefix)
    }

    #[test]
    fn calamine_xls_files_stay_within_limits() {
        let limits = VbaLimits {
            max_module_bytes: 64 << 10,
            max_total_bytes: 256 << 10,
            max_modules: 8,
        };
        let mut seen = 0;
        for entry in std::fs::read_dir(format!("{CORPUS}/office/calamine")).expect("dir") {
            let path = entry.expect("entry").path();
            if path.extension().is_none_or(|e| e != "xls") {
                continue;
            }
            seen += 1;
            let data = std::fs::read(&path).expect("read");
            let Ok(mut ole) = OleFile::parse(&data) else {
                continue;
            };
            for e in ole.entries().to_vec() {
                let _ = ole.read_stream(&e.path, 1 << 20);
            }
            let projects = extract(&mut ole, &limits).expect("extract");
            let modules = projects.iter().flat_map(|p| &p.modules);
            assert!(modules.clone().count() <= limits.max_modules, "{path:?}");
            // Decoding may turn one byte into up to 3 bytes of UTF-8.
            let bytes: usize = modules.map(|m| m.source.len()).sum();
            assert!(bytes <= limits.max_total_bytes * 3, "{path:?}");
        }
        assert!(seen >= 30, "only {seen} .xls files");
    }

    #[test]
    fn magic_and_refusals() {
        assert!(is_ole(&OLE_MAGIC));
        assert!(!is_ole(&OLE_MAGIC[..7]));
        assert!(matches!(
            OleFile::parse(b"PK\x03\x04"),
            Err(OleError::NotOle { len: 4 })
        ));
        let mut junk = OLE_MAGIC.to_vec();
        junk.resize(600, 0xAB);
        assert!(matches!(
            OleFile::parse(&junk),
            Err(OleError::Malformed { len: 600, .. })
        ));
        assert!(OleFile::parse(&OLE_MAGIC).is_err());
    }

    #[test]
    fn entries_paths_and_reads() {
        let data = dropper("fc3a2f00");
        let mut ole = OleFile::parse(&data).expect("ole");
        let paths: Vec<&str> = ole.entries().iter().map(|e| e.path.as_str()).collect();
        assert!(paths.contains(&"Macros"), "{paths:?}");
        assert!(paths.contains(&"Macros/VBA/dir"), "{paths:?}");
        assert!(paths.contains(&"\u{1}CompObj"), "{paths:?}");
        assert!(paths.iter().all(|p| !p.starts_with('/')));
        let dir = ole.entry("Macros/VBA/dir").expect("dir").clone();
        assert!(dir.is_stream && dir.size > 0);
        assert!(!ole.entry("macros").expect("storage").is_stream);

        // Case-insensitive path match; exact size read.
        let a = ole.read_stream("MACROS/vba/DIR", 1 << 20).expect("read");
        assert_eq!(a.len() as u64, dir.size);
        let b = ole
            .read_stream("/Macros/VBA/dir", dir.size as usize)
            .expect("read");
        assert_eq!(a, b);
        // Over the limit: an error by read_stream, a flagged prefix by read_stream_prefix.
        assert!(matches!(
            ole.read_stream("Macros/VBA/dir", 10),
            Err(OleError::TooLarge { max: 10, .. })
        ));
        let (head, cut) = ole
            .read_stream_prefix("Macros/VBA/dir", 10)
            .expect("prefix");
        assert_eq!((head.as_slice(), cut), (&a[..10], true));
        assert!(matches!(
            ole.read_stream("Macros/VBA", 10),
            Err(OleError::NotAStream { .. })
        ));
        assert!(matches!(
            ole.read_stream("Macros/VBA/nope", 10),
            Err(OleError::NotFound { .. })
        ));

        assert_eq!(ole.find_streams("DIR"), ["Macros/VBA/dir"]);
        let compobj = ole.find_streams("\u{1}compobj");
        assert!(
            compobj.len() >= 2 && compobj[0] == "\u{1}CompObj",
            "{compobj:?}"
        );
        assert!(ole.find_streams("VBA").is_empty());
        assert!(ole.children("macros/vba").count() > 3);
    }

    #[test]
    fn capitalized_workbook_stream() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/corpus/office/calamine/capitalized_wbook_stream.xls"
        );
        let data = std::fs::read(path).expect(path);
        let mut ole = OleFile::parse(&data).expect("ole");
        let found = ole.find_streams("book");
        assert_eq!(found.len(), 1, "{:?}", ole.entries());
        assert!(
            !ole.read_stream(&found[0], 1 << 20)
                .expect("read")
                .is_empty()
        );
    }

    #[test]
    fn truncated_file_is_padded() {
        let data = dropper("b1de096e");
        let mut ole = OleFile::parse(&data).expect("ole");
        assert!(ole.padded_bytes() > 0);
        assert!(ole.read_stream("Macros/VBA/dir", 1 << 20).is_ok());
        // A prefix of a whole file: either refused or read, never a panic.
        let whole = dropper("fc3a2f00");
        for cut in (0..whole.len()).step_by(997) {
            if let Ok(mut ole) = OleFile::parse(&whole[..cut]) {
                for e in ole.entries().to_vec() {
                    let _ = ole.read_stream(&e.path, 1 << 20);
                }
            }
        }
    }

    /// Parse + extract on 2000 deterministic mutations of a real dropper (KENSA_FUZZ_ROUNDS for more).
    #[test]
    fn mutated_dropper_never_panics() {
        let data = dropper("fc3a2f00");
        let limits = VbaLimits {
            max_module_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            max_modules: 64,
        };
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let rounds: u32 = std::env::var("KENSA_FUZZ_ROUNDS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(2000);
        let mut opened = 0;
        for round in 0..rounds {
            let mut v = data.clone();
            let len = v.len() as u64;
            match round % 4 {
                // Truncation anywhere.
                0 => v.truncate((next() % len) as usize),
                // Bit flips in the header.
                1 => {
                    for _ in 0..=(next() % 4) {
                        v[(next() % 512) as usize] ^= 1 << (next() % 8);
                    }
                }
                // Bit flips anywhere.
                2 => {
                    for _ in 0..=(next() % 16) {
                        let at = (next() % len) as usize;
                        v[at] ^= 1 << (next() % 8);
                    }
                }
                // A random or special u32 written at an aligned offset (sector ids, sizes).
                _ => {
                    let at = (next() % (len / 4)) as usize * 4;
                    let value = match next() % 4 {
                        0 => 0xFFFF_FFFEu32,
                        1 => 0xFFFF_FFFF,
                        2 => (next() % 512) as u32,
                        _ => next() as u32,
                    };
                    v[at..at + 4].copy_from_slice(&value.to_le_bytes());
                }
            }
            if let Ok(mut ole) = OleFile::parse(&v) {
                opened += 1;
                let _ = extract(&mut ole, &limits);
            }
        }
        assert!(opened > 100, "only {opened} variants opened");
    }
}
