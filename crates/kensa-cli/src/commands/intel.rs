//! `kensa intel import FEED…` and `kensa intel list`: threat-intelligence feeds kept as snapshots
//! (JSON Lines, one file per feed name) in a local store that `kensa net analyze` reads. Scans
//! never fetch anything: feeds are files the user downloaded (or a mirror provides).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use kensa_net::intel::{self, FeedKind, ParseOptions, Snapshot};

/// Feed files larger than this are refused (the largest abuse.ch dumps are far smaller).
const MAX_FEED_BYTES: u64 = 1 << 30;

#[derive(Subcommand)]
pub enum IntelCommand {
    /// Import feed files (Feodo Tracker txt/CSV/JSON, URLhaus CSV/hosts, ThreatFox CSV or its ZIP,
    /// or one indicator per line) into the local store; a feed of the same name is replaced.
    Import(ImportArgs),
    /// List the imported feeds with their dates and sizes.
    List(StoreArg),
}

#[derive(Args)]
pub struct StoreArg {
    /// The store folder (default: $KENSA_DATA_DIR/intel, else $XDG_DATA_HOME/kensa/intel, else
    /// ~/.local/share/kensa/intel).
    #[arg(long, value_name = "DIR")]
    store: Option<PathBuf>,
}

#[derive(Args)]
pub struct ImportArgs {
    #[arg(required = true)]
    feeds: Vec<PathBuf>,

    /// The format, when detection from the content is not wanted: feodo_txt, feodo_csv,
    /// feodo_json, urlhaus_csv, urlhaus_tld_csv, urlhaus_hosts, threatfox_csv, plain_list.
    #[arg(long, value_name = "KIND")]
    kind: Option<String>,

    /// The name to store the feed under (default: feodo, urlhaus, threatfox or list, from the
    /// format; one file per name).
    #[arg(long, value_name = "NAME")]
    name: Option<String>,

    #[command(flatten)]
    store: StoreArg,
}

pub fn run(cmd: IntelCommand) -> anyhow::Result<u8> {
    match cmd {
        IntelCommand::Import(args) => import(args),
        IntelCommand::List(args) => list(args),
    }
}

/// The store folder: `--store`, `$KENSA_DATA_DIR/intel`, `$XDG_DATA_HOME/kensa/intel`,
/// `~/.local/share/kensa/intel`.
pub fn store_dir(explicit: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = env("KENSA_DATA_DIR") {
        return Ok(d.join("intel"));
    }
    if let Some(d) = env("XDG_DATA_HOME") {
        return Ok(d.join("kensa/intel"));
    }
    if let Some(h) = env("HOME").or_else(|| env("USERPROFILE")) {
        return Ok(h.join(".local/share/kensa/intel"));
    }
    bail!("no store folder: set --store or KENSA_DATA_DIR")
}

/// Parse one feed file; the date comes from its banner, else from the file's modification time.
pub fn parse_file(
    path: &Path,
    kind: Option<FeedKind>,
    name: Option<&str>,
) -> anyhow::Result<Snapshot> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if meta.len() > MAX_FEED_BYTES {
        bail!("{}: larger than {MAX_FEED_BYTES} bytes", path.display());
    }
    let mut data = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    if data.starts_with(b"PK\x03\x04") {
        data = intel::csv_from_zip(&data, MAX_FEED_BYTES)
            .with_context(|| format!("{}: feed archive", path.display()))?;
    }
    let opts = ParseOptions {
        kind,
        feed: name.map(str::to_string),
        ..ParseOptions::default()
    };
    let mut snap =
        intel::parse_feed(&data, &opts).with_context(|| format!("feed {}", path.display()))?;
    if snap.fetched_or_updated.is_none()
        && let Ok(modified) = meta.modified()
        && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
    {
        snap.fetched_or_updated =
            kensa_report::net::rfc3339(since.as_secs() as f64).map(|d| format!("{d} (file date)"));
    }
    Ok(snap)
}

/// Every snapshot of the store (a missing store is an empty one).
pub fn load_store(dir: &Path) -> anyhow::Result<Vec<Snapshot>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    paths.sort();
    let mut out = Vec::new();
    for p in paths {
        // A damaged snapshot is skipped with a warning: the other feeds still match.
        let read = std::fs::read(&p)
            .map_err(anyhow::Error::from)
            .and_then(|data| Ok(Snapshot::read_jsonl(&data, &intel::Limits::default())?));
        match read {
            Ok(snap) => out.push(snap),
            Err(e) => eprintln!(
                "[!] intel store {}: {e:#}; skipped (import the feed again)",
                p.display()
            ),
        }
    }
    Ok(out)
}

fn import(args: ImportArgs) -> anyhow::Result<u8> {
    let kind = match &args.kind {
        Some(k) => Some(FeedKind::from_name(k).with_context(|| format!("unknown --kind {k:?}"))?),
        None => None,
    };
    let dir = store_dir(args.store.store.as_deref())?;
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for path in &args.feeds {
        let snap = parse_file(path, kind, args.name.as_deref())?;
        let name: String = snap
            .feed
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let target = dir.join(format!("{name}.jsonl"));
        let tmp = dir.join(format!(".{name}.jsonl.tmp"));
        std::fs::write(&tmp, snap.to_jsonl())
            .with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &target).with_context(|| format!("writing {}", target.display()))?;
        eprintln!(
            "[+] {}: {} indicators as {:?} ({}), {} line problem(s) -> {}",
            path.display(),
            snap.indicators.len(),
            snap.feed,
            snap.kind.as_str(),
            snap.stats.bad_lines,
            target.display()
        );
    }
    Ok(0)
}

fn list(args: StoreArg) -> anyhow::Result<u8> {
    let dir = store_dir(args.store.as_deref())?;
    let snaps = load_store(&dir)?;
    if snaps.is_empty() {
        println!("no feeds imported in {}", dir.display());
    }
    for s in snaps {
        println!(
            "{:<12} {:<14} {:>9} indicators  {}",
            s.feed,
            s.kind.as_str(),
            s.indicators.len(),
            s.fetched_or_updated.as_deref().unwrap_or("-")
        );
    }
    Ok(0)
}
