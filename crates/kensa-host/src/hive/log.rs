//! Transaction logs of the new format (Windows 8.1+): replaying `HvLE` log entries onto a dirty
//! primary file.
//!
//! A log file starts with a 512-byte copy of the base block (`regf`, file type 6); log entries
//! follow at offset 512, each at a multiple of 512: `HvLE` @0, size @4 (multiple of 512), flags
//! @8, sequence number @12, hive bins data size @16, dirty page count @20, hash-1 @24 (Marvin32 of
//! bytes 40..size), hash-2 @32 (Marvin32 of bytes 0..32), then `count` page references (offset
//! relative to the hive bins data, size) and the pages themselves, back to back. The Marvin32 seed
//! is the one the kernel uses (0x82EF4D887A4E55C5, low half first).
//!
//! Recovery: only a dirty primary (sequence numbers differ or bad checksum) is changed. A bad
//! primary base block is replaced by a log's valid one. Entries of all logs (LOG1 first) with a
//! sequence number ≥ the primary's secondary sequence number are applied in sequence order; a
//! log is read up to its first bad entry (size, hash, page references), and recovery stops at the
//! first gap in the sequence. The base block then gets the last applied sequence number (both
//! fields), the entry's hive bins data size and a new checksum. The recovered file never grows
//! beyond the primary plus all logs.

use super::cells::{read_u32, read_u64};
use super::{BASE_BLOCK_LEN, BaseBlock, HiveError, check_magic, checksum};

/// Seed of the log-entry hashes (as the kernel passes it to Marvin32).
const LOG_SEED: u64 = 0x82EF_4D88_7A4E_55C5;
/// Size of the log's base block copy; entries start here.
const LOG_HEADER: usize = 512;
/// Fixed part of a log entry.
const ENTRY_FIXED: usize = 40;
/// File type of a new-format log.
const TYPE_NEW_LOG: u32 = 6;

/// A primary file with the logs applied.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// The recovered hive file (a copy of the primary when nothing applied).
    pub data: Vec<u8>,
    /// Log entries applied.
    pub entries_applied: usize,
    /// Dirty pages written.
    pub dirty_pages: usize,
    /// Why a log or an entry was not used, or why recovery stopped (empty on a clean replay).
    pub problems: Vec<HiveError>,
}

/// Marvin32 (64-bit result: high state word << 32 | low state word).
pub(super) fn marvin32(seed: u64, data: &[u8]) -> u64 {
    let mut lo = seed as u32;
    let mut hi = (seed >> 32) as u32;
    let mut mix = |v: u32| {
        lo = lo.wrapping_add(v);
        hi ^= lo;
        lo = lo.rotate_left(20).wrapping_add(hi);
        hi = hi.rotate_left(9) ^ lo;
        lo = lo.rotate_left(27).wrapping_add(hi);
        hi = hi.rotate_left(19);
    };
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        mix(u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    let tail = words.remainder();
    let last = tail
        .iter()
        .rev()
        .fold(0x80u32, |acc, &b| (acc << 8) | u32::from(b));
    mix(last);
    mix(0);
    (u64::from(hi) << 32) | u64::from(lo)
}

/// One checked log entry.
struct Entry<'l> {
    log: usize,
    offset: usize,
    seq: u32,
    bins_size: u32,
    /// (offset in the hive bins data, size) of each page.
    refs: Vec<(usize, usize)>,
    /// The pages, back to back.
    pages: &'l [u8],
}

fn log_problem(log: usize, offset: usize, reason: impl Into<String>) -> HiveError {
    HiveError::Log {
        log,
        offset: offset as u64,
        reason: reason.into(),
    }
}

/// The usable base block copy of a log (new format), or why not.
fn log_base(log: usize, b: &[u8]) -> Result<&[u8], HiveError> {
    let head = b
        .get(..LOG_HEADER)
        .ok_or_else(|| log_problem(log, 0, format!("{} bytes, no base block", b.len())))?;
    if !head.starts_with(b"regf") {
        return Err(log_problem(log, 0, "no \"regf\" signature"));
    }
    let kind = read_u32(head, 28);
    if kind != TYPE_NEW_LOG {
        return Err(log_problem(
            log,
            28,
            format!("file type {kind}: only new-format logs (type 6) are supported"),
        ));
    }
    Ok(head)
}

/// The entries of one log, up to the first bad one (which is recorded as a problem).
fn read_entries<'l>(log: usize, b: &'l [u8], problems: &mut Vec<HiveError>) -> Vec<Entry<'l>> {
    let mut out = Vec::new();
    if let Err(e) = log_base(log, b) {
        problems.push(e);
        return out;
    }
    let mut pos = LOG_HEADER;
    while let Some(head) = b.get(pos..).filter(|r| r.starts_with(b"HvLE")) {
        match read_entry(log, pos, head) {
            Ok(e) => {
                pos += e.size;
                out.push(e.entry);
            }
            Err(e) => {
                problems.push(e);
                break;
            }
        }
    }
    out
}

struct Sized<'l> {
    entry: Entry<'l>,
    size: usize,
}

/// Checks one entry starting at `rest[0]` (file offset `pos`).
fn read_entry(log: usize, pos: usize, rest: &[u8]) -> Result<Sized<'_>, HiveError> {
    let bad = |what: String| log_problem(log, pos, what);
    let size = read_u32(rest, 4) as usize;
    if size < ENTRY_FIXED || !size.is_multiple_of(512) {
        return Err(bad(format!(
            "log entry size {size} is not a multiple of 512 ≥ 512"
        )));
    }
    let e = rest
        .get(..size)
        .ok_or_else(|| bad(format!("log entry of {size} bytes runs past the end")))?;
    if marvin32(LOG_SEED, e.get(..32).unwrap_or_default()) != read_u64(e, 32) {
        return Err(bad("hash-2 mismatch".into()));
    }
    if marvin32(LOG_SEED, e.get(ENTRY_FIXED..).unwrap_or_default()) != read_u64(e, 24) {
        return Err(bad("hash-1 mismatch".into()));
    }
    let bins_size = read_u32(e, 16);
    if bins_size == 0 || !bins_size.is_multiple_of(4096) {
        return Err(bad(format!("hive bins data size {bins_size}")));
    }
    let count = read_u32(e, 20) as usize;
    let pages_at = count
        .checked_mul(8)
        .and_then(|n| n.checked_add(ENTRY_FIXED))
        .filter(|&n| n <= size)
        .ok_or_else(|| bad(format!("{count} page references do not fit")))?;
    let mut refs = Vec::with_capacity(count);
    let mut total = 0usize;
    for i in 0..count {
        let off = read_u32(e, ENTRY_FIXED + i * 8) as usize;
        let len = read_u32(e, ENTRY_FIXED + i * 8 + 4) as usize;
        let inside = off
            .checked_add(len)
            .is_some_and(|end| end <= bins_size as usize);
        total = total.saturating_add(len);
        if !inside || total > size - pages_at {
            return Err(bad(format!(
                "page reference #{i} ({off:#x}, {len}) is out of range"
            )));
        }
        refs.push((off, len));
    }
    let entry = Entry {
        log,
        offset: pos,
        seq: read_u32(e, 12),
        bins_size,
        refs,
        pages: e.get(pages_at..).unwrap_or_default(),
    };
    Ok(Sized { entry, size })
}

/// Rewrites the checksum of the base block at the start of `data`.
fn fix_checksum(data: &mut [u8]) {
    if let Some(c) = checksum(data)
        && let Some(slot) = data.get_mut(508..512)
    {
        slot.copy_from_slice(&c.to_le_bytes());
    }
}

fn put_u32(data: &mut [u8], at: usize, v: u32) {
    if let Some(slot) = data.get_mut(at..at + 4) {
        slot.copy_from_slice(&v.to_le_bytes());
    }
}

/// Applies the new-format transaction logs (`logs` in order: LOG1, LOG2) to a dirty `primary`.
/// Fails only when `primary` is not a hive; unusable logs and entries are listed in
/// [`Recovered::problems`].
pub fn apply_logs(primary: &[u8], logs: &[&[u8]]) -> Result<Recovered, HiveError> {
    check_magic(primary)?;
    let mut data = primary.to_vec();
    let mut problems = Vec::new();
    let mut base = BaseBlock::read(&data);
    let dirty = base.primary_seq != base.secondary_seq || !base.checksum_valid;
    if !dirty {
        return Ok(Recovered {
            data,
            entries_applied: 0,
            dirty_pages: 0,
            problems,
        });
    }
    if !base.checksum_valid {
        base = restore_base_block(&mut data, logs, &mut problems).unwrap_or(base);
    }
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for (i, log) in logs.iter().enumerate() {
        entries.extend(read_entries(i, log, &mut problems));
    }
    entries.retain(|e| e.seq >= base.secondary_seq);
    entries.sort_by_key(|e| e.seq);
    let max_len = logs
        .iter()
        .fold(primary.len(), |n, l| n.saturating_add(l.len()));
    let mut applied = Applied::default();
    for e in &entries {
        match applied.next_seq {
            Some(n) if e.seq < n => continue,
            Some(n) if e.seq > n => {
                let reason = format!("sequence gap: expected {n}, found {}", e.seq);
                problems.push(log_problem(e.log, e.offset, reason));
                break;
            }
            _ => {}
        }
        if let Err(p) = apply_entry(&mut data, e, max_len) {
            problems.push(p);
            break;
        }
        applied.record(e);
    }
    if applied.entries == 0 {
        let reason = format!(
            "no usable log entry with sequence number ≥ {} for a dirty hive",
            base.secondary_seq
        );
        problems.push(log_problem(0, 0, reason));
    } else {
        put_u32(&mut data, 4, applied.last_seq);
        put_u32(&mut data, 8, applied.last_seq);
        put_u32(&mut data, 40, applied.bins_size);
        fix_checksum(&mut data);
    }
    Ok(Recovered {
        data,
        entries_applied: applied.entries,
        dirty_pages: applied.pages,
        problems,
    })
}

/// Progress of a replay.
#[derive(Default)]
struct Applied {
    entries: usize,
    pages: usize,
    last_seq: u32,
    bins_size: u32,
    /// The sequence number the next entry must have (`None` before the first, and after u32::MAX).
    next_seq: Option<u32>,
}

impl Applied {
    fn record(&mut self, e: &Entry<'_>) {
        self.entries += 1;
        self.pages += e.refs.len();
        self.last_seq = e.seq;
        self.bins_size = e.bins_size;
        self.next_seq = Some(e.seq.wrapping_add(1)).filter(|_| e.seq != u32::MAX);
    }
}

/// Resizes `data` to the entry's hive bins data size and writes its pages.
fn apply_entry(data: &mut Vec<u8>, e: &Entry<'_>, max_len: usize) -> Result<(), HiveError> {
    let new_len = BASE_BLOCK_LEN.saturating_add(e.bins_size as usize);
    if new_len > max_len {
        let reason = format!(
            "hive bins data size {} is larger than the files",
            e.bins_size
        );
        return Err(log_problem(e.log, e.offset, reason));
    }
    data.resize(new_len, 0);
    let mut cursor = 0usize;
    for &(off, len) in &e.refs {
        let src = cursor
            .checked_add(len)
            .and_then(|end| e.pages.get(cursor..end));
        let start = BASE_BLOCK_LEN.saturating_add(off);
        let dst = start
            .checked_add(len)
            .and_then(|end| data.get_mut(start..end));
        match (src, dst) {
            (Some(s), Some(d)) => d.copy_from_slice(s),
            _ => return Err(log_problem(e.log, e.offset, "page out of range")),
        }
        cursor = cursor.saturating_add(len);
    }
    Ok(())
}

/// Replaces a primary base block with a bad checksum by the first valid log base block copy.
fn restore_base_block(
    data: &mut [u8],
    logs: &[&[u8]],
    problems: &mut Vec<HiveError>,
) -> Option<BaseBlock> {
    let found = logs.iter().enumerate().find_map(|(i, l)| {
        let head = log_base(i, l).ok()?;
        (checksum(head) == Some(read_u32(head, 508))).then_some(head)
    });
    let Some(head) = found else {
        let reason = "the primary base block checksum is wrong and no log has a valid copy";
        problems.push(log_problem(0, 0, reason));
        return None;
    };
    data.get_mut(..LOG_HEADER)?.copy_from_slice(head);
    put_u32(data, 28, 0);
    fix_checksum(data);
    Some(BaseBlock::read(data))
}
