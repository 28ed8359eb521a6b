//! JSON process lists: PowerShell's `ConvertTo-Json` (an array, or one object) and kensa's JSON Lines.
//!
//! Objects are read with a hand-written serde visitor that keeps only the five fields of interest
//! (any other property, however large or deeply nested, is skipped without building a value), so
//! memory stays proportional to what is kept. Property names are matched case-insensitively:
//! `name`/`Name`; `pid`/`ProcessId`/`Id`; `ppid`/`ParentProcessId`; `image_path`/`ExecutablePath`/
//! `Path`; `command_line`/`CommandLine`. When two names for one field occur (Win32_Process objects
//! carry both `ExecutablePath` and PowerShell's `Path` alias), the first in that list wins.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Collector, MAX_PROCESSES, ProcListError, Process};

/// Parses `text` (known to start with `[` or `{` after whitespace) and returns the format name.
pub(super) fn parse(text: &str, out: &mut Collector) -> Option<&'static str> {
    let body = text.trim_start_matches(['\u{feff}', ' ', '\t', '\r', '\n']);
    if body.starts_with('[') {
        return Some(parse_array(text, out));
    }
    // JSON Lines when the first line is a complete object by itself.
    let first = crate::regexport::text::lines(body)
        .next()
        .map_or("", |(_, l)| l);
    if serde_json::from_str::<Raw>(first).is_ok() {
        let kensa = parse_lines(text, out);
        return Some(if kensa {
            "kensa-jsonl"
        } else {
            "powershell-json"
        });
    }
    // One (pretty-printed) object: ConvertTo-Json of a single process.
    let line = text.get(..text.len() - body.len()).map_or(1, count_lines);
    match serde_json::from_str::<Raw>(text) {
        Ok(raw) => {
            let format = if raw.kensa_keys {
                "kensa-jsonl"
            } else {
                "powershell-json"
            };
            keep(out, raw, |reason| ProcListError::BadRecord { line, reason });
            Some(format)
        }
        Err(e) => {
            out.problem(json_error(&e, 0));
            Some("powershell-json")
        }
    }
}

fn count_lines(s: &str) -> usize {
    1 + s.matches('\n').count()
}

fn parse_array(text: &str, out: &mut Collector) -> &'static str {
    match serde_json::from_str::<Capped>(text) {
        Ok(capped) => {
            let kensa = capped.items.iter().any(|r| r.kensa_keys);
            for (i, raw) in capped.items.into_iter().enumerate() {
                keep(out, raw, |reason| ProcListError::BadElement {
                    index: i + 1,
                    reason,
                });
            }
            if capped.truncated {
                out.problem(ProcListError::TooManyProcesses { max: MAX_PROCESSES });
            }
            if kensa {
                "kensa-jsonl"
            } else {
                "powershell-json"
            }
        }
        Err(e) => {
            out.problem(json_error(&e, 0));
            "powershell-json"
        }
    }
}

/// JSON Lines: one object per non-blank line. Returns whether kensa's own keys were seen.
fn parse_lines(text: &str, out: &mut Collector) -> bool {
    let mut kensa = false;
    for (line, l) in crate::regexport::text::lines(text) {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Raw>(l) {
            Ok(raw) => {
                kensa |= raw.kensa_keys;
                if !keep(out, raw, |reason| ProcListError::BadRecord { line, reason }) {
                    break;
                }
            }
            Err(e) => out.problem(json_error(&e, line - 1)),
        }
    }
    kensa
}

fn json_error(e: &serde_json::Error, line_offset: usize) -> ProcListError {
    ProcListError::Json {
        line: e.line().saturating_add(line_offset),
        column: e.column(),
        message: e.to_string(),
    }
}

/// Converts a raw object into a process, or reports why not. Returns `false` when full.
fn keep(out: &mut Collector, raw: Raw, bad: impl Fn(&'static str) -> ProcListError) -> bool {
    match raw.into_process() {
        Ok(p) => out.push(p),
        Err(reason) => {
            out.problem(bad(reason));
            true
        }
    }
}

/// A JSON scalar as far as it matters here.
#[derive(Debug, Default)]
enum Scalar {
    #[default]
    Absent,
    Null,
    Number(u64),
    Text(String),
    /// A negative or fractional number, a boolean, an array or an object.
    Other,
}

impl Scalar {
    fn text(self) -> Option<String> {
        match self {
            Scalar::Text(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    fn id(&self) -> Result<Option<u32>, ()> {
        match self {
            Scalar::Absent | Scalar::Null => Ok(None),
            Scalar::Number(n) => u32::try_from(*n).map(Some).map_err(|_| ()),
            Scalar::Text(s) => super::parse_id(s).map(Some).ok_or(()),
            Scalar::Other => Err(()),
        }
    }
}

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Number(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Other, Scalar::Number))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(v))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }
}

/// The fields of one process object, each with the rank of the property name it came from.
#[derive(Debug, Default)]
struct Raw {
    object: bool,
    kensa_keys: bool,
    fields: [(u8, Scalar); 5],
}

const NAME: usize = 0;
const PID: usize = 1;
const PPID: usize = 2;
const IMAGE: usize = 3;
const COMMAND: usize = 4;

/// (field, rank, is kensa's own key) for a property name.
fn field_of(key: &str) -> Option<(usize, u8, bool)> {
    let k = key.to_ascii_lowercase();
    Some(match k.as_str() {
        "name" => (NAME, 1, key == "name"),
        "pid" => (PID, 1, true),
        "processid" => (PID, 2, false),
        "id" => (PID, 3, false),
        "ppid" => (PPID, 1, true),
        "parentprocessid" => (PPID, 2, false),
        "image_path" => (IMAGE, 1, true),
        "executablepath" => (IMAGE, 2, false),
        "path" => (IMAGE, 3, false),
        "command_line" => (COMMAND, 1, true),
        "commandline" => (COMMAND, 2, false),
        _ => return None,
    })
}

impl Raw {
    fn into_process(self) -> Result<Process, &'static str> {
        if !self.object {
            return Err("not a JSON object");
        }
        let [name, pid, ppid, image, command] = self.fields.map(|(_, s)| s);
        let pid = pid
            .id()
            .map_err(|()| "pid is not a number from 0 to 4294967295")?
            .ok_or("no pid/ProcessId")?;
        let ppid = ppid
            .id()
            .map_err(|()| "parent pid is not a number from 0 to 4294967295")?;
        Ok(Process {
            name: name.text().unwrap_or_default(),
            pid,
            ppid,
            image_path: image.text(),
            command_line: command.text(),
        })
    }
}

impl<'de> de::Deserialize<'de> for Raw {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(RawVisitor)
    }
}

struct RawVisitor;

impl<'de> Visitor<'de> for RawVisitor {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a process object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let mut raw = Raw {
            object: true,
            ..Raw::default()
        };
        while let Some(key) = map.next_key::<String>()? {
            let Some((field, rank, kensa)) = field_of(&key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            let value = map.next_value::<Scalar>()?;
            raw.kensa_keys |= kensa;
            if let Some(slot) = raw.fields.get_mut(field)
                && (slot.0 == 0 || rank < slot.0)
            {
                *slot = (rank, value);
            }
        }
        Ok(raw)
    }
    // Anything else is consumed and marked as not an object.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Raw, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Raw::default())
    }
    fn visit_u64<E>(self, _: u64) -> Result<Raw, E> {
        Ok(Raw::default())
    }
    fn visit_i64<E>(self, _: i64) -> Result<Raw, E> {
        Ok(Raw::default())
    }
    fn visit_f64<E>(self, _: f64) -> Result<Raw, E> {
        Ok(Raw::default())
    }
    fn visit_bool<E>(self, _: bool) -> Result<Raw, E> {
        Ok(Raw::default())
    }
    fn visit_str<E>(self, _: &str) -> Result<Raw, E> {
        Ok(Raw::default())
    }
    fn visit_unit<E>(self) -> Result<Raw, E> {
        Ok(Raw::default())
    }
}

/// A JSON array of process objects, keeping at most [`MAX_PROCESSES`].
struct Capped {
    items: Vec<Raw>,
    truncated: bool,
}

impl<'de> de::Deserialize<'de> for Capped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(CappedVisitor)
    }
}

struct CappedVisitor;

impl<'de> Visitor<'de> for CappedVisitor {
    type Value = Capped;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of process objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Capped, A::Error> {
        let mut items = Vec::new();
        let mut truncated = false;
        loop {
            if items.len() >= MAX_PROCESSES {
                if seq.next_element::<IgnoredAny>()?.is_none() {
                    break;
                }
                truncated = true;
                continue;
            }
            match seq.next_element::<Raw>()? {
                Some(raw) => items.push(raw),
                None => break,
            }
        }
        Ok(Capped { items, truncated })
    }
}
