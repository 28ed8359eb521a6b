//! The `kensa` binary: flags in, a library call, a printer out.

mod commands;
mod terminal;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  complete, nothing detected
  1  at least one detection (an item suspicious or malicious; a peer rated medium or worse)
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
    /// Scan mail (.eml, mbox, Maildir, .msg), documents, archives, images; a verdict per item.
    Scan(commands::scan::ScanArgs),
    /// Network analysis: find C2, beacons and spambots in captures and Zeek logs.
    #[command(subcommand)]
    Net(commands::net::NetCommand),
    /// Threat-intelligence feeds for `kensa net`: import and list.
    #[command(subcommand)]
    Intel(commands::intel::IntelCommand),
    /// Host checks: EmoCheck's methods, later Emotet, follow-up malware, Office macro policy.
    #[command(subcommand)]
    Host(commands::host::HostCommand),
    /// The mail gateway: a milter for Postfix/Sendmail driven by kensa's verdicts.
    #[cfg(unix)]
    Milter(commands::milter::MilterArgs),
    /// Review the messages the milter quarantined: list, show, release, delete, export.
    #[cfg(unix)]
    #[command(subcommand)]
    Quarantine(commands::quarantine::QuarantineCommand),
}

fn main() -> ExitCode {
    terminal::install_panic_hook();
    let args = commands::host::rewrite_emocheck_switches(std::env::args().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 3 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Scan(args) => commands::scan::run(args),
        Command::Net(cmd) => commands::net::run(cmd),
        Command::Intel(cmd) => commands::intel::run(cmd),
        Command::Host(cmd) => commands::host::run(cmd),
        #[cfg(unix)]
        Command::Milter(args) => commands::milter::run(args),
        #[cfg(unix)]
        Command::Quarantine(cmd) => commands::quarantine::run(cmd),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            terminal::error(&e);
            ExitCode::from(3)
        }
    }
}
