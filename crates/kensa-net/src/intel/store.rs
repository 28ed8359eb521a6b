//! Saving and loading snapshots, and unpacking ThreatFox's zipped export.
//!
//! # Snapshot file (JSON Lines, UTF-8, `\n` line ends)
//!
//! Line 1 describes the snapshot:
//!
//! ```text
//! {"kensa_intel_snapshot":1,"feed":"feodo","kind":"feodo_csv","fetched_or_updated":"2021-03-19 16:08:14",
//!  "stats":{"lines":473,"rows":472,...},"problems":[...],"indicators":472}
//! ```
//!
//! (one line in the file). `kensa_intel_snapshot` is the format version
//! ([`SNAPSHOT_FORMAT_VERSION`]); `indicators` is the number of lines that follow, one
//! [`Indicator`] each:
//!
//! ```text
//! {"type":"ip_port","ip":"5.2.136.90","port":80,"feed":"feodo","malware":"Emotet","first_seen":"2021-01-21 18:20:04","last_seen":"2021-03-19","status":"online","threat_type":"botnet_cc","line":57}
//! ```
//!
//! `type` is `ip` (`ip`), `ip_port` (`ip`, `port`), `domain` (`domain`), `url` (`url`, `host`) or
//! `hash` (`algo` = `md5`/`sha1`/`sha256`, `hash`); absent optional fields are left out. Reading
//! checks the version, the count, and every line, and fails with the line number otherwise.

use std::io::{Cursor, Read, Write};

use serde::{Deserialize, Serialize};
use zip::ZipArchive;

use super::{FeedKind, Indicator, IntelError, Limits, Problem, Snapshot, Stats};

/// Version written in the first line of a snapshot file.
pub const SNAPSHOT_FORMAT_VERSION: u32 = 1;
/// Default cap on the CSV taken out of a ThreatFox zip (the full export is a few hundred MB).
pub const MAX_ZIP_MEMBER_BYTES: u64 = 1 << 30;
/// Entries of a zip looked at for the CSV.
const MAX_ZIP_ENTRIES: usize = 1000;
/// Longest line accepted in a snapshot file (an indicator with a maximal URL and fields fits).
const MAX_SNAPSHOT_LINE: usize = 64 * 1024;

#[derive(Serialize)]
struct HeaderOut<'a> {
    kensa_intel_snapshot: u32,
    feed: &'a str,
    kind: FeedKind,
    fetched_or_updated: &'a Option<String>,
    stats: &'a Stats,
    problems: &'a [Problem],
    indicators: usize,
}

#[derive(Deserialize)]
struct HeaderIn {
    kensa_intel_snapshot: u32,
    feed: String,
    kind: FeedKind,
    #[serde(default)]
    fetched_or_updated: Option<String>,
    #[serde(default)]
    stats: Stats,
    #[serde(default)]
    problems: Vec<Problem>,
    indicators: u64,
}

impl Snapshot {
    /// Write the snapshot as JSON Lines (format above).
    pub fn write_jsonl<W: Write>(&self, mut w: W) -> Result<(), IntelError> {
        let header = HeaderOut {
            kensa_intel_snapshot: SNAPSHOT_FORMAT_VERSION,
            feed: &self.feed,
            kind: self.kind,
            fetched_or_updated: &self.fetched_or_updated,
            stats: &self.stats,
            problems: &self.problems,
            indicators: self.indicators.len(),
        };
        serde_json::to_writer(&mut w, &header).map_err(std::io::Error::from)?;
        w.write_all(b"\n")?;
        for ind in &self.indicators {
            serde_json::to_writer(&mut w, ind).map_err(std::io::Error::from)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The snapshot as JSON Lines in memory.
    pub fn to_jsonl(&self) -> Vec<u8> {
        let mut out = Vec::new();
        // Writing to a Vec cannot fail; serialising these types cannot either.
        let _ = self.write_jsonl(&mut out);
        out
    }

    /// Read a snapshot written by [`Snapshot::write_jsonl`]; at most `limits.max_entries`
    /// indicators and `limits.max_problems` problems.
    pub fn read_jsonl(data: &[u8], limits: &Limits) -> Result<Snapshot, IntelError> {
        let err = |line: u64, message: String| IntelError::Snapshot { line, message };
        let mut lines = super::text::lines(data).filter(|(_, l)| !l.is_empty());
        let Some((hno, hline)) = lines.next() else {
            return Err(err(1, "empty file".to_string()));
        };
        if hline.len() > MAX_SNAPSHOT_LINE.saturating_mul(4) {
            return Err(err(hno, "header line too long".to_string()));
        }
        let header: HeaderIn =
            serde_json::from_slice(hline).map_err(|e| err(hno, format!("header: {e}")))?;
        if header.kensa_intel_snapshot != SNAPSHOT_FORMAT_VERSION {
            let v = header.kensa_intel_snapshot;
            return Err(err(hno, format!("format version {v} is not supported")));
        }
        let declared = header.indicators;
        if usize::try_from(declared).map_or(true, |d| d > limits.max_entries) {
            let cap = limits.max_entries;
            return Err(err(hno, format!("{declared} indicators, more than {cap}")));
        }
        let mut indicators = Vec::new();
        for (no, line) in lines {
            if indicators.len() as u64 >= declared {
                return Err(err(
                    no,
                    format!("more indicator lines than the {declared} declared"),
                ));
            }
            if line.len() > MAX_SNAPSHOT_LINE {
                return Err(err(no, format!("line of {} bytes is too long", line.len())));
            }
            let ind: Indicator =
                serde_json::from_slice(line).map_err(|e| err(no, e.to_string()))?;
            indicators.push(ind);
        }
        if indicators.len() as u64 != declared {
            let found = indicators.len();
            return Err(err(
                0,
                format!("{declared} indicators declared, {found} found"),
            ));
        }
        let mut problems = header.problems;
        problems.truncate(limits.max_problems);
        Ok(Snapshot {
            feed: header.feed,
            kind: header.kind,
            fetched_or_updated: header.fetched_or_updated,
            indicators,
            problems,
            stats: header.stats,
        })
    }
}

/// The CSV inside a zipped export (ThreatFox `full.csv` / `recent.csv`): the first member whose
/// name ends in `.csv`, or the only file. At most `max_bytes` are taken (a bigger member is an
/// error, not a silent cut); encrypted members are refused by the `zip` crate.
pub fn csv_from_zip(zip: &[u8], max_bytes: u64) -> Result<Vec<u8>, IntelError> {
    let zerr = |e: zip::result::ZipError| IntelError::Zip(e.to_string());
    let mut archive = ZipArchive::new(Cursor::new(zip)).map_err(zerr)?;
    let entries = archive.len();
    let mut chosen = None;
    let mut files = 0usize;
    let mut last_file = None;
    for i in 0..entries.min(MAX_ZIP_ENTRIES) {
        let f = archive.by_index_raw(i).map_err(zerr)?;
        if f.is_dir() {
            continue;
        }
        files += 1;
        last_file = Some(i);
        let name = f.name().map(|n| n.to_ascii_lowercase()).unwrap_or_default();
        if name.ends_with(".csv") {
            chosen = Some(i);
            break;
        }
    }
    let index = chosen
        .or(if files == 1 { last_file } else { None })
        .ok_or(IntelError::ZipNoCsv { entries })?;
    let f = archive.by_index(index).map_err(zerr)?;
    let name = f.name().map(|n| n.into_owned()).unwrap_or_default();
    let mut out = Vec::new();
    f.take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| IntelError::Zip(format!("{name}: {e}")))?;
    if out.len() as u64 > max_bytes {
        return Err(IntelError::ZipTooLarge {
            name,
            cap: max_bytes,
        });
    }
    Ok(out)
}
