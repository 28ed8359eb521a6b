//! `kensa scan PATH…`

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use kensa_core::{Lang, Limits, Policy, SymbolTable};
use kensa_report::PrintOptions;
use kensa_scan::{ItemReport, ScanOptions, Summary, collect_files, scan_file};
use rayon::prelude::*;

use super::common::OutputArgs;
use crate::terminal;

#[derive(Args)]
pub struct ScanArgs {
    /// Files and directories (searched recursively): .eml, mbox files, Maildir folders, Office
    /// documents, ZIP archives. The type is sniffed from the bytes, not taken from the name.
    #[arg(required_unless_present = "list_symbols", help_heading = "Input")]
    paths: Vec<PathBuf>,

    /// A password to try on encrypted archives, before those found in the message (repeatable).
    #[arg(long = "password", value_name = "PW", help_heading = "Input")]
    passwords: Vec<String>,

    #[command(flatten)]
    output: OutputArgs,

    /// Show the findings of clean items too.
    #[arg(short, long, help_heading = "Output")]
    verbose: bool,

    /// Print the symbol table (name, group, description) and exit.
    #[arg(long, help_heading = "Output")]
    list_symbols: bool,

    /// Policy file (TOML) merged over the shipped defaults; else $KENSA_CONFIG, /etc/kensa/policy.toml,
    /// ~/.config/kensa/policy.toml when present.
    #[arg(long, value_name = "FILE", help_heading = "Filtering")]
    config: Option<PathBuf>,

    /// Deepest nesting of containers opened (mail > zip > document counts 2).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth, help_heading = "Performance")]
    max_depth: usize,

    /// Bytes decompressed or decoded per item, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = Limits::default().max_total_bytes >> 20, help_heading = "Performance")]
    budget_mib: u64,

    /// Wall time per item, in seconds; what does not fit is reported as incomplete.
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().max_time.as_secs(), help_heading = "Performance")]
    budget_secs: u64,

    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N", help_heading = "Performance")]
    threads: Option<usize>,
}

fn load_policy(explicit: Option<&PathBuf>) -> anyhow::Result<(Policy, String)> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = explicit {
        let text =
            std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
        let policy = Policy::from_user(&text).with_context(|| format!("policy {}", p.display()))?;
        return Ok((policy, p.display().to_string()));
    }
    if let Some(p) = std::env::var_os("KENSA_CONFIG") {
        candidates.push(PathBuf::from(p));
    }
    candidates.push(PathBuf::from("/etc/kensa/policy.toml"));
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".config/kensa/policy.toml"));
    }
    for p in candidates {
        if p.is_file() {
            let text =
                std::fs::read_to_string(&p).with_context(|| format!("reading {}", p.display()))?;
            let policy =
                Policy::from_user(&text).with_context(|| format!("policy {}", p.display()))?;
            return Ok((policy, p.display().to_string()));
        }
    }
    Ok((Policy::shipped(), "shipped defaults".to_string()))
}

fn list_symbols(lang: Lang) -> u8 {
    let mut out = std::io::stdout().lock();
    for (name, info) in SymbolTable::shipped().iter() {
        let text = match lang {
            Lang::En => &info.en,
            Lang::Ja => &info.ja,
        };
        let _ = writeln!(out, "{name:<40} {:<8} {text}", info.group);
    }
    0
}

pub fn run(args: ScanArgs) -> anyhow::Result<u8> {
    let lang = args.output.lang();
    if args.list_symbols {
        return Ok(list_symbols(lang));
    }
    let (policy, policy_name) = load_policy(args.config.as_ref())?;
    if args.max_depth == 0 || args.budget_mib == 0 || args.budget_secs == 0 {
        bail!("--max-depth, --budget-mib and --budget-secs must be at least 1");
    }
    let limits = Limits {
        max_depth: args.max_depth,
        max_total_bytes: args.budget_mib << 20,
        max_entry_bytes: Limits::default().max_entry_bytes.min(args.budget_mib << 20),
        max_time: Duration::from_secs(args.budget_secs),
        ..Limits::default()
    };
    let opts = Arc::new(ScanOptions {
        limits,
        policy,
        passwords: args.passwords.clone(),
    });

    let out = args.output.open()?;
    let color = args.output.color();
    let format = args.output.format();

    let started = Instant::now();
    let (files, errors) = collect_files(&args.paths);
    if files.is_empty() && errors.is_empty() {
        bail!("no files found under the given paths");
    }
    let print_opts = PrintOptions {
        lang,
        color,
        bom: !args.output.no_bom,
        verbose: args.verbose || files.len() == 1,
    };
    let mut printer = kensa_report::printer(format, print_opts, out);
    if !args.output.quiet {
        let cat = kensa_core::Catalog::shipped();
        eprintln!(
            "{}",
            cat.fill(
                "start.loaded",
                lang,
                &[
                    ("version", env!("CARGO_PKG_VERSION")),
                    ("symbols", &SymbolTable::shipped().len().to_string()),
                    ("policy", &policy_name),
                ],
            )
        );
    }
    let mut summary = Summary::default();
    for e in &errors {
        let r = ItemReport::failed(&e.to_string(), &e.to_string());
        summary.add(&r);
        emit(printer.as_mut(), &r)?;
    }

    let progress =
        (!args.output.quiet && files.len() > 1 && terminal::stderr_is_terminal()).then(|| {
            let pb = indicatif::ProgressBar::new(files.len() as u64);
            pb.set_style(
                indicatif::ProgressStyle::with_template(
                    "{elapsed_precise} [{bar:30}] {pos}/{len} {percent}%",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            pb
        });

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    let files = Arc::new(files);
    let (tx, rx) = mpsc::channel::<(usize, Vec<ItemReport>)>();
    {
        let files = Arc::clone(&files);
        let opts = Arc::clone(&opts);
        pool.spawn(move || {
            files
                .par_iter()
                .enumerate()
                .for_each_with(tx, |tx, (i, path)| {
                    let reports = std::panic::catch_unwind(|| scan_file(path, &opts))
                        .unwrap_or_else(|_| {
                            vec![ItemReport::failed(
                                &path.display().to_string(),
                                "internal error (see stderr)",
                            )]
                        });
                    let _ = tx.send((i, reports));
                });
        });
    }
    // Print in input order as items finish: a small reorder buffer keeps output deterministic.
    let mut pending: BTreeMap<usize, Vec<ItemReport>> = BTreeMap::new();
    let mut next = 0usize;
    for (i, reports) in rx {
        pending.insert(i, reports);
        while let Some(reports) = pending.remove(&next) {
            next += 1;
            if let Some(pb) = &progress {
                pb.inc(1);
            }
            for r in &reports {
                summary.add(r);
                if let Some(pb) = &progress {
                    pb.suspend(|| emit(printer.as_mut(), r))?;
                } else {
                    emit(printer.as_mut(), r)?;
                }
            }
        }
    }
    if let Some(pb) = progress {
        pb.finish_and_clear();
    }
    summary.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    finish(printer.as_mut(), &summary)?;
    Ok(u8::try_from(summary.exit_code()).unwrap_or(2))
}

/// A closed pipe (`kensa scan … | head`) ends the run quietly.
pub(crate) fn quiet_on_broken_pipe(e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    anyhow::Error::new(e).context("writing results")
}

fn emit(printer: &mut dyn kensa_report::Printer, r: &ItemReport) -> anyhow::Result<()> {
    printer.item(r).map_err(quiet_on_broken_pipe)
}

fn finish(printer: &mut dyn kensa_report::Printer, s: &Summary) -> anyhow::Result<()> {
    printer.finish(s).map_err(quiet_on_broken_pipe)
}
