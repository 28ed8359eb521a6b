//! Flags every command shares: output format, file, language, colour.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
pub enum FormatArg {
    Human,
    Jsonl,
    Json,
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    Auto,
    En,
    Ja,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}

#[derive(Args)]
pub struct OutputArgs {
    /// Output format. jsonl: one object per line as results are ready, then a summary
    /// (docs/output.md).
    #[arg(long, value_enum, default_value = "human", help_heading = "Output")]
    pub format: FormatArg,

    /// Write results to FILE instead of standard output (refuses to overwrite without -C).
    #[arg(short, long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,

    /// Overwrite the --output file if it exists.
    #[arg(short = 'C', long, help_heading = "Output")]
    pub clobber: bool,

    /// Language of human output (auto: from LC_ALL / LC_MESSAGES / LANG).
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub lang: LangArg,

    /// Colour human output (auto: only on a terminal, and not when NO_COLOR is set).
    #[arg(long, value_enum, default_value = "auto", help_heading = "Output")]
    pub color: ColorArg,

    /// CSV without the UTF-8 byte order mark.
    #[arg(long, help_heading = "Output")]
    pub no_bom: bool,

    /// No status lines or progress bar on standard error.
    #[arg(short, long, help_heading = "Output")]
    pub quiet: bool,
}
