//! The `kensa` binary: flags in, a library call, a printer out.

mod commands;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  complete, nothing detected
  1  at least one item suspicious or malicious
  2  nothing detected, but something could not be inspected (incomplete)
  3  usage, configuration or policy error; nothing scanned";

/// kensa (検査): inspection against Emotet-class threats.
#[derive(Parser)]
#[command(name = "kensa", version, about, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan mail (.eml, mbox, Maildir), Office documents and archives; a verdict per item.
    Scan(commands::scan::ScanArgs),
}

fn main() -> ExitCode {
    terminal::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            terminal::error(&e);
            ExitCode::from(3)
        }
    }
}
