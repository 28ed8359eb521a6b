//! Zeek TSV: header blocks and data lines.

use super::fields::{self, COUNT, F};
use super::source::TsvSource;
use super::value::{bytes_to_string, unescape};
use super::{Ctx, IssueKind, Target, UNKNOWN_PATH, ZeekKind, ZeekRecord};

const DEFAULT_SEP: u8 = b'\t';
const DEFAULT_SET_SEP: u8 = b',';
const DEFAULT_EMPTY: &[u8] = b"(empty)";
const DEFAULT_UNSET: &[u8] = b"-";

/// How a header block's columns map to records; worked out at its first data line.
struct Plan {
    target: Target,
    /// Per column: the field it fills, if it is a known field of the target log.
    cols: Vec<Option<F>>,
    /// Names of the columns that are not.
    unknown: Vec<String>,
}

/// State of the current header block.
pub(super) struct Tsv {
    sep: u8,
    set_sep: u8,
    empty: Vec<u8>,
    unset: Vec<u8>,
    path: Option<String>,
    fields: Option<Vec<String>>,
    plan: Option<Plan>,
}

/// A `LogAscii::tsv = T` header: bare tab-separated column names starting with `ts`, naming
/// `uid` or `id.orig_h` too.
pub(super) fn is_bare_header(line: &[u8]) -> bool {
    let mut cols = line.split(|&b| b == DEFAULT_SEP);
    cols.next() == Some(b"ts") && cols.any(|c| c == b"uid" || c == b"id.orig_h")
}

impl Tsv {
    pub(super) fn new() -> Self {
        Tsv {
            sep: DEFAULT_SEP,
            set_sep: DEFAULT_SET_SEP,
            empty: DEFAULT_EMPTY.to_vec(),
            unset: DEFAULT_UNSET.to_vec(),
            path: None,
            fields: None,
            plan: None,
        }
    }

    pub(super) fn line(
        &mut self,
        ctx: &mut Ctx<'_>,
        line_no: u64,
        line: &[u8],
    ) -> Option<ZeekRecord> {
        if line.first() == Some(&b'#') {
            ctx.stats.header_lines += 1;
            self.header(ctx, line_no, line);
            return None;
        }
        if self.fields.is_none() && is_bare_header(line) {
            ctx.stats.header_lines += 1;
            ctx.stats.header_blocks += 1;
            *self = Tsv::new();
            self.set_fields(ctx, line_no, line);
            return None;
        }
        self.data(ctx, line_no, line)
    }

    fn header(&mut self, ctx: &mut Ctx<'_>, line_no: u64, line: &[u8]) {
        let bad = |ctx: &mut Ctx<'_>, what: &'static str| {
            ctx.stats
                .issue(ctx.limits, line_no, false, IssueKind::BadHeader { what });
        };
        if let Some(rest) = line
            .strip_prefix(b"#separator")
            .filter(|r| r.first().is_none_or(u8::is_ascii_whitespace))
        {
            // `#separator \x09`: the only header whose value follows a space.
            *self = Tsv::new();
            ctx.stats.header_blocks += 1;
            match unescape(rest.trim_ascii()).as_slice() {
                [b] => self.sep = *b,
                _ => bad(ctx, "#separator is not one byte; using tab"),
            }
            return;
        }
        // Other directives: name and value split at the separator (at a space when the line
        // has no separator, as hand-edited headers do).
        let split = line
            .iter()
            .position(|&b| b == self.sep)
            .or_else(|| line.iter().position(|&b| b == b' '));
        let (name, value) = match split {
            Some(i) => (
                line.get(..i).unwrap_or(line),
                line.get(i + 1..).unwrap_or(&[]),
            ),
            None => (line, &[][..]),
        };
        match name {
            b"#set_separator" => match unescape(value).as_slice() {
                [b] => self.set_sep = *b,
                _ => bad(ctx, "#set_separator is not one byte; ignored"),
            },
            b"#empty_field" => self.empty = unescape(value),
            b"#unset_field" => self.unset = unescape(value),
            b"#path" => {
                self.path = Some(bytes_to_string(unescape(value.trim_ascii())));
                self.plan = None;
            }
            b"#fields" => {
                if self.fields.is_some() || ctx.stats.header_blocks == 0 {
                    // A block that does not start with #separator (hand-made or cut).
                    ctx.stats.header_blocks += 1;
                }
                self.set_fields(ctx, line_no, value);
            }
            b"#types" => {
                let n = value.split(|&b| b == self.sep).count();
                if self.fields.as_ref().is_some_and(|f| f.len() != n) {
                    bad(ctx, "#types and #fields differ in length");
                }
            }
            b"#close" => ctx.stats.closed_blocks += 1,
            _ => {}
        }
    }

    fn set_fields(&mut self, ctx: &mut Ctx<'_>, line_no: u64, value: &[u8]) {
        self.plan = None;
        let n = value.split(|&b| b == self.sep).count();
        if n > ctx.limits.max_columns {
            self.fields = None;
            let kind = IssueKind::BadHeader {
                what: "#fields has more columns than the limit; block skipped",
            };
            ctx.stats.issue(ctx.limits, line_no, false, kind);
            return;
        }
        self.fields = Some(
            value
                .split(|&b| b == self.sep)
                .map(|n| bytes_to_string(n.to_vec()))
                .collect(),
        );
    }

    fn plan(&self, ctx: &Ctx<'_>, fields: &[String]) -> Plan {
        let ids: Vec<Option<F>> = fields.iter().map(|n| F::from_name(n)).collect();
        let target = match &self.path {
            Some(p) => match ZeekKind::from_path(p) {
                Some((k, open)) => Target::Kind(k, open),
                None => Target::Other(p.clone()),
            },
            None => ctx.fallback_target(fields::guess(|f| ids.contains(&Some(f)))),
        };
        let mut cols = Vec::with_capacity(ids.len());
        let mut unknown = Vec::new();
        for (name, id) in fields.iter().zip(ids) {
            match (&target, id) {
                (Target::Kind(k, _), Some(f)) if fields::belongs(*k, f) => cols.push(Some(f)),
                (Target::Kind(..), _) => {
                    cols.push(None);
                    unknown.push(name.clone());
                }
                (Target::Other(_), _) => cols.push(None),
            }
        }
        Plan {
            target,
            cols,
            unknown,
        }
    }

    fn data(&mut self, ctx: &mut Ctx<'_>, line_no: u64, line: &[u8]) -> Option<ZeekRecord> {
        let Some(fields) = &self.fields else {
            ctx.stats
                .issue(ctx.limits, line_no, true, IssueKind::NoHeader);
            return None;
        };
        if self.plan.is_none() {
            self.plan = Some(self.plan(ctx, fields));
        }
        let plan = self.plan.as_ref()?;
        let (kind, open) = match &plan.target {
            Target::Other(p) => {
                let p = if p.is_empty() { UNKNOWN_PATH } else { p };
                ctx.stats.other_path(ctx.limits, p);
                return None;
            }
            Target::Kind(k, open) => (*k, *open),
        };
        let mut slots: [Option<&[u8]>; COUNT] = [None; COUNT];
        let mut got = 0usize;
        for col in line.split(|&b| b == self.sep) {
            if let Some(Some(f)) = plan.cols.get(got)
                && let Some(slot) = slots.get_mut(*f as usize)
            {
                *slot = Some(col);
            }
            got += 1;
        }
        if got != plan.cols.len() {
            let kind = IssueKind::ColumnCount {
                expected: plan.cols.len(),
                got,
            };
            ctx.stats.issue(ctx.limits, line_no, true, kind);
            return None;
        }
        for name in &plan.unknown {
            ctx.stats.unknown_field(ctx.limits, name);
        }
        let src = TsvSource {
            slots: &slots,
            set_sep: self.set_sep,
            empty: &self.empty,
            unset: &self.unset,
        };
        ctx.build(&src, kind, open, line_no)
    }
}
