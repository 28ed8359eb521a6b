//! A small read-only reader of Windows registry hive files ("regf"), safe on hostile input.
//!
//! Why our own: `nt-hive` is GPL and panics on files without the magic, `notatin` does not build with
//! nom 8 (see the toolchain notes); kensa only needs keys, values and the transaction logs.
//!
//! # Format facts used (all numbers little-endian)
//! - **Base block** (first 4096 bytes): `regf` @0, primary / secondary sequence numbers @4 / @8 (equal
//!   after a clean write, different = dirty), last-written FILETIME @12, major / minor version @20 /
//!   @24, file type @28 (0 primary, 1 old log, 6 new log), file format @32, root cell offset @36,
//!   hive bins data size @40, file name (UTF-16LE, 64 bytes) @48, XOR-32 checksum of bytes 0..508
//!   @508.
//! - **Hive bins data** starts at file offset 4096; every cell offset below is relative to it
//!   (file offset = 4096 + cell offset). Hive bins (`hbin`, own offset, size) hold **cells**: an i32
//!   size (negative = allocated, absolute value includes the size field) followed by the cell data.
//! - **nk** (key node): flags u16 @2 (0x20 = name in Latin-1, else UTF-16LE), last written @4,
//!   subkey count @20, subkey list @28, value count @36, value list @40, name length u16 @72, name
//!   @76.
//! - **Subkey lists**: `li` (u16 count, u32 offsets), `lf` / `lh` (u16 count, offset + 4-byte hint
//!   or hash), `ri` (u16 count, offsets of further lists).
//! - **Value list**: a cell of u32 vk offsets (count in the nk). **vk**: name length u16 @2, data
//!   size u32 @4 (bit 31 set = up to 4 bytes stored in the data offset field itself), data offset
//!   @8, type @12, flags u16 @16 (bit 0 = Latin-1 name), name @20.
//! - **db** (big data, hive version ≥ 1.4, data > 16,344 bytes): u16 segment count @2, segment list
//!   offset @4; each segment cell holds up to 16,344 bytes.
//!
//! # Limits (hostile input)
//! Every read is bounds-checked; nothing panics. Key nesting is capped at [`MAX_DEPTH`], nested
//! `ri` lists at [`MAX_RI_DEPTH`], big data at [`MAX_BIG_DATA`], value data at its declared size and
//! at what the file holds. Each cell may be used once per traversal (a second use is reported as a
//! cycle), which bounds the work of [`walk`] by the file size. Problems are collected, not fatal:
//! [`walk`] and the `*_partial` methods of [`Key`] return what could be read plus the problems
//! with their file offsets.
//!
//! Transaction logs (new format, Windows 8.1+) are applied by [`apply_logs`].

mod cells;
mod log;
mod walk;

#[cfg(test)]
mod log_tests;
#[cfg(test)]
mod tests;

pub use cells::Key;
pub use log::{Recovered, apply_logs};
pub use walk::{WalkStats, walk};

use cells::{Cells, read_u32, read_u64};

/// Size of the base block; the hive bins data starts right after it.
pub const BASE_BLOCK_LEN: usize = 4096;
/// Deepest key nesting followed by [`walk`].
pub const MAX_DEPTH: usize = 512;
/// Deepest nesting of `ri` (index root) subkey lists (Windows writes one level).
pub const MAX_RI_DEPTH: usize = 4;
/// Largest value data assembled from big-data (`db`) segments.
pub const MAX_BIG_DATA: usize = 16 * 1024 * 1024;
/// Most problems kept by one traversal; later ones are only counted.
pub const MAX_PROBLEMS: usize = 10_000;

/// What went wrong, and where: `offset` is always a file offset (for cells: 4096 + cell offset).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HiveError {
    /// The file is shorter than a base block.
    #[error("not a registry hive: {len} bytes, shorter than the 4096-byte base block (offset 0)")]
    TooShort { len: usize },
    /// No `regf` signature at offset 0.
    #[error("not a registry hive: no \"regf\" signature at offset 0 (found {found:02x?})")]
    NotAHive { found: Vec<u8> },
    /// The hive bins data is shorter than the base block declares.
    #[error(
        "hive bins data truncated: the base block declares {declared} bytes, the file holds {available} after offset 4096"
    )]
    TruncatedFile { declared: u64, available: u64 },
    /// A cell offset points outside the hive bins data.
    #[error("{what} at file offset {offset:#x} lies outside the hive bins data ({bins_len} bytes)")]
    OutOfBounds {
        what: &'static str,
        offset: u64,
        bins_len: usize,
    },
    /// A cell size field that cannot be right (below 8 bytes, or past the end of the bins data).
    #[error("{what} at file offset {offset:#x} has an impossible cell size {size}")]
    BadCellSize {
        what: &'static str,
        offset: u64,
        size: i32,
    },
    /// A record has the wrong signature.
    #[error("expected {expected} at file offset {offset:#x}, found signature {found:02x?}")]
    BadSignature {
        expected: &'static str,
        offset: u64,
        found: Vec<u8>,
    },
    /// A record or its data is shorter than its fields say.
    #[error(
        "{what} at file offset {offset:#x} is truncated: {need} bytes declared, {have} present"
    )]
    Truncated {
        what: &'static str,
        offset: u64,
        need: u64,
        have: u64,
    },
    /// A cell is referenced a second time in one traversal (a cycle or a shared cell).
    #[error(
        "{what} at file offset {offset:#x} is referenced more than once (cycle or shared cell)"
    )]
    Cycle { what: &'static str, offset: u64 },
    /// Nesting deeper than a cap.
    #[error("{what} at file offset {offset:#x} is nested deeper than {limit}")]
    TooDeep {
        what: &'static str,
        offset: u64,
        limit: usize,
    },
    /// A count or size above a cap.
    #[error("{what} at file offset {offset:#x}: {count} exceeds the limit of {limit}")]
    TooMany {
        what: &'static str,
        offset: u64,
        count: u64,
        limit: u64,
    },
    /// A key's declared count disagrees with what its list holds.
    #[error("{what} of the key at file offset {offset:#x}: {declared} declared, {found} found")]
    CountMismatch {
        what: &'static str,
        offset: u64,
        declared: u64,
        found: u64,
    },
    /// A transaction log (index `log` in the list given) could not be used from `offset` on.
    #[error("transaction log #{log} at offset {offset:#x}: {reason}")]
    Log {
        log: usize,
        offset: u64,
        reason: String,
    },
}

/// The fields of the base block (file header) kensa uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseBlock {
    /// Incremented when a write starts.
    pub primary_seq: u32,
    /// Set equal to `primary_seq` when the write has finished.
    pub secondary_seq: u32,
    /// FILETIME (100 ns since 1601-01-01 UTC).
    pub last_written: u64,
    /// Format version, major (1).
    pub major: u32,
    /// Format version, minor (3 to 6; big data from 4).
    pub minor: u32,
    /// 0 = primary file, 1 = old-format log, 6 = new-format log.
    pub file_type: u32,
    /// Root cell offset, relative to the hive bins data (file offset 4096).
    pub root_cell: u32,
    /// Hive bins data size as declared.
    pub bins_size: u32,
    /// The embedded file name (UTF-16LE, up to 32 units, to the first NUL).
    pub file_name: String,
    /// Whether the XOR-32 checksum @508 matches; Windows treats a mismatch as dirty too.
    pub checksum_valid: bool,
}

impl BaseBlock {
    /// Reads the base block fields from the first 512 bytes (checked by the caller).
    fn read(b: &[u8]) -> BaseBlock {
        let name_units: Vec<u16> = b
            .get(48..112)
            .unwrap_or_default()
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        BaseBlock {
            primary_seq: read_u32(b, 4),
            secondary_seq: read_u32(b, 8),
            last_written: read_u64(b, 12),
            major: read_u32(b, 20),
            minor: read_u32(b, 24),
            file_type: read_u32(b, 28),
            root_cell: read_u32(b, 36),
            bins_size: read_u32(b, 40),
            file_name: String::from_utf16_lossy(&name_units),
            checksum_valid: checksum(b) == Some(read_u32(b, 508)),
        }
    }
}

/// XOR-32 of the first 508 bytes (`None` if shorter).
fn checksum(b: &[u8]) -> Option<u32> {
    let head = b.get(..508)?;
    Some(
        head.chunks_exact(4)
            .fold(0, |c, g| c ^ u32::from_le_bytes([g[0], g[1], g[2], g[3]])),
    )
}

/// Checks the length and the `regf` magic of a base block.
fn check_magic(data: &[u8]) -> Result<(), HiveError> {
    if data.len() < BASE_BLOCK_LEN {
        return Err(HiveError::TooShort { len: data.len() });
    }
    if !data.starts_with(b"regf") {
        return Err(HiveError::NotAHive {
            found: data.get(..4).unwrap_or_default().to_vec(),
        });
    }
    Ok(())
}

/// A registry hive file held in memory (borrowed).
pub struct Hive<'a> {
    base: BaseBlock,
    cells: Cells<'a>,
}

impl<'a> Hive<'a> {
    /// Reads the base block. Fails only when `data` is not a hive at all (too short, no `regf`);
    /// a hive bins data shorter than declared is read as far as it goes ([`walk`] reports it).
    pub fn parse(data: &'a [u8]) -> Result<Hive<'a>, HiveError> {
        check_magic(data)?;
        let base = BaseBlock::read(data);
        let rest = data.get(BASE_BLOCK_LEN..).unwrap_or_default();
        let len = rest.len().min(base.bins_size as usize);
        let bins = rest.get(..len).unwrap_or_default();
        Ok(Hive {
            cells: Cells::new(bins, base.minor),
            base,
        })
    }

    /// The base block fields.
    pub fn base(&self) -> &BaseBlock {
        &self.base
    }

    /// The sequence numbers differ: the last write did not finish and the transaction logs hold
    /// newer data (apply them with [`apply_logs`]). A bad checksum is reported separately in
    /// [`BaseBlock::checksum_valid`].
    pub fn is_dirty(&self) -> bool {
        self.base.primary_seq != self.base.secondary_seq
    }

    /// The problem when the file holds less hive bins data than the base block declares.
    pub fn truncation(&self) -> Option<HiveError> {
        let declared = u64::from(self.base.bins_size);
        let available = self.cells.len() as u64;
        (available < declared).then_some(HiveError::TruncatedFile {
            declared,
            available,
        })
    }

    /// The root key.
    pub fn root(&self) -> Result<Key<'a>, HiveError> {
        Key::at(self.cells, self.base.root_cell)
    }

    /// The key at a backslash-separated path below the root (`""` = the root), comparing names
    /// case-insensitively; empty components are ignored. `Ok(None)` only when a list was read
    /// completely and the name is not in it.
    pub fn open(&self, path: &str) -> Result<Option<Key<'a>>, HiveError> {
        let mut key = self.root()?;
        for part in path.split('\\').filter(|p| !p.is_empty()) {
            match key.subkey(part)? {
                Some(k) => key = k,
                None => return Ok(None),
            }
        }
        Ok(Some(key))
    }
}
