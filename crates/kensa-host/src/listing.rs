//! Reader for file listings collected from a PC, for the offline file checks (host.md §3, §6:
//! EmoCheck v3/v4/v5 candidates and persistence targets need path, size, MZ flag and mtime of the files
//! under %LOCALAPPDATA%, SysWOW64/System32, AppData, ProgramData, Users\Public and Temp).
//!
//! # Accepted layouts
//! Both are CSV (RFC 4180 quoting as PowerShell's `Export-Csv` writes it: every field quoted, `""`
//! inside fields), columns found by name (case-insensitive, any order, extra columns ignored), an
//! optional `#TYPE …` first line (Windows PowerShell 5.1 without `-NoTypeInformation`), UTF-8 with or
//! without BOM or UTF-16LE with BOM (decoding: `regexport::text`).
//!
//! **kensa's layout** (`kensa-csv`) — header `FullName,Length,LastWriteTimeUtc,Attributes,MZ`:
//! - `FullName`: the full path;
//! - `Length`: size in bytes, empty for directories;
//! - `LastWriteTimeUtc`: ISO 8601 UTC with up to 7 fractional digits (100 ns, the FILETIME
//!   resolution), e.g. `2026-11-22T03:04:05.1234567Z` (.NET's round-trip format `"o"`);
//! - `Attributes`: .NET `FileAttributes` text, e.g. `Archive` or `Hidden, System, Directory`
//!   (a number is read as the attribute bits; `0x10` = directory);
//! - `MZ`: `true` if the file's first two bytes are `MZ`, `false` if not, empty if unknown (unreadable
//!   file, directory). `True`/`False` and `1`/`0` are accepted too.
//!
//! It can be produced on the PC with:
//! ```powershell
//! Get-ChildItem -Recurse -Force -ErrorAction SilentlyContinue $env:LOCALAPPDATA |
//!   Select-Object FullName, Length,
//!     @{n='LastWriteTimeUtc'; e={ $_.LastWriteTimeUtc.ToString('o') }}, Attributes,
//!     @{n='MZ'; e={ if ($_.PSIsContainer) { '' } else { try {
//!       $s = [IO.File]::OpenRead($_.FullName); $b = New-Object byte[] 2; $n = $s.Read($b, 0, 2); $s.Close()
//!       ($n -eq 2 -and $b[0] -eq 0x4D -and $b[1] -eq 0x5A).ToString().ToLower() } catch { '' } } }} |
//!   Export-Csv -NoTypeInformation -Encoding UTF8 listing.csv
//! ```
//!
//! **PowerShell's plain export** (`powershell-csv`), no `MZ` column:
//! `Get-ChildItem -Recurse -Force | Select-Object FullName,Length,LastWriteTimeUtc,Attributes | Export-Csv -NoTypeInformation`.
//! `LastWriteTimeUtc` is then written in the culture's short date + long time format; read here:
//! - en-US `M/d/yyyy h:mm:ss tt`, e.g. `11/22/2026 3:04:05 AM`;
//! - ja-JP (and zh-CN, ko-KR order) `yyyy/MM/dd H:mm:ss`, e.g. `2026/11/22 3:04:05`; `-` separators too;
//! - de-DE/ru-RU order `dd.MM.yyyy HH:mm:ss`;
//! - ISO 8601 as above.
//!
//! A day-first slash date without AM/PM (en-GB, fr-FR `22/11/2026 03:04:05`) is ambiguous with
//! month-first and is reported, not guessed. Culture formats have whole seconds only. Windows
//! PowerShell 5.1's default `Export-Csv` encoding is ASCII (non-ASCII letters become `?`): use
//! `-Encoding UTF8`.
//!
//! # Errors and limits
//! `Err` only for empty input, input over [`MAX_INPUT_BYTES`], or a first row without a `FullName`
//! column. Bad sizes, times, MZ flags and CSV records are problems with line numbers; the entry is
//! kept with that field `None` (a record without a path is skipped). At most [`MAX_ENTRIES`] entries
//! and [`MAX_PROBLEMS`] problems are kept.

use crate::regexport::text;

#[cfg(test)]
mod tests;
mod time;

pub use time::{filetime_from_unix, filetime_to_rfc3339, parse_last_write_time};

/// Largest input accepted.
pub const MAX_INPUT_BYTES: usize = 512 << 20;
/// Most entries kept; the rest are reported once.
pub const MAX_ENTRIES: usize = 5_000_000;
/// Most problems kept; one more entry says that others were dropped.
pub const MAX_PROBLEMS: usize = 1_000;

/// What is wrong with a listing or one of its records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ListingError {
    /// No content.
    #[error("file listing is empty")]
    Empty,
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("file listing is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The header row has no `FullName` column.
    #[error("not a file listing: header has no FullName column (first line {first_line:?})")]
    UnknownFormat {
        /// The first non-blank line (at most 120 characters).
        first_line: String,
    },
    /// A CSV record the CSV reader rejected.
    #[error("line {line}: bad CSV record: {message}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// The csv crate's description.
        message: String,
    },
    /// A field that could not be read; the entry is kept with that field unset (or skipped when
    /// the path is missing).
    #[error("line {line}: {field} {value:?}: {reason}")]
    BadField {
        /// 1-based line number.
        line: usize,
        /// Column name.
        field: &'static str,
        /// The text found (at most 80 characters).
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_ENTRIES`] entries; the rest were skipped.
    #[error("more than {max} entries; the rest were skipped")]
    TooManyEntries {
        /// The limit.
        max: usize,
    },
    /// More than [`MAX_PROBLEMS`] problems; the others were not kept.
    #[error("more than {max} problems; the others were not kept")]
    TooManyProblems {
        /// The limit.
        max: usize,
    },
    /// The text was not valid in its encoding; invalid sequences were replaced with U+FFFD.
    #[error("text is not valid {encoding}; invalid sequences replaced with U+FFFD")]
    Undecodable {
        /// The encoding the file was read as.
        encoding: &'static str,
    },
}

/// One file or directory of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Full path as collected, e.g. `C:\Users\A\AppData\Local\Abcd\qehxk.xwa`.
    pub path: String,
    /// A directory (the `Directory` attribute; without an `Attributes` column: an empty `Length`).
    pub is_dir: bool,
    /// Size in bytes (`None` for directories and when not readable).
    pub size: Option<u64>,
    /// Last write time as a FILETIME (100 ns since 1601-01-01 UTC).
    pub mtime: Option<u64>,
    /// Whether the file starts with `MZ` (`None` when the listing does not say).
    pub mz: Option<bool>,
}

/// A parsed file listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// `kensa-csv` (has an `MZ` column) or `powershell-csv`.
    pub format: &'static str,
    /// Entries in input order.
    pub entries: Vec<FileEntry>,
    /// Problems with line numbers; reading continued past each.
    pub problems: Vec<ListingError>,
}

/// Parses a file listing (see the module doc for the layouts).
pub fn parse_listing(data: &[u8]) -> Result<Listing, ListingError> {
    if data.len() > MAX_INPUT_BYTES {
        return Err(ListingError::TooLarge {
            size: data.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let decoded = text::decode(data);
    if decoded
        .text
        .trim_matches(['\u{feff}', ' ', '\t', '\r', '\n'])
        .is_empty()
    {
        return Err(ListingError::Empty);
    }
    let mut out = Listing {
        format: "powershell-csv",
        entries: Vec::new(),
        problems: Vec::new(),
    };
    if decoded.lossy {
        problem(
            &mut out.problems,
            ListingError::Undecodable {
                encoding: decoded.encoding,
            },
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(decoded.text.as_bytes());
    let mut columns: Option<Columns> = None;
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problem(
                    &mut out.problems,
                    ListingError::Csv {
                        line,
                        message: e.to_string(),
                    },
                );
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let Some(cols) = &columns else {
            if record.get(0).is_some_and(|f| f.starts_with("#TYPE")) {
                continue;
            }
            let cols = Columns::from_header(&record).ok_or_else(|| unknown(&decoded.text))?;
            if cols.mz.is_some() {
                out.format = "kensa-csv";
            }
            columns = Some(cols);
            continue;
        };
        if record.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let Some(entry) = cols.entry(&record, line, &mut out.problems) else {
            continue;
        };
        if out.entries.len() >= MAX_ENTRIES {
            problem(
                &mut out.problems,
                ListingError::TooManyEntries { max: MAX_ENTRIES },
            );
            break;
        }
        out.entries.push(entry);
    }
    if columns.is_none() {
        return Err(unknown(&decoded.text));
    }
    Ok(out)
}

fn unknown(text: &str) -> ListingError {
    let body = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    let first = text::lines(body).next().map_or("", |(_, l)| l);
    ListingError::UnknownFormat {
        first_line: first.chars().take(120).collect(),
    }
}

fn problem(problems: &mut Vec<ListingError>, p: ListingError) {
    if problems.len() < MAX_PROBLEMS {
        problems.push(p);
    } else if problems.len() == MAX_PROBLEMS {
        problems.push(ListingError::TooManyProblems { max: MAX_PROBLEMS });
    }
}

fn bad(
    problems: &mut Vec<ListingError>,
    line: usize,
    field: &'static str,
    value: &str,
    reason: &'static str,
) {
    problem(
        problems,
        ListingError::BadField {
            line,
            field,
            value: value.chars().take(80).collect(),
            reason,
        },
    );
}

/// Column positions.
struct Columns {
    path: usize,
    length: Option<usize>,
    time: Option<usize>,
    attributes: Option<usize>,
    mz: Option<usize>,
}

impl Columns {
    fn from_header(record: &csv::StringRecord) -> Option<Self> {
        let find = |name: &str| {
            record.iter().position(|h| {
                h.trim_matches(['\u{feff}', ' ', '\t'])
                    .eq_ignore_ascii_case(name)
            })
        };
        Some(Columns {
            path: find("FullName")?,
            length: find("Length"),
            time: find("LastWriteTimeUtc"),
            attributes: find("Attributes"),
            mz: find("MZ"),
        })
    }

    /// Builds an entry from a record; bad fields are reported and left unset.
    fn entry(
        &self,
        record: &csv::StringRecord,
        line: usize,
        problems: &mut Vec<ListingError>,
    ) -> Option<FileEntry> {
        let get = |i: Option<usize>| i.and_then(|i| record.get(i)).map(str::trim);
        let path = record.get(self.path).unwrap_or_default();
        if path.is_empty() {
            bad(
                problems,
                line,
                "FullName",
                path,
                "empty path; record skipped",
            );
            return None;
        }
        let length = get(self.length).unwrap_or_default();
        let is_dir = match get(self.attributes) {
            Some(a) => attributes_say_directory(a),
            None => self.length.is_some() && length.is_empty(),
        };
        let size = match length {
            "" => None,
            l => {
                let parsed = l
                    .parse::<u64>()
                    .ok()
                    .filter(|_| l.bytes().all(|b| b.is_ascii_digit()));
                if parsed.is_none() {
                    bad(problems, line, "Length", l, "not a size in bytes");
                }
                parsed
            }
        };
        let mtime = match get(self.time) {
            None | Some("") => None,
            Some(t) => {
                let parsed = parse_last_write_time(t);
                if parsed.is_none() {
                    bad(
                        problems,
                        line,
                        "LastWriteTimeUtc",
                        t,
                        "unsupported or ambiguous date/time",
                    );
                }
                parsed
            }
        };
        let mz = match get(self.mz).unwrap_or_default() {
            "" => None,
            m if m.eq_ignore_ascii_case("true") || m == "1" => Some(true),
            m if m.eq_ignore_ascii_case("false") || m == "0" => Some(false),
            m => {
                bad(problems, line, "MZ", m, "not true or false");
                None
            }
        };
        Some(FileEntry {
            path: path.to_owned(),
            is_dir,
            size,
            mtime,
            mz,
        })
    }
}

/// Whether a `FileAttributes` text (`Hidden, System, Directory`) or number has the directory flag.
fn attributes_say_directory(a: &str) -> bool {
    if !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) {
        return a.parse::<u64>().is_ok_and(|n| n & 0x10 != 0);
    }
    a.split(',')
        .any(|t| t.trim().eq_ignore_ascii_case("Directory"))
}
