//! One log line's fields, by [`F`], from either format, with typed access.
//!
//! A [`Source`] answers "unset" (`Ok(None)`), a value, or the offending raw text (`Err`). [`Get`]
//! turns offending optional values into recorded field errors (the record is kept with the field
//! unset) and offending or missing required values into an [`IssueKind`] (the line is dropped).

use std::net::IpAddr;

use serde_json::Value;

use super::IssueKind;
use super::fields::{COUNT, F};
use super::value::{
    bytes_to_string, excerpt, parse_bool, parse_f64, parse_port, parse_time, parse_u64, unescape,
};

pub(super) trait Source {
    fn string(&self, f: F) -> Result<Option<String>, String>;
    fn u64(&self, f: F) -> Result<Option<u64>, String>;
    fn f64(&self, f: F) -> Result<Option<f64>, String>;
    fn time(&self, f: F) -> Result<Option<f64>, String>;
    fn bool(&self, f: F) -> Result<Option<bool>, String>;
    fn port(&self, f: F) -> Result<Option<u16>, String>;
    /// Set or vector; `out` gets at most `max` elements, the return says whether more were there.
    fn list(&self, f: F, max: usize, out: &mut Vec<String>) -> Result<Option<bool>, String>;
}

// ---------------------------------------------------------------- TSV

/// TSV: each known column's raw bytes, still escaped.
pub(super) struct TsvSource<'a> {
    pub(super) slots: &'a [Option<&'a [u8]>; COUNT],
    pub(super) set_sep: u8,
    pub(super) empty: &'a [u8],
    pub(super) unset: &'a [u8],
}

impl<'a> TsvSource<'a> {
    /// The raw column, `None` when absent or equal to the unset marker.
    fn raw(&self, f: F) -> Option<&'a [u8]> {
        self.slots
            .get(f as usize)
            .copied()
            .flatten()
            .filter(|r| *r != self.unset)
    }

    fn scalar<T>(&self, f: F, parse: impl Fn(&[u8]) -> Option<T>) -> Result<Option<T>, String> {
        match self.raw(f) {
            None => Ok(None),
            Some(r) => parse(r).map(Some).ok_or_else(|| excerpt(r)),
        }
    }
}

impl Source for TsvSource<'_> {
    fn string(&self, f: F) -> Result<Option<String>, String> {
        Ok(self.raw(f).map(|r| {
            if r == self.empty {
                String::new()
            } else {
                bytes_to_string(unescape(r))
            }
        }))
    }

    fn u64(&self, f: F) -> Result<Option<u64>, String> {
        self.scalar(f, parse_u64)
    }

    fn f64(&self, f: F) -> Result<Option<f64>, String> {
        self.scalar(f, parse_f64)
    }

    fn time(&self, f: F) -> Result<Option<f64>, String> {
        self.scalar(f, parse_time)
    }

    fn bool(&self, f: F) -> Result<Option<bool>, String> {
        self.scalar(f, parse_bool)
    }

    fn port(&self, f: F) -> Result<Option<u16>, String> {
        self.scalar(f, parse_port)
    }

    fn list(&self, f: F, max: usize, out: &mut Vec<String>) -> Result<Option<bool>, String> {
        let Some(r) = self.raw(f) else {
            return Ok(None);
        };
        if r == self.empty {
            return Ok(Some(false));
        }
        // The writer escapes the set separator inside elements, so splitting the raw bytes is
        // exact; an element equal to the empty marker is an empty string.
        for (i, el) in r.split(|&b| b == self.set_sep).enumerate() {
            if i >= max {
                return Ok(Some(true));
            }
            out.push(if el == self.empty {
                String::new()
            } else {
                bytes_to_string(unescape(el))
            });
        }
        Ok(Some(false))
    }
}

// ---------------------------------------------------------------- JSON

/// JSON: each known key's value (`null` counts as unset, like an omitted key).
pub(super) struct JsonSource<'a> {
    pub(super) slots: &'a [Option<&'a Value>; COUNT],
}

fn json_excerpt(v: &Value) -> String {
    let s = v.to_string();
    excerpt(s.as_bytes())
}

impl<'a> JsonSource<'a> {
    fn val(&self, f: F) -> Option<&'a Value> {
        self.slots
            .get(f as usize)
            .copied()
            .flatten()
            .filter(|v| !v.is_null())
    }

    /// Numbers as numbers, numeric strings through the TSV text parser (some exporters quote
    /// everything).
    fn number<T>(
        &self,
        f: F,
        from_num: impl Fn(&serde_json::Number) -> Option<T>,
        from_text: impl Fn(&[u8]) -> Option<T>,
    ) -> Result<Option<T>, String> {
        match self.val(f) {
            None => Ok(None),
            Some(v) => match v {
                Value::Number(n) => from_num(n),
                Value::String(s) => from_text(s.as_bytes()),
                _ => None,
            }
            .map(Some)
            .ok_or_else(|| json_excerpt(v)),
        }
    }
}

fn num_u64(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        let f = n.as_f64()?;
        // 2^64 as f64; integral values below it convert exactly.
        (f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0)
            .then_some(f as u64)
    })
}

fn num_f64(n: &serde_json::Number) -> Option<f64> {
    n.as_f64().filter(|v| v.is_finite())
}

impl Source for JsonSource<'_> {
    fn string(&self, f: F) -> Result<Option<String>, String> {
        match self.val(f) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(if *b { "T" } else { "F" }.to_string())),
            Some(v) => Err(json_excerpt(v)),
        }
    }

    fn u64(&self, f: F) -> Result<Option<u64>, String> {
        self.number(f, num_u64, parse_u64)
    }

    fn f64(&self, f: F) -> Result<Option<f64>, String> {
        self.number(f, num_f64, parse_f64)
    }

    fn time(&self, f: F) -> Result<Option<f64>, String> {
        self.number(f, num_f64, parse_time)
    }

    fn bool(&self, f: F) -> Result<Option<bool>, String> {
        match self.val(f) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(v @ Value::String(s)) => parse_bool(s.as_bytes())
                .map(Some)
                .ok_or_else(|| json_excerpt(v)),
            Some(v) => Err(json_excerpt(v)),
        }
    }

    fn port(&self, f: F) -> Result<Option<u16>, String> {
        self.number(
            f,
            |n| num_u64(n).and_then(|v| u16::try_from(v).ok()),
            parse_port,
        )
    }

    fn list(&self, f: F, max: usize, out: &mut Vec<String>) -> Result<Option<bool>, String> {
        let items: &[Value] = match self.val(f) {
            None => return Ok(None),
            Some(Value::Array(a)) => a,
            // A scalar where a set was expected: one element.
            Some(v @ (Value::String(_) | Value::Number(_) | Value::Bool(_))) => {
                std::slice::from_ref(v)
            }
            Some(v) => return Err(json_excerpt(v)),
        };
        for (i, el) in items.iter().enumerate() {
            if i >= max {
                return Ok(Some(true));
            }
            match el {
                Value::String(s) => out.push(s.clone()),
                Value::Number(n) => out.push(n.to_string()),
                Value::Bool(b) => out.push(if *b { "T" } else { "F" }.to_string()),
                Value::Null => out.push(String::new()),
                other => return Err(json_excerpt(other)),
            }
        }
        Ok(Some(false))
    }
}

// ---------------------------------------------------------------- typed access

/// A field whose value did not parse; the record keeps the field unset.
#[derive(Debug)]
pub(super) struct FieldError {
    pub(super) field: F,
    pub(super) value: String,
}

/// Typed access over a [`Source`], collecting field errors.
pub(super) struct Get<'s, S: Source> {
    pub(super) src: &'s S,
    pub(super) max_list: usize,
    pub(super) errors: Vec<FieldError>,
    /// Lists cut at `max_list`.
    pub(super) truncated_lists: u64,
}

impl<'s, S: Source> Get<'s, S> {
    pub(super) fn new(src: &'s S, max_list: usize) -> Self {
        Get {
            src,
            max_list,
            errors: Vec::new(),
            truncated_lists: 0,
        }
    }

    fn keep<T>(&mut self, f: F, r: Result<Option<T>, String>) -> Option<T> {
        match r {
            Ok(v) => v,
            Err(value) => {
                // One line has at most COUNT fields, so this stays small.
                self.errors.push(FieldError { field: f, value });
                None
            }
        }
    }

    fn need<T>(&mut self, f: F, r: Result<Option<T>, String>) -> Result<T, IssueKind> {
        match r {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(IssueKind::Missing { field: f.name() }),
            Err(value) => Err(IssueKind::BadValue {
                field: f.name(),
                value,
            }),
        }
    }

    pub(super) fn str(&mut self, f: F) -> Option<String> {
        let r = self.src.string(f);
        self.keep(f, r)
    }

    pub(super) fn u64(&mut self, f: F) -> Option<u64> {
        let r = self.src.u64(f);
        self.keep(f, r)
    }

    pub(super) fn u16(&mut self, f: F) -> Option<u16> {
        let r = self.src.u64(f).and_then(|v| match v {
            Some(n) => u16::try_from(n).map(Some).map_err(|_| n.to_string()),
            None => Ok(None),
        });
        self.keep(f, r)
    }

    pub(super) fn f64(&mut self, f: F) -> Option<f64> {
        let r = self.src.f64(f);
        self.keep(f, r)
    }

    pub(super) fn bool(&mut self, f: F) -> Option<bool> {
        let r = self.src.bool(f);
        self.keep(f, r)
    }

    pub(super) fn addr(&mut self, f: F) -> Option<IpAddr> {
        let r = self.addr_raw(f);
        self.keep(f, r)
    }

    fn addr_raw(&self, f: F) -> Result<Option<IpAddr>, String> {
        match self.src.string(f)? {
            None => Ok(None),
            Some(s) => s
                .trim()
                .parse::<IpAddr>()
                .map(Some)
                .map_err(|_| excerpt(s.as_bytes())),
        }
    }

    pub(super) fn list(&mut self, f: F) -> Vec<String> {
        let mut out = Vec::new();
        let r = self.src.list(f, self.max_list, &mut out);
        match self.keep(f, r) {
            Some(true) => self.truncated_lists += 1,
            Some(false) => {}
            None => out.clear(),
        }
        out
    }

    /// A vector of numbers (`TTLs`): elements that do not parse make a field error and are
    /// dropped.
    pub(super) fn f64_list(&mut self, f: F) -> Vec<f64> {
        let items = self.list(f);
        let mut out = Vec::with_capacity(items.len());
        let mut bad: Option<String> = None;
        for it in items {
            match parse_f64(it.as_bytes()) {
                Some(v) => out.push(v),
                None if bad.is_none() => bad = Some(excerpt(it.as_bytes())),
                None => {}
            }
        }
        if let Some(value) = bad {
            self.errors.push(FieldError { field: f, value });
        }
        out
    }

    pub(super) fn req_time(&mut self, f: F) -> Result<f64, IssueKind> {
        let r = self.src.time(f);
        self.need(f, r)
    }

    pub(super) fn req_addr(&mut self, f: F) -> Result<IpAddr, IssueKind> {
        let r = self.addr_raw(f);
        self.need(f, r)
    }

    pub(super) fn req_port(&mut self, f: F) -> Result<u16, IssueKind> {
        let r = self.src.port(f);
        self.need(f, r)
    }
}
