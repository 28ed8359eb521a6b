//! Reader for process lists a responder collects on a running PC, so that `kensa host triage` can
//! match EmoCheck's candidates against processes offline (host.md §6: "process list").
//!
//! # Accepted exports (the format is detected)
//! | format name | produced by (run on the PC) | layout facts |
//! |---|---|---|
//! | `tasklist-csv` | `tasklist /fo csv > procs.csv`, `tasklist /v /fo csv > procs.csv` (also with `/nh`) | every field quoted; header `"Image Name","PID","Session Name","Session#","Mem Usage"` (`/v` adds `"Status","User Name","CPU Time","Window Title"`); on Japanese Windows `"イメージ名","PID","セッション名","セッション#","メモリ使用量"` (`/v`: `"状態","ユーザー名","CPU 時間","ウィンドウ タイトル"`) in the console code page (cp932, i.e. Shift_JIS); `Mem Usage` like `"12,345 K"`. No parent PID, path or command line. |
//! | `powershell-csv` | `Get-CimInstance Win32_Process \| Select-Object Name,ProcessId,ParentProcessId,ExecutablePath,CommandLine \| Export-Csv -NoTypeInformation -Encoding UTF8 procs.csv` | every field quoted, header = the selected property names; Windows PowerShell 5.1 without `-NoTypeInformation` first writes `#TYPE Selected.Microsoft.Management.Infrastructure.CimInstance`; `-Encoding UTF8` is UTF-8 with BOM in 5.1 and without in 7. `Get-Process \| Select-Object Name,Id,Path` is read too. |
//! | `powershell-json` | the same `Select-Object` piped to `ConvertTo-Json` (`… \| ConvertTo-Json > procs.json`) | an array of objects, or a single object when there is one process; `null` for unreadable paths/command lines; `>` writes UTF-16LE with BOM in 5.1, UTF-8 in 7 |
//! | `wmic-csv` | `wmic process get Name,ProcessId,ParentProcessId,ExecutablePath,CommandLine /format:csv > procs.csv` | UTF-16LE with BOM, a blank first line, columns in alphabetical order after a leading `Node` (the computer name): `Node,CommandLine,ExecutablePath,Name,ParentProcessId,ProcessId`; fields are **not** quoted, so a command line containing commas spills into extra fields — they are joined back into `CommandLine` here; lines may end in `\r\r\n` |
//! | `kensa-jsonl` | kensa's live collector | one JSON object per line: `{"name":…,"pid":…,"ppid":…,"image_path":…,"command_line":…}` (`ppid`, `image_path`, `command_line` may be `null` or absent) |
//!
//! Sources: Microsoft's `tasklist` and `Export-Csv` reference pages (learn.microsoft.com; `#TYPE` and
//! `-NoTypeInformation` per the Export-Csv and `BaseCsvWritingCommand.IncludeTypeInformation` pages);
//! the Japanese tasklist header and the wmic column order and blank first line as shown in public
//! scripts and test data that parse real output (wmic's own documentation does not spell them out).
//!
//! Text decoding (BOM, UTF-16 guess, UTF-8, then cp932/Shift_JIS, then windows-1252) is
//! `regexport::text`. Column names are matched case-insensitively, in any order.
//!
//! # Errors and limits
//! `Err` only when the input is empty, larger than [`MAX_INPUT_BYTES`], or in none of the formats
//! above. A record without a usable PID, a malformed JSON line or CSV record is a problem in
//! [`ProcessList::problems`] (with its line number, or element number in a JSON array) and reading
//! goes on. At most [`MAX_PROCESSES`] processes and [`MAX_PROBLEMS`] problems are kept.

use crate::regexport::text;

mod json;
#[cfg(test)]
mod tests;

/// Largest input accepted (a full `Get-CimInstance | ConvertTo-Json` of 500 processes is ~2 MiB).
pub const MAX_INPUT_BYTES: usize = 32 << 20;
/// Most processes kept; the rest are reported once.
pub const MAX_PROCESSES: usize = 100_000;
/// Most problems kept; one more entry says that others were dropped.
pub const MAX_PROBLEMS: usize = 1_000;

/// What is wrong with a process list or one of its records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProcListError {
    /// No content (only whitespace).
    #[error("process list is empty")]
    Empty,
    /// The input is larger than [`MAX_INPUT_BYTES`].
    #[error("process list is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// None of the supported layouts.
    #[error(
        "not a supported process list (tasklist/PowerShell/wmic CSV, PowerShell JSON, kensa JSON Lines); first line {first_line:?}"
    )]
    UnknownFormat {
        /// The first non-blank line (at most 120 characters).
        first_line: String,
    },
    /// Malformed JSON (a whole document, or one line of JSON Lines).
    #[error("line {line}, column {column}: bad JSON: {message}")]
    Json {
        /// 1-based line number.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A CSV record the CSV reader rejected.
    #[error("line {line}: bad CSV record: {message}")]
    Csv {
        /// 1-based line number.
        line: usize,
        /// The csv crate's description.
        message: String,
    },
    /// A record that is not a usable process; it was skipped.
    #[error("line {line}: {reason}")]
    BadRecord {
        /// 1-based line number of the record.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// An element of a JSON array that is not a usable process; it was skipped.
    #[error("element {index} of the JSON array: {reason}")]
    BadElement {
        /// 1-based element index.
        index: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// More than [`MAX_PROCESSES`] processes; the rest were skipped.
    #[error("more than {max} processes; the rest were skipped")]
    TooManyProcesses {
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

/// One running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// Image name, e.g. `rundll32.exe` (tasklist's "Image Name", Win32_Process `Name`).
    pub name: String,
    /// Process ID.
    pub pid: u32,
    /// Parent process ID (not in tasklist output).
    pub ppid: Option<u32>,
    /// Full path of the executable (`ExecutablePath`; `None` when the export had none).
    pub image_path: Option<String>,
    /// Command line (`None` when the export had none, e.g. access denied).
    pub command_line: Option<String>,
}

/// A parsed process list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessList {
    /// Detected format: `tasklist-csv`, `powershell-csv`, `powershell-json`, `wmic-csv` or `kensa-jsonl`.
    pub format: &'static str,
    /// Processes in input order.
    pub processes: Vec<Process>,
    /// Records that could not be used and other problems; reading continued past each.
    pub problems: Vec<ProcListError>,
}

/// Parses a process list, detecting its format (see the module doc).
pub fn parse_process_list(data: &[u8]) -> Result<ProcessList, ProcListError> {
    if data.len() > MAX_INPUT_BYTES {
        return Err(ProcListError::TooLarge {
            size: data.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let decoded = text::decode(data);
    let body = decoded
        .text
        .trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if body.is_empty() {
        return Err(ProcListError::Empty);
    }
    let mut out = Collector::new();
    if decoded.lossy {
        out.problem(ProcListError::Undecodable {
            encoding: decoded.encoding,
        });
    }
    let first_line = text::lines(body).next().map(|(_, l)| l).unwrap_or_default();
    let format = if body.starts_with(['[', '{']) {
        json::parse(&decoded.text, &mut out)
    } else if first_line
        .split(',')
        .next()
        .is_some_and(|h| h.trim() == "Node")
    {
        parse_wmic(&decoded.text, &mut out);
        Some("wmic-csv")
    } else {
        parse_csv(&decoded.text, &mut out)
    };
    match format {
        Some(format) => Ok(ProcessList {
            format,
            processes: out.processes,
            problems: out.problems,
        }),
        None => Err(ProcListError::UnknownFormat {
            first_line: first_line.chars().take(120).collect(),
        }),
    }
}

/// Accumulates processes and problems under the limits.
struct Collector {
    processes: Vec<Process>,
    problems: Vec<ProcListError>,
    full: bool,
}

impl Collector {
    fn new() -> Self {
        Collector {
            processes: Vec::new(),
            problems: Vec::new(),
            full: false,
        }
    }

    fn problem(&mut self, p: ProcListError) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else if self.problems.len() == MAX_PROBLEMS {
            self.problems
                .push(ProcListError::TooManyProblems { max: MAX_PROBLEMS });
        }
    }

    /// Adds a process; returns `false` once the limit is reached (reading should stop).
    fn push(&mut self, p: Process) -> bool {
        if self.processes.len() >= MAX_PROCESSES {
            if !self.full {
                self.full = true;
                self.problem(ProcListError::TooManyProcesses { max: MAX_PROCESSES });
            }
            return false;
        }
        self.processes.push(p);
        true
    }
}

/// Which field of [`Process`] a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Name,
    Pid,
    Ppid,
    Image,
    Command,
    Other,
}

/// Maps a header cell to a field; the flag says the name is tasklist's.
fn column(header: &str) -> (Field, bool) {
    let h = header
        .trim_matches(['\u{feff}', ' ', '\t'])
        .to_ascii_lowercase();
    match h.as_str() {
        "image name" | "イメージ名" => (Field::Name, true),
        "name" => (Field::Name, false),
        "pid" | "processid" | "id" => (Field::Pid, false),
        "parentprocessid" | "ppid" => (Field::Ppid, false),
        "executablepath" | "path" | "image_path" => (Field::Image, false),
        "commandline" | "command_line" => (Field::Command, false),
        _ => (Field::Other, false),
    }
}

/// Column positions of the fields.
#[derive(Debug, Default)]
struct Columns {
    name: Option<usize>,
    pid: Option<usize>,
    ppid: Option<usize>,
    image: Option<usize>,
    command: Option<usize>,
}

impl Columns {
    /// Reads a header row; the flag says it is tasklist's.
    fn from_header<'a>(cells: impl Iterator<Item = &'a str>) -> (Self, bool) {
        let mut c = Columns::default();
        let mut tasklist = false;
        for (i, cell) in cells.enumerate() {
            let (field, is_tasklist) = column(cell);
            tasklist |= is_tasklist;
            let slot = match field {
                Field::Name => &mut c.name,
                Field::Pid => &mut c.pid,
                Field::Ppid => &mut c.ppid,
                Field::Image => &mut c.image,
                Field::Command => &mut c.command,
                Field::Other => continue,
            };
            slot.get_or_insert(i);
        }
        (c, tasklist)
    }

    fn usable(&self) -> bool {
        self.name.is_some() && self.pid.is_some()
    }

    /// Builds a process from a record's cells.
    fn process(&self, get: impl Fn(usize) -> Option<String>) -> Result<Process, &'static str> {
        let pid_text = self.pid.and_then(&get).ok_or("no PID field")?;
        let pid = parse_id(&pid_text).ok_or("PID is not a number from 0 to 4294967295")?;
        let ppid = match self.ppid.and_then(&get) {
            Some(t) if !t.trim().is_empty() => {
                Some(parse_id(&t).ok_or("parent PID is not a number from 0 to 4294967295")?)
            }
            _ => None,
        };
        let optional = |i: Option<usize>| i.and_then(&get).filter(|s| !s.is_empty());
        Ok(Process {
            name: self.name.and_then(&get).unwrap_or_default(),
            pid,
            ppid,
            image_path: optional(self.image),
            command_line: optional(self.command),
        })
    }
}

fn parse_id(s: &str) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Quoted CSV: tasklist (with or without header) and PowerShell's Export-Csv.
fn parse_csv(text: &str, out: &mut Collector) -> Option<&'static str> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut columns: Option<(Columns, &'static str)> = None;
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                // An unreadable first record: not one of the CSV layouts.
                columns.as_ref()?;
                let line = e.position().map_or(0, |p| p.line() as usize);
                out.problem(ProcListError::Csv {
                    line,
                    message: e.to_string(),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let Some((cols, _)) = &columns else {
            if record.get(0).is_some_and(|f| f.starts_with("#TYPE")) {
                continue;
            }
            columns = Some(header_or_tasklist_row(&record)?);
            if let Some((cols, _)) = &columns
                && cols.pid == Some(1)
                && looks_like_tasklist_row(&record)
            {
                // `tasklist /nh`: the first row is already a process.
                if !add(out, cols, &record, line) {
                    break;
                }
            }
            continue;
        };
        if !add(out, cols, &record, line) {
            break;
        }
    }
    columns.map(|(_, format)| format)
}

/// Reads the first CSV row: a header, or a `tasklist /nh` data row.
fn header_or_tasklist_row(record: &csv::StringRecord) -> Option<(Columns, &'static str)> {
    let (cols, tasklist) = Columns::from_header(record.iter());
    if cols.usable() {
        return Some((
            cols,
            if tasklist {
                "tasklist-csv"
            } else {
                "powershell-csv"
            },
        ));
    }
    if looks_like_tasklist_row(record) {
        let cols = Columns {
            name: Some(0),
            pid: Some(1),
            ..Columns::default()
        };
        return Some((cols, "tasklist-csv"));
    }
    None
}

/// A tasklist data row: 5 or more fields, a numeric PID second and a memory size ending in `K` fifth.
fn looks_like_tasklist_row(record: &csv::StringRecord) -> bool {
    record.len() >= 5
        && record.get(1).and_then(parse_id).is_some()
        && record.get(4).is_some_and(|m| m.trim_end().ends_with('K'))
}

/// Adds one CSV record; returns `false` when the process limit is reached.
fn add(out: &mut Collector, cols: &Columns, record: &csv::StringRecord, line: usize) -> bool {
    if record.iter().all(|f| f.trim().is_empty()) {
        return true;
    }
    match cols.process(|i| record.get(i).map(str::to_owned)) {
        Ok(p) => out.push(p),
        Err(reason) => {
            out.problem(ProcListError::BadRecord { line, reason });
            true
        }
    }
}

/// wmic's unquoted CSV: split on commas; extra fields belong to `CommandLine`.
fn parse_wmic(text: &str, out: &mut Collector) {
    let mut header: Option<(Columns, usize)> = None;
    for (line, l) in text::lines(text) {
        if l.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = l.split(',').collect();
        let Some((cols, width)) = &header else {
            header = Some((Columns::from_header(cells.iter().copied()).0, cells.len()));
            continue;
        };
        let cells = rejoin_command_line(cells, *width, cols.command);
        if cells.len() != *width {
            out.problem(ProcListError::BadRecord {
                line,
                reason: "field count differs from the header",
            });
            continue;
        }
        match cols.process(|i| cells.get(i).map(|s| s.to_string())) {
            Ok(p) => {
                if !out.push(p) {
                    return;
                }
            }
            Err(reason) => out.problem(ProcListError::BadRecord { line, reason }),
        }
    }
}

/// Joins the fields a comma-containing command line was split into, so the row has `width` cells.
fn rejoin_command_line(cells: Vec<&str>, width: usize, command: Option<usize>) -> Vec<String> {
    let (Some(cmd), true) = (command, cells.len() > width) else {
        return cells.into_iter().map(str::to_owned).collect();
    };
    let extra = cells.len() - width;
    let mut out: Vec<String> = Vec::with_capacity(width);
    out.extend(cells.iter().take(cmd).map(|s| (*s).to_owned()));
    out.push(
        cells
            .iter()
            .skip(cmd)
            .take(extra + 1)
            .copied()
            .collect::<Vec<_>>()
            .join(","),
    );
    out.extend(cells.iter().skip(cmd + extra + 1).map(|s| (*s).to_owned()));
    out
}
