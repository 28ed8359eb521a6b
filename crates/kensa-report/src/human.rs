//! Human output: one triage line per item (`verdict flags score path`), the findings of every
//! detection as a table with en/ja descriptions, then the legend and the summary.

use std::io::{self, Write};

use kensa_core::{Catalog, Severity, SymbolTable, Verdict};
use kensa_scan::{ItemReport, Summary};
use unicode_width::UnicodeWidthStr;

use crate::{PrintOptions, Printer, escape};

pub use crate::PrintOptions as HumanOptions;

pub(crate) struct Human<'w> {
    out: Box<dyn Write + 'w>,
    opts: PrintOptions,
    verdicts_seen: [bool; 4],
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const GREEN: &str = "\x1b[32m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl<'w> Human<'w> {
    pub(crate) fn new(out: Box<dyn Write + 'w>, opts: PrintOptions) -> Self {
        Human {
            out,
            opts,
            verdicts_seen: [false; 4],
        }
    }

    fn paint(&self, colour: &str, text: &str) -> String {
        if self.opts.color {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    fn verdict_colour(v: Verdict) -> &'static str {
        match v {
            Verdict::Malicious => RED,
            Verdict::Suspicious => YELLOW,
            Verdict::Incomplete => CYAN,
            Verdict::Clean => GREEN,
        }
    }

    fn severity_colour(s: Severity) -> &'static str {
        match s {
            Severity::Critical | Severity::High => RED,
            Severity::Medium => YELLOW,
            Severity::Low => CYAN,
            Severity::Info => DIM,
        }
    }
}

/// Pad `s` to `width` terminal columns (Japanese characters are two columns wide).
fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

impl Printer for Human<'_> {
    fn item(&mut self, r: &ItemReport) -> io::Result<()> {
        let lang = self.opts.lang;
        let cat = Catalog::shipped();
        let table = SymbolTable::shipped();
        self.verdicts_seen[r.verdict as usize] = true;
        let verdict = pad(
            cat.text(&format!("verdict.{}", r.verdict.as_str()), lang),
            10,
        );
        writeln!(
            self.out,
            "{} {} {:>5.1} / {:<4.1} {}",
            self.paint(Self::verdict_colour(r.verdict), &verdict),
            r.flags(),
            r.score,
            r.threshold,
            escape(&r.path)
        )?;
        if let Some(e) = &r.error {
            writeln!(
                self.out,
                "    {}",
                self.paint(RED, &format!("[x] {}", escape(e)))
            )?;
        }
        let detail = self.opts.verbose || r.verdict != Verdict::Clean;
        if !detail || r.findings.is_empty() {
            return Ok(());
        }
        let sym_w = r
            .findings
            .iter()
            .map(|f| f.symbol.len())
            .max()
            .unwrap_or(0)
            .max(9);
        writeln!(
            self.out,
            "    {}  {}  {:>5}  {}",
            pad(cat.text("table.type", lang), 5),
            pad(cat.text("table.indicator", lang), sym_w),
            cat.text("table.score", lang),
            cat.text("table.description", lang),
        )?;
        for f in &r.findings {
            writeln!(
                self.out,
                "    {}  {}  {:>5.1}  {}",
                self.paint(
                    Self::severity_colour(f.severity),
                    &pad(f.severity.short(), 5)
                ),
                pad(f.symbol, sym_w),
                f.weight,
                cat.symbol(table, f.symbol, lang),
            )?;
            let indent = " ".repeat(4 + 5 + 2);
            writeln!(
                self.out,
                "{indent}{} {}",
                self.paint(DIM, &format!("{}:", cat.text("table.location", lang))),
                escape(&f.location.display())
            )?;
            if !f.evidence.is_empty() {
                writeln!(
                    self.out,
                    "{indent}{} {}",
                    self.paint(DIM, &format!("{}:", cat.text("table.evidence", lang))),
                    escape(&f.evidence)
                )?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let lang = self.opts.lang;
        let cat = Catalog::shipped();
        writeln!(self.out)?;
        writeln!(
            self.out,
            "{}",
            self.paint(DIM, cat.text("legend.flags", lang))
        )?;
        let secs = format!("{:.2}", s.elapsed_ms as f64 / 1000.0);
        writeln!(
            self.out,
            "{}",
            cat.fill(
                "summary.title",
                lang,
                &[("items", &s.items.to_string()), ("secs", &secs)]
            )
        )?;
        writeln!(
            self.out,
            "  {}",
            cat.fill(
                "summary.counts",
                lang,
                &[
                    ("clean", &s.clean.to_string()),
                    ("suspicious", &s.suspicious.to_string()),
                    ("malicious", &s.malicious.to_string()),
                    ("incomplete", &s.incomplete.to_string()),
                    ("errors", &s.errors.to_string()),
                ],
            )
        )?;
        for v in [Verdict::Malicious, Verdict::Suspicious, Verdict::Incomplete] {
            if self.verdicts_seen[v as usize] {
                let advice = cat.text(&format!("advice.{}", v.as_str()), lang);
                writeln!(
                    self.out,
                    "  {}",
                    self.paint(Self::verdict_colour(v), advice)
                )?;
            }
        }
        self.out.flush()
    }
}
