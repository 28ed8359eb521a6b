//! `kensa net analyze FILE…`: captures (pcap, pcapng, gzip) and Zeek logs (TSV or JSON, gzip) in,
//! ranked internal host → peer pairs out.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kensa_core::Lang;
use kensa_net::analyze::{AnalyzeConfig, Analyzer, Cidr, capture_config};
use kensa_net::intel::IntelIndex;
use kensa_net::{capture, zeek};
use kensa_report::PrintOptions;
use kensa_report::net::{NetInput, NetRun};
use rayon::prelude::*;

use super::common::{ColorArg, FormatArg, LangArg, OutputArgs};
use super::intel;
use crate::terminal;

#[derive(Subcommand)]
pub enum NetCommand {
    /// Rank the internal host → peer pairs of captures and Zeek logs: beacons, C2 traits, intel hits.
    Analyze(AnalyzeArgs),
    /// Mail-server logs (Postfix, Exim; gzip too): sending bursts, stolen-credential patterns.
    Maillog(MaillogArgs),
}

#[derive(Args)]
pub struct MaillogArgs {
    /// Log files (syslog or Postfix's own maillog_file; Exim mainlog), gzip-compressed too.
    #[arg(required = true, help_heading = "Input")]
    paths: Vec<PathBuf>,

    /// The year of the log's first lines (syslog lines carry none; default: from each file's
    /// modification time).
    #[arg(long, value_name = "YEAR", help_heading = "Input")]
    year: Option<i32>,

    /// Offset of the log's local time from UTC, in hours (`9` for JST).
    #[arg(
        long,
        value_name = "HOURS",
        default_value_t = 0.0,
        allow_negative_numbers = true,
        help_heading = "Input"
    )]
    utc_offset: f64,

    /// Your own mail domains (repeatable; default: the sender domains most identities use).
    #[arg(long = "own-domain", value_name = "DOMAIN", help_heading = "Filtering")]
    own_domains: Vec<String>,

    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Args)]
pub struct AnalyzeArgs {
    /// pcap or pcapng captures (gzip-compressed too), Zeek logs (conn, dns, http, ssl; TSV or
    /// JSON, gzip too), ZIP archives of them (read in memory), or folders of them.
    #[arg(required = true, help_heading = "Input")]
    paths: Vec<PathBuf>,

    /// A threat-intelligence feed file to match against, besides the imported ones (repeatable;
    /// Feodo Tracker, URLhaus, ThreatFox, or one indicator per line).
    #[arg(long = "intel", value_name = "FEED", help_heading = "Input")]
    intel: Vec<PathBuf>,

    /// A password for ZIP archives of captures (repeatable); `infected` is always tried.
    #[arg(long = "password", value_name = "PW", help_heading = "Input")]
    passwords: Vec<String>,

    /// Do not load the feeds imported with `kensa intel import`.
    #[arg(long, help_heading = "Input")]
    no_store: bool,

    /// Where imported feeds are kept (default: $KENSA_DATA_DIR/intel, else
    /// $XDG_DATA_HOME/kensa/intel, else ~/.local/share/kensa/intel).
    #[arg(long, value_name = "DIR", help_heading = "Input")]
    store: Option<PathBuf>,

    /// Your networks, besides RFC 1918 and fd00::/8 (repeatable): `--internal 192.0.2.0/24`.
    #[arg(long = "internal", value_name = "CIDR", help_heading = "Filtering")]
    internal: Vec<String>,

    /// Report every internal host → peer pair with its profile (HTTP requests, server names,
    /// JA3/JA3S, certificates, SMTP), not only those with findings.
    #[arg(long, help_heading = "Output")]
    all: bool,

    /// Inputs read at once (default: one per core).
    #[arg(long, value_name = "N", help_heading = "Performance")]
    threads: Option<usize>,

    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(cmd: NetCommand) -> anyhow::Result<u8> {
    match cmd {
        NetCommand::Analyze(args) => analyze(args),
        NetCommand::Maillog(args) => maillog(args),
    }
}

fn analyze(args: AnalyzeArgs) -> anyhow::Result<u8> {
    let started = Instant::now();
    let lang = args.output.lang();
    let internal = args
        .internal
        .iter()
        .map(|c| c.parse::<Cidr>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()
        .context("--internal")?;
    let mut index = IntelIndex::new();
    let mut feeds = Vec::new();
    if !args.no_store {
        let dir = intel::store_dir(args.store.as_deref())?;
        for snap in intel::load_store(&dir)? {
            feeds.push((
                snap.feed.clone(),
                snap.indicators.len(),
                snap.fetched_or_updated.clone(),
            ));
            index.add(snap);
        }
    }
    for path in &args.intel {
        let snap = intel::parse_file(path, None, None)?;
        feeds.push((
            snap.feed.clone(),
            snap.indicators.len(),
            snap.fetched_or_updated.clone(),
        ));
        index.add(snap);
    }
    let files = input_files(&args.paths)?;
    let out = args.output.open()?;
    if !args.output.quiet {
        let names: Vec<String> = feeds
            .iter()
            .map(|(n, count, date)| match date {
                Some(d) => format!("{n} ({count}, {d})"),
                None => format!("{n} ({count})"),
            })
            .collect();
        let feeds_text = if names.is_empty() {
            "-".to_string()
        } else {
            names.join(", ")
        };
        eprintln!(
            "{}",
            kensa_core::Catalog::shipped().fill(
                "net.loaded",
                lang,
                &[
                    ("version", env!("CARGO_PKG_VERSION")),
                    ("inputs", &files.len().to_string()),
                    ("feeds", &feeds_text),
                ],
            )
        );
    }

    let cfg = AnalyzeConfig {
        internal,
        all_pairs: args.all,
        ..AnalyzeConfig::default()
    };
    // Inputs are read in parallel, one analyzer each, then folded together in input order.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .context("starting worker threads")?;
    // Folded as they finish (in input order: rayon reduces neighbours), so at most a few
    // analyzers exist at once, not one per file.
    let (inputs, analyzer) = pool.install(|| {
        files
            .par_iter()
            .map(|path| {
                let mut a = Analyzer::new(cfg.clone());
                let inputs = read_input(path, &args.passwords, &mut a);
                (inputs, a)
            })
            .reduce(
                || (Vec::new(), Analyzer::new(cfg.clone())),
                |(mut inputs, mut a), (more, b)| {
                    inputs.extend(more);
                    a.merge(b);
                    (inputs, a)
                },
            )
    });
    let mut run = NetRun {
        inputs,
        ..NetRun::default()
    };
    let intel = (!index.is_empty()).then_some(&index);
    let analysis = analyzer.finish(intel);
    run.feeds = feeds;
    run.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);

    let opts = PrintOptions {
        lang,
        color: args.output.color(),
        bom: !args.output.no_bom,
        verbose: true,
    };
    let mut out = out;
    kensa_report::net::print(args.output.format(), &opts, &mut out, &analysis, &run)
        .map_err(super::scan::quiet_on_broken_pipe)?;
    Ok(run.exit_code(&analysis))
}

fn maillog(args: MaillogArgs) -> anyhow::Result<u8> {
    use kensa_net::maillog::{self, BurstConfig, MailLogOptions, YearHint};
    let started = Instant::now();
    let files = input_files(&args.paths)?;
    let mut detector = maillog::Detector::new(BurstConfig {
        own_domains: args
            .own_domains
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect(),
        ..BurstConfig::default()
    });
    let mut inputs = Vec::new();
    for path in &files {
        let mut input = NetInput {
            path: path.display().to_string(),
            kind: "maillog".into(),
            ..NetInput::default()
        };
        let year = match args.year {
            Some(y) => YearHint::StartsIn(y),
            None => std::fs::metadata(path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or_else(YearHint::ending_now, |d| {
                    YearHint::ending_at(i64::try_from(d.as_secs()).unwrap_or(0))
                }),
        };
        let opts = MailLogOptions {
            utc_offset_secs: (args.utc_offset * 3600.0).round() as i32,
            ..MailLogOptions::new(year)
        };
        let read = std::fs::File::open(path)
            .map_err(anyhow::Error::from)
            .and_then(|f| {
                let mut r = std::io::BufReader::new(f);
                let mut magic = [0u8; 2];
                let n = read_prefix(&mut r, &mut magic)?;
                let head = &magic[..n];
                let stats = if head == [0x1f, 0x8b] {
                    let gz = flate2::read::MultiGzDecoder::new(std::io::Read::chain(head, r));
                    maillog::parse_maillog(std::io::BufReader::new(gz), &opts, |e| {
                        detector.push(&e)
                    })?
                } else {
                    maillog::parse_maillog(std::io::Read::chain(head, r), &opts, |e| {
                        detector.push(&e)
                    })?
                };
                Ok(stats)
            });
        match read {
            Ok(stats) => {
                input.records = stats.postfix_lines + stats.exim_lines;
                if input.records == 0 {
                    input.error = Some("no Postfix or Exim lines".into());
                }
            }
            Err(e) => input.error = Some(format!("{e:#}")),
        }
        inputs.push(input);
    }
    let detection = detector.finish();
    let run = NetRun {
        inputs,
        feeds: Vec::new(),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    };
    let opts = PrintOptions {
        lang: args.output.lang(),
        color: args.output.color(),
        bom: !args.output.no_bom,
        verbose: true,
    };
    let mut out = args.output.open()?;
    kensa_report::net::print_mail(args.output.format(), &opts, &mut out, &detection, &run)
        .map_err(super::scan::quiet_on_broken_pipe)?;
    Ok(kensa_report::net::mail_exit_code(&detection, &run))
}

/// Files as given; folders contribute the files inside (sorted, not recursive into subfolders of
/// subfolders beyond one level, as Zeek rotates logs into dated folders).
fn input_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("reading {}", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            inside.sort();
            for q in inside {
                if q.is_dir() {
                    let mut sub: Vec<PathBuf> = std::fs::read_dir(&q)
                        .with_context(|| format!("reading {}", q.display()))?
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|f| f.is_file())
                        .collect();
                    sub.sort();
                    files.extend(sub);
                } else if q.is_file() {
                    files.push(q);
                }
            }
        } else {
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        bail!("no input files");
    }
    Ok(files)
}

/// Read one file: a capture, a Zeek log, or a ZIP of them (as malware-traffic sites publish
/// captures, password `infected`): members are decrypted and read in memory, never written out.
fn read_input(path: &Path, passwords: &[String], analyzer: &mut Analyzer) -> Vec<NetInput> {
    let shown = path.display().to_string();
    let failed = |e: String| {
        vec![NetInput {
            path: shown.clone(),
            error: Some(e),
            ..NetInput::default()
        }]
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return failed(e.to_string()),
    };
    let mut magic = [0u8; 4];
    let is_zip = matches!(read_prefix(&mut &file, &mut magic), Ok(4)) && &magic == b"PK\x03\x04";
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return failed(e.to_string()),
    };
    if !is_zip {
        return vec![read_stream(
            shown,
            std::io::BufReader::with_capacity(256 << 10, file),
            path,
            analyzer,
        )];
    }
    let mut archive = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(a) => a,
        Err(e) => return failed(format!("ZIP: {e}")),
    };
    let mut inputs = Vec::new();
    for i in 0..archive.len().min(MAX_ZIP_MEMBERS) {
        let name = archive
            .name_for_index(i)
            .and_then(Result::ok)
            .map_or_else(|| format!("member-{i}"), |n| n.into_owned());
        if name.ends_with('/') {
            continue;
        }
        let shown = format!("{shown} > {name}");
        let candidates = passwords
            .iter()
            .map(String::as_str)
            .chain(DEFAULT_ZIP_PASSWORDS.iter().copied());
        let mut opened = None;
        let mut last_error = String::new();
        for pw in std::iter::once(None).chain(candidates.map(Some)) {
            let member = match pw {
                None => archive.by_index(i),
                Some(pw) => archive.by_index_decrypt(i, pw.as_bytes()),
            };
            match member {
                Ok(_) => {
                    opened = Some(pw);
                    break;
                }
                Err(e) => last_error = e.to_string(),
            }
        }
        let member = match opened {
            Some(None) => archive.by_index(i),
            Some(Some(pw)) => archive.by_index_decrypt(i, pw.as_bytes()),
            None => {
                inputs.push(NetInput {
                    path: shown,
                    error: Some(format!("could not open the member: {last_error}")),
                    ..NetInput::default()
                });
                continue;
            }
        };
        match member {
            Ok(m) => inputs.push(read_stream(shown, m, Path::new(&name), analyzer)),
            Err(e) => inputs.push(NetInput {
                path: shown,
                error: Some(e.to_string()),
                ..NetInput::default()
            }),
        }
    }
    inputs
}

/// Most bytes read (decompressed) from one input: a week of busy traffic fits; a gzip or ZIP bomb
/// stops here and the input is reported as not read to its end.
const MAX_INPUT_BYTES: u64 = 64 << 30;

/// Members of one ZIP that are read.
const MAX_ZIP_MEMBERS: usize = 256;
/// What analysts and malware-traffic sites use, tried after `--password`.
const DEFAULT_ZIP_PASSWORDS: &[&str] = &["infected", "infected-test", "malware"];

/// One capture or Zeek log from `reader` into the analyzer; what stopped it is kept on the input.
fn read_stream(
    shown: String,
    mut reader: impl Read,
    name: &Path,
    analyzer: &mut Analyzer,
) -> NetInput {
    let mut input = NetInput {
        path: shown,
        ..NetInput::default()
    };
    let mut head = [0u8; 512];
    let n = match read_prefix(&mut reader, &mut head) {
        Ok(n) => n,
        Err(e) => {
            input.error = Some(e.to_string());
            return input;
        }
    };
    let prefix = &head[..n];
    let chained = std::io::Read::chain(prefix, reader);
    if !matches!(capture::sniff(prefix), capture::Sniffed::Unknown) && zeek::sniff(prefix).is_none()
    {
        input.kind = "capture".into();
        let cfg = capture::CaptureConfig {
            max_input_bytes: Some(MAX_INPUT_BYTES),
            ..capture_config()
        };
        match capture::read_capture(chained, &cfg, |c| analyzer.add(&c)) {
            Ok(stats) => {
                input.records = stats.packets;
                input.kind = format!("{:?}", stats.format).to_lowercase();
                if !stats.complete {
                    input.error =
                        stats.errors.first().map(|e| e.to_string()).or_else(|| {
                            Some("the capture could not be read to its end".to_string())
                        });
                }
            }
            Err(e) => input.error = Some(e.to_string()),
        }
        return input;
    }
    input.kind = "zeek".into();
    let file_name = name.file_name().and_then(|n| n.to_str());
    let limits = zeek::ZeekLimits {
        max_input_bytes: Some(MAX_INPUT_BYTES),
        ..zeek::ZeekLimits::default()
    };
    match zeek::read_log(chained, file_name, &limits, |r| analyzer.add_zeek(&r)) {
        Ok(stats) => {
            input.records = stats.records.total();
            if let Some(e) = stats.error {
                input.error = Some(e.to_string());
            } else if input.records == 0 && stats.other_lines() == 0 {
                input.error = Some("neither a capture nor a Zeek log with records".into());
            }
        }
        Err(e) => input.error = Some(format!("neither a capture nor a Zeek log: {e}")),
    }
    input
}

fn read_prefix(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Language, colour and output file, shared with `kensa intel`.
impl OutputArgs {
    pub fn lang(&self) -> Lang {
        match self.lang {
            LangArg::Auto => terminal::detect_lang(),
            LangArg::En => Lang::En,
            LangArg::Ja => Lang::Ja,
        }
    }

    pub fn color(&self) -> bool {
        match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => self.output.is_none() && terminal::auto_color(),
        }
    }

    pub fn format(&self) -> kensa_report::Format {
        match self.format {
            FormatArg::Human => kensa_report::Format::Human,
            FormatArg::Jsonl => kensa_report::Format::Jsonl,
            FormatArg::Json => kensa_report::Format::Json,
            FormatArg::Csv => kensa_report::Format::Csv,
        }
    }

    pub fn open(&self) -> anyhow::Result<Box<dyn Write>> {
        Ok(match &self.output {
            Some(p) => {
                if p.exists() && !self.clobber {
                    bail!("{} exists; use -C/--clobber to overwrite it", p.display());
                }
                let f = std::fs::File::create(p)
                    .with_context(|| format!("creating {}", p.display()))?;
                Box::new(std::io::BufWriter::new(f))
            }
            None => Box::new(std::io::stdout().lock()),
        })
    }
}
