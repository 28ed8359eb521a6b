//! Printers for scan results: human (en/ja, optional colour), JSON Lines, JSON and CSV.
//! The engine knows nothing of them; they only read `ItemReport` and `Summary`.

mod csv_out;
mod escape;
pub mod host;
mod human;
mod json;
pub mod net;

use std::io::{self, Write};

use kensa_core::Lang;
use kensa_scan::{ItemReport, Summary};

pub use escape::escape;
pub use human::HumanOptions;

/// The output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Human,
    Jsonl,
    Json,
    Csv,
}

/// The version of the JSONL/JSON/CSV layout (docs/output.md). Changes when the layout does.
pub const SCHEMA_VERSION: u32 = 1;

/// Receives items as they finish, then the summary.
pub trait Printer {
    fn item(&mut self, report: &ItemReport) -> io::Result<()>;
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// Options the printers share.
#[derive(Debug, Clone)]
pub struct PrintOptions {
    pub lang: Lang,
    pub color: bool,
    /// CSV: write the UTF-8 byte order mark (Excel needs it for Japanese text).
    pub bom: bool,
    /// Human: print every finding of every item, not only of detections.
    pub verbose: bool,
}

pub fn printer<'w>(
    format: Format,
    opts: PrintOptions,
    out: Box<dyn Write + 'w>,
) -> Box<dyn Printer + 'w> {
    match format {
        Format::Human => Box::new(human::Human::new(out, opts)),
        Format::Jsonl => Box::new(json::Jsonl::new(out)),
        Format::Json => Box::new(json::Json::new(out)),
        Format::Csv => Box::new(csv_out::Csv::new(out, opts.bom)),
    }
}
