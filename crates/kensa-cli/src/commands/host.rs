//! `kensa host check` (live, Windows) and `kensa host triage DIR` (collected artefacts, any OS):
//! EmoCheck's job and the follow-up checks JPCERT/CC asks for, one report.
//!
//! EmoCheck's switches work too: `/quiet`, `/json`, `/output DIR`, `/help` (and `-quiet` …) are
//! rewritten to kensa's flags before parsing (main.rs).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kensa_core::{Lang, Policy};
use kensa_host::checks::{HostReport, check};
use kensa_host::model::HostData;
use kensa_report::host::{HostRun, emocheck_json, json_report, print, text};
use kensa_report::{Format, PrintOptions};

use super::common::{FormatArg, LangArg};

#[derive(Subcommand)]
pub enum HostCommand {
    /// Check this Windows PC now: processes, every user's registry, services, tasks, files.
    Check(CheckArgs),
    /// Check collected artefacts or a mounted Windows volume (hives, .reg exports, task XML,
    /// process list, file listing; see docs/host.md).
    Triage(TriageArgs),
}

#[derive(Args)]
pub struct ReportArgs {
    /// Folder for the report file `<HOST>_<yyyymmddhhmmss>_kensa.txt` (EmoCheck: /output).
    #[arg(long, value_name = "DIR", default_value = ".")]
    output: PathBuf,

    /// Write the report as JSON instead of text (EmoCheck: /json).
    #[arg(long)]
    json: bool,

    /// Also write EmoCheck's own JSON (`<HOST>_<yyyymmddhhmmss>_emocheck.json`), for collectors
    /// built for EmoCheck.
    #[arg(long)]
    emocheck_json: bool,

    /// Write no report file; only print.
    #[arg(long, conflicts_with_all = ["json", "emocheck_json"])]
    no_report: bool,

    /// Print nothing but errors (EmoCheck: /quiet).
    #[arg(short, long)]
    quiet: bool,

    /// What to print on standard output (human: the report itself).
    #[arg(long, value_enum, default_value = "human")]
    format: FormatArg,

    /// Language of the report (auto: the Windows UI language, else LANG).
    #[arg(long, value_enum, default_value = "auto")]
    lang: LangArg,

    /// CSV without the UTF-8 byte order mark.
    #[arg(long)]
    no_bom: bool,
}

#[derive(Args)]
pub struct CheckArgs {
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(Args)]
pub struct TriageArgs {
    /// The folder with the collected artefacts, or a mounted Windows volume.
    dir: PathBuf,

    /// The system drive's volume serial (hex, e.g. 1A2B-3C4D) for EmoCheck's v1/v2 names.
    #[arg(long, value_name = "HEX")]
    volume_serial: Option<String>,

    /// The host name to report (default: from the SYSTEM hive, else the folder name).
    #[arg(long, value_name = "NAME")]
    host: Option<String>,

    #[command(flatten)]
    report: ReportArgs,
}

pub fn run(cmd: HostCommand) -> anyhow::Result<u8> {
    let started = Instant::now();
    // Local time first, while the process has one thread (the `time` crate refuses otherwise).
    let now = time::OffsetDateTime::now_local().unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    match cmd {
        HostCommand::Check(a) => {
            let data = live()?;
            finish(&a.report, &data, now, started, "host check")
        }
        HostCommand::Triage(a) => {
            if !a.dir.is_dir() {
                bail!("{} is not a folder", a.dir.display());
            }
            let serial = a.volume_serial.as_deref().map(parse_serial).transpose()?;
            let opts = kensa_host::triage::TriageOptions {
                volume_serial: serial,
                host_name: a.host.clone(),
                ..Default::default()
            };
            let data = kensa_host::triage::collect(&a.dir, &opts);
            finish(&a.report, &data, now, started, "host triage")
        }
    }
}

#[cfg(windows)]
fn live() -> anyhow::Result<HostData> {
    Ok(kensa_host::collect_live())
}

#[cfg(not(windows))]
fn live() -> anyhow::Result<HostData> {
    bail!(
        "kensa host check reads a running Windows PC; on this system, use kensa host triage DIR on collected artefacts"
    )
}

fn parse_serial(s: &str) -> anyhow::Result<u32> {
    kensa_host::emocheck::parse_vol_output(s)
        .with_context(|| format!("--volume-serial: `{s}` is not a volume serial (like 1A2B-3C4D)"))
}

fn lang(arg: LangArg) -> Lang {
    match arg {
        LangArg::En => Lang::En,
        LangArg::Ja => Lang::Ja,
        LangArg::Auto => {
            #[cfg(windows)]
            if kensa_host::ui_language_is_japanese() {
                return Lang::Ja;
            }
            crate::terminal::detect_lang()
        }
    }
}

fn finish(
    a: &ReportArgs,
    data: &HostData,
    now: time::OffsetDateTime,
    started: Instant,
    command: &'static str,
) -> anyhow::Result<u8> {
    let r: HostReport = check(data, &Policy::shipped());
    let (date, time) = (
        (now.year(), u8::from(now.month()), now.day()),
        (now.hour(), now.minute(), now.second()),
    );
    let run = HostRun {
        scan_time: format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            date.0, date.1, date.2, time.0, time.1, time.2
        ),
        stamp: format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            date.0, date.1, date.2, time.0, time.1, time.2
        ),
        command,
        elapsed_ms: started.elapsed().as_millis() as u64,
    };
    let lang = lang(a.lang);
    let mut written = Vec::new();
    if !a.no_report {
        if !a.output.is_dir() {
            bail!("the report folder {} does not exist", a.output.display());
        }
        let host = file_safe(&r.host);
        let (ext, body) = if a.json {
            (
                "json",
                serde_json::to_string_pretty(&json_report(&r, &run))? + "\n",
            )
        } else {
            ("txt", text(&r, &run, lang))
        };
        written.push(write(
            &a.output,
            &format!("{host}_{}_kensa.{ext}", run.stamp),
            body.as_bytes(),
        )?);
        if a.emocheck_json {
            let name = format!("{host}_{}_emocheck.json", run.stamp);
            written.push(write(&a.output, &name, emocheck_json(&r, &run).as_bytes())?);
        }
    }
    let format = match a.format {
        FormatArg::Human => Format::Human,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Json => Format::Json,
        FormatArg::Csv => Format::Csv,
    };
    if !a.quiet || format != Format::Human {
        let opts = PrintOptions {
            lang,
            color: false,
            bom: !a.no_bom,
            verbose: false,
        };
        print(format, &opts, &mut std::io::stdout().lock(), &r, &run)?;
    }
    if !a.quiet {
        for p in &written {
            match lang {
                Lang::Ja => eprintln!("以下のファイルに結果を出力しました: {}", p.display()),
                Lang::En => eprintln!("Report written to {}", p.display()),
            }
        }
        pause_if_double_clicked(lang);
    }
    Ok(r.exit_code())
}

/// EmoCheck's habit: a window opened by a double-click stays until the user presses Enter.
fn pause_if_double_clicked(lang: Lang) {
    #[cfg(windows)]
    if kensa_host::started_by_double_click() {
        eprintln!(
            "{}",
            match lang {
                Lang::Ja => "Enter キーを押すと終了します。",
                Lang::En => "Press Enter to close this window.",
            }
        );
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }
    #[cfg(not(windows))]
    let _ = lang;
}

/// Host names come from the machine (or a hive): keep file names to safe characters.
fn file_safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if t.is_empty() { "host".to_string() } else { t }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, bytes).with_context(|| format!("cannot write {}", p.display()))?;
    Ok(p)
}

/// EmoCheck's switches (`/quiet`, `-json`, `/output DIR`, `/help`) as kensa's, for `kensa host …`.
pub fn rewrite_emocheck_switches(args: Vec<String>) -> Vec<String> {
    if args.get(1).map(String::as_str) != Some("host") {
        return args;
    }
    args.into_iter()
        .map(|a| match a.as_str() {
            "/quiet" | "-quiet" => "--quiet".to_string(),
            "/json" | "-json" => "--json".to_string(),
            "/output" | "-output" => "--output".to_string(),
            "/help" | "-help" | "/?" => "--help".to_string(),
            "/emocheck-json" => "--emocheck-json".to_string(),
            _ => a,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emocheck_switches_only_for_host() {
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            rewrite_emocheck_switches(v(&[
                "kensa", "host", "check", "/quiet", "/json", "/output", "D:\\r"
            ])),
            v(&[
                "kensa", "host", "check", "--quiet", "--json", "--output", "D:\\r"
            ])
        );
        assert_eq!(
            rewrite_emocheck_switches(v(&["kensa", "scan", "/json"])),
            v(&["kensa", "scan", "/json"])
        );
    }

    #[test]
    fn file_names_stay_safe() {
        assert_eq!(file_safe("PC-01"), "PC-01");
        assert_eq!(file_safe("../../etc"), "______etc");
        assert_eq!(file_safe(""), "host");
    }
}
