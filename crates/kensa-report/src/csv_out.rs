//! CSV: one row per finding (an item without findings gets one row), RFC 4180 quoting, UTF-8 with
//! a byte order mark by default so that Japanese Excel shows the text correctly. Headers are
//! English in every language.

use std::io::{self, Write};

use kensa_scan::{ItemReport, Summary};

use crate::Printer;

/// A cell Excel would read as a formula (`=cmd|'/c calc'!A0` in an attacker's file name or Host
/// header) gets a leading `'`, which Excel shows as text (OWASP's CSV-injection rule).
pub(crate) fn cell(s: &str) -> std::borrow::Cow<'_, str> {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

const HEADER: [&str; 10] = [
    "path", "verdict", "score", "flags", "symbol", "severity", "weight", "location", "evidence",
    "error",
];

pub(crate) struct Csv<'w> {
    /// The output until the header is written, then the CSV writer over it.
    out: Option<Box<dyn Write + 'w>>,
    w: Option<csv::Writer<Box<dyn Write + 'w>>>,
    bom: bool,
}

impl<'w> Csv<'w> {
    pub(crate) fn new(out: Box<dyn Write + 'w>, bom: bool) -> Self {
        Csv {
            out: Some(out),
            w: None,
            bom,
        }
    }

    fn writer(&mut self) -> io::Result<&mut csv::Writer<Box<dyn Write + 'w>>> {
        if let Some(mut out) = self.out.take() {
            if self.bom {
                out.write_all("\u{FEFF}".as_bytes())?;
            }
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(out);
            w.write_record(HEADER)?;
            self.w = Some(w);
        }
        self.w
            .as_mut()
            .ok_or_else(|| io::Error::other("CSV writer already closed"))
    }
}

impl Printer for Csv<'_> {
    fn item(&mut self, r: &ItemReport) -> io::Result<()> {
        let w = self.writer()?;
        let score = format!("{:.1}", r.score);
        let flags = r.flags();
        let error = r.error.clone().unwrap_or_default();
        if r.findings.is_empty() {
            w.write_record([
                &*cell(&r.path),
                r.verdict.as_str(),
                &score,
                &flags,
                "",
                "",
                "",
                "",
                "",
                &*cell(&error),
            ])?;
        }
        for f in &r.findings {
            w.write_record([
                &*cell(&r.path),
                r.verdict.as_str(),
                &score,
                &flags,
                f.symbol,
                f.severity.as_str(),
                &format!("{:.1}", f.weight),
                &*cell(&f.location.display()),
                &*cell(&f.evidence),
                &*cell(&error),
            ])?;
        }
        w.flush()
    }

    fn finish(&mut self, _summary: &Summary) -> io::Result<()> {
        self.writer()?.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(cell("=cmd|'/c calc'!A0"), "'=cmd|'/c calc'!A0");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-2+3"), "'-2+3");
        assert_eq!(cell("invoice.zip > macro.xlsm"), "invoice.zip > macro.xlsm");
        assert_eq!(cell(""), "");
    }
}
