//! `kensa net analyze` output: ranked internal host → peer pairs, with RITA-style scores ×100 and
//! RITA's severity bands, in the same formats as `kensa scan` (docs/output.md).

use std::io::{self, Write};

use kensa_core::{Catalog, Finding, Severity, SymbolTable};
use kensa_net::analyze::{Analysis, PeerReport};
use kensa_net::beacon::analytics::RitaSeverity;
use kensa_net::maillog::{Detection, MailFinding};
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::csv_out::cell;
use crate::{Format, PrintOptions, SCHEMA_VERSION, escape};

/// What was read, for the header and the summary.
#[derive(Debug, Clone, Default)]
pub struct NetRun {
    /// Per input: path, kind (`pcap`, `pcapng`, `zeek conn`…), packets or records, and an error
    /// that cut it short.
    pub inputs: Vec<NetInput>,
    /// Intel feeds loaded: name, indicators, date.
    pub feeds: Vec<(String, usize, Option<String>)>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Default)]
pub struct NetInput {
    pub path: String,
    pub kind: String,
    pub records: u64,
    pub error: Option<String>,
}

impl NetRun {
    /// 1 when a pair is rated medium or worse, else 2 when an input was not read whole, else 0.
    pub fn exit_code(&self, a: &Analysis) -> u8 {
        if a.peers
            .iter()
            .any(|p| p.severity >= Some(RitaSeverity::Medium))
        {
            1
        } else if self.inputs.iter().any(|i| i.error.is_some()) {
            2
        } else {
            0
        }
    }
}

/// RFC 3339 UTC with seconds, from epoch seconds (`None` for 0 or non-finite).
pub fn rfc3339(epoch: f64) -> Option<String> {
    if !epoch.is_finite() || epoch <= 0.0 {
        return None;
    }
    let secs = epoch.floor() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = kensa_core::civil::civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    ))
}

fn severity_str(s: Option<RitaSeverity>) -> &'static str {
    s.map_or("none", RitaSeverity::as_str)
}

fn finding(f: &Finding) -> Value {
    json!({
        "symbol": f.symbol,
        "severity": f.severity,
        "weight": f.weight,
        "location": f.location.display(),
        "location_path": f.location.0,
        "evidence": f.evidence,
    })
}

fn peer(p: &PeerReport) -> Value {
    json!({
        "type": "peer",
        "schema_version": SCHEMA_VERSION,
        "src": p.src.to_string(),
        "dst": p.dst,
        "score": (p.score * 1000.0).round() / 1000.0,
        "severity": severity_str(p.severity),
        "ports": p.ports,
        "names": p.names,
        "conns": p.conns,
        "bytes_out": p.bytes_out,
        "bytes_in": p.bytes_in,
        "first_seen": rfc3339(p.first_seen),
        "last_seen": rfc3339(p.last_seen),
        "modifiers": p.modifiers,
        "findings": p.findings.iter().map(finding).collect::<Vec<_>>(),
        "profile": {
            "http_requests": p.profile.http_requests,
            "http": p.profile.http.iter().map(|(r, ua)| json!({"request": r, "user_agent": ua})).collect::<Vec<_>>(),
            "tls_connections": p.profile.tls_connections,
            "sni": p.profile.sni,
            "ja3": p.profile.ja3,
            "ja3s": p.profile.ja3s,
            "certificates": p.profile.certificates,
            "smtp": {
                "sessions": p.profile.smtp_sessions,
                "messages": p.profile.smtp_messages,
                "recipients": p.profile.smtp_recipients,
            },
            "refused": p.profile.refused.iter().map(|(port, n)| json!({"port": port, "count": n})).collect::<Vec<_>>(),
        },
    })
}

fn summary(a: &Analysis, run: &NetRun) -> Value {
    let count = |s: RitaSeverity| a.peers.iter().filter(|p| p.severity == Some(s)).count();
    json!({
        "type": "summary",
        "schema_version": SCHEMA_VERSION,
        "inputs": run.inputs.iter().map(|i| json!({
            "path": i.path, "kind": i.kind, "records": i.records, "error": i.error,
        })).collect::<Vec<_>>(),
        "feeds": run.feeds.iter().map(|(name, n, date)| json!({
            "name": name, "indicators": n, "updated": date,
        })).collect::<Vec<_>>(),
        "connections": a.conns,
        "internal_hosts": a.internal_hosts,
        "assumed_internal": a.assumed_internal.map(|ip| ip.to_string()),
        "pairs": a.pairs,
        "dropped_pairs": a.dropped_pairs,
        "ranked": a.peers.len(),
        "critical": count(RitaSeverity::Critical),
        "high": count(RitaSeverity::High),
        "medium": count(RitaSeverity::Medium),
        "low": count(RitaSeverity::Low),
        "first_ts": rfc3339(a.first_ts),
        "last_ts": rfc3339(a.last_ts),
        "short_window": a.short_window(),
        "elapsed_ms": run.elapsed_ms,
        "exit_code": run.exit_code(a),
    })
}

/// Write the whole analysis in `format`.
pub fn print(
    format: Format,
    opts: &PrintOptions,
    out: &mut dyn Write,
    a: &Analysis,
    run: &NetRun,
) -> io::Result<()> {
    match format {
        Format::Jsonl | Format::Json => {
            let items = a.peers.iter().map(peer).collect();
            json_out(format, out, "peers", items, summary(a, run))?;
        }
        Format::Csv => csv(opts, out, a)?,
        Format::Human => human(opts, out, a, run)?,
    }
    out.flush()
}

/// JSON Lines (each object, then the summary) or one JSON document holding them under `key`.
pub(crate) fn json_out(
    format: Format,
    out: &mut dyn Write,
    key: &str,
    items: Vec<Value>,
    summary: Value,
) -> io::Result<()> {
    if format == Format::Jsonl {
        for v in items.iter().chain([&summary]) {
            serde_json::to_writer(&mut *out, v)?;
            writeln!(out)?;
        }
    } else {
        let doc = json!({ "schema_version": SCHEMA_VERSION, key: items, "summary": summary });
        serde_json::to_writer_pretty(&mut *out, &doc)?;
        writeln!(out)?;
    }
    Ok(())
}

/// A CSV writer as every kensa CSV is written: optional byte order mark, CRLF.
pub(crate) fn csv_writer(
    out: &mut dyn Write,
    bom: bool,
) -> io::Result<csv::Writer<&mut dyn Write>> {
    if bom {
        out.write_all("\u{feff}".as_bytes())?;
    }
    Ok(csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out))
}

fn csv(opts: &PrintOptions, out: &mut dyn Write, a: &Analysis) -> io::Result<()> {
    let mut w = csv_writer(out, opts.bom)?;
    let header = [
        "src",
        "dst",
        "score",
        "severity",
        "ports",
        "names",
        "conns",
        "symbol",
        "finding_severity",
        "evidence",
    ];
    w.write_record(header).map_err(io::Error::other)?;
    for p in &a.peers {
        for f in &p.findings {
            w.write_record([
                p.src.to_string(),
                cell(&p.dst).into_owned(),
                format!("{:.3}", p.score),
                severity_str(p.severity).to_string(),
                p.ports.join(" "),
                cell(&p.names.join(" ")).into_owned(),
                p.conns.to_string(),
                f.symbol.to_string(),
                f.severity.as_str().to_string(),
                cell(&f.evidence).into_owned(),
            ])
            .map_err(io::Error::other)?;
        }
    }
    w.flush()
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[33m";
const CYAN: &str = "\x1b[36m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn human(opts: &PrintOptions, out: &mut dyn Write, a: &Analysis, run: &NetRun) -> io::Result<()> {
    let lang = opts.lang;
    let cat = Catalog::shipped();
    let table = SymbolTable::shipped();
    let paint = |colour: &str, text: &str| {
        if opts.color {
            format!("{colour}{text}{RESET}")
        } else {
            text.to_string()
        }
    };
    let band_colour = |s: Option<RitaSeverity>| match s {
        Some(RitaSeverity::Critical | RitaSeverity::High) => RED,
        Some(RitaSeverity::Medium) => YELLOW,
        Some(RitaSeverity::Low) => CYAN,
        _ => DIM,
    };
    let span = match (rfc3339(a.first_ts), rfc3339(a.last_ts)) {
        (Some(f), Some(l)) => format!("{f} – {l}"),
        _ => "-".into(),
    };
    let minutes = ((a.last_ts - a.first_ts).max(0.0) / 60.0).round();
    writeln!(
        out,
        "{}",
        cat.fill(
            "net.window",
            lang,
            &[
                ("span", &span),
                ("minutes", &minutes.to_string()),
                ("conns", &a.conns.to_string())
            ]
        )
    )?;
    if a.short_window() {
        writeln!(out, "{}", paint(DIM, cat.text("net.short_window", lang)))?;
    }
    if let Some(ip) = a.assumed_internal {
        writeln!(
            out,
            "{}",
            paint(
                YELLOW,
                &cat.fill("net.assumed_internal", lang, &[("ip", &ip.to_string())])
            )
        )?;
    }
    for i in run.inputs.iter().filter(|i| i.error.is_some()) {
        let e = i.error.as_deref().unwrap_or_default();
        writeln!(
            out,
            "{}",
            paint(RED, &format!("[x] {}: {}", escape(&i.path), escape(e)))
        )?;
    }
    writeln!(out)?;
    if a.peers.is_empty() {
        writeln!(out, "{}", cat.text("net.nothing", lang))?;
    } else {
        let dst_w = a
            .peers
            .iter()
            .map(|p| p.dst.len())
            .max()
            .unwrap_or(4)
            .clamp(4, 40);
        let src_w = a
            .peers
            .iter()
            .map(|p| p.src.to_string().len())
            .max()
            .unwrap_or(6)
            .max(6);
        writeln!(
            out,
            "{}  {:>5}  {}  {}  {}",
            pad(cat.text("net.col.severity", lang), 8),
            cat.text("table.score", lang),
            pad(cat.text("net.col.source", lang), src_w),
            pad(cat.text("net.col.peer", lang), dst_w),
            cat.text("net.col.details", lang),
        )?;
        for p in &a.peers {
            let names = if p.names.is_empty() {
                String::new()
            } else {
                format!(" ({})", escape(&p.names.join(", ")))
            };
            let band = cat.text(&format!("net.band.{}", severity_str(p.severity)), lang);
            let conns = cat.fill("net.conns", lang, &[("n", &p.conns.to_string())]);
            writeln!(
                out,
                "{}  {:>5.0}  {}  {}  {} · {conns}{names}",
                paint(band_colour(p.severity), &pad(band, 8)),
                p.score * 100.0,
                pad(&p.src.to_string(), src_w),
                pad(&escape(&p.dst), dst_w),
                p.ports.join(" "),
            )?;
            for f in &p.findings {
                let colour = match f.severity {
                    Severity::Critical | Severity::High => RED,
                    Severity::Medium => YELLOW,
                    Severity::Low => CYAN,
                    Severity::Info => DIM,
                };
                writeln!(
                    out,
                    "          {}  {}  {}",
                    paint(colour, &pad(f.severity.short(), 5)),
                    f.symbol,
                    cat.symbol(table, f.symbol, lang)
                )?;
                writeln!(
                    out,
                    "                 {} {}",
                    paint(DIM, &format!("{}:", cat.text("table.evidence", lang))),
                    escape(&f.evidence)
                )?;
            }
        }
    }
    writeln!(out)?;
    let count = |s: RitaSeverity| a.peers.iter().filter(|p| p.severity == Some(s)).count();
    writeln!(
        out,
        "{}",
        cat.fill(
            "net.summary",
            lang,
            &[
                ("hosts", &a.internal_hosts.to_string()),
                ("pairs", &a.pairs.to_string()),
                ("ranked", &a.peers.len().to_string()),
                ("critical", &count(RitaSeverity::Critical).to_string()),
                ("high", &count(RitaSeverity::High).to_string()),
                ("medium", &count(RitaSeverity::Medium).to_string()),
                ("low", &count(RitaSeverity::Low).to_string()),
                ("secs", &format!("{:.2}", run.elapsed_ms as f64 / 1000.0)),
            ],
        )
    )?;
    if run.exit_code(a) == 1 {
        writeln!(out, "  {}", paint(RED, cat.text("net.advice", lang)))?;
    }
    Ok(())
}

/// `kensa net maillog`: 1 when a finding is medium or worse, else 2 when a log could not be read,
/// else 0.
pub fn mail_exit_code(d: &Detection, run: &NetRun) -> u8 {
    if d.findings.iter().any(|f| f.severity >= Severity::Medium) {
        1
    } else if run.inputs.iter().any(|i| i.error.is_some()) {
        2
    } else {
        0
    }
}

fn mail_finding(f: &MailFinding) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        map.insert("type".into(), json!("finding"));
        map.insert("schema_version".into(), json!(SCHEMA_VERSION));
        map.insert(
            "window_start_utc".into(),
            json!(rfc3339(f.window_start as f64)),
        );
        map.insert("window_end_utc".into(), json!(rfc3339(f.window_end as f64)));
    }
    v
}

fn mail_summary(d: &Detection, run: &NetRun) -> Value {
    json!({
        "type": "summary",
        "schema_version": SCHEMA_VERSION,
        "inputs": run.inputs.iter().map(|i| json!({
            "path": i.path, "kind": i.kind, "records": i.records, "error": i.error,
        })).collect::<Vec<_>>(),
        "events": d.events,
        "dropped": d.dropped,
        "unattributed": d.unattributed,
        "own_domains": d.own_domains,
        "own_domains_inferred": d.own_domains_inferred,
        "history_days": d.history_days,
        "findings": d.findings.len(),
        "elapsed_ms": run.elapsed_ms,
        "exit_code": mail_exit_code(d, run),
    })
}

/// Write the findings of a mail-log analysis in `format`.
pub fn print_mail(
    format: Format,
    opts: &PrintOptions,
    out: &mut dyn Write,
    d: &Detection,
    run: &NetRun,
) -> io::Result<()> {
    match format {
        Format::Jsonl | Format::Json => {
            let items = d.findings.iter().map(mail_finding).collect();
            json_out(format, out, "findings", items, mail_summary(d, run))?;
        }
        Format::Csv => {
            let mut w = csv_writer(out, opts.bom)?;
            w.write_record([
                "symbol",
                "severity",
                "identity",
                "window_start",
                "window_end",
                "count",
                "recipients",
                "distinct_domains",
                "evidence",
            ])
            .map_err(io::Error::other)?;
            for f in &d.findings {
                w.write_record([
                    f.kind.to_string(),
                    f.severity.as_str().to_string(),
                    cell(&f.identity.to_string()).into_owned(),
                    rfc3339(f.window_start as f64).unwrap_or_default(),
                    rfc3339(f.window_end as f64).unwrap_or_default(),
                    f.count.to_string(),
                    f.recipients.to_string(),
                    f.distinct_domains.to_string(),
                    cell(&f.evidence).into_owned(),
                ])
                .map_err(io::Error::other)?;
            }
            w.flush()?;
        }
        Format::Human => {
            let lang = opts.lang;
            let cat = Catalog::shipped();
            let table = SymbolTable::shipped();
            for i in run.inputs.iter().filter(|i| i.error.is_some()) {
                let e = i.error.as_deref().unwrap_or_default();
                writeln!(out, "[x] {}: {}", escape(&i.path), escape(e))?;
            }
            if d.findings.is_empty() {
                writeln!(out, "{}", cat.text("mail.nothing", lang))?;
            }
            for f in &d.findings {
                let sev = if opts.color {
                    let c = match f.severity {
                        Severity::Critical | Severity::High => RED,
                        Severity::Medium => YELLOW,
                        Severity::Low => CYAN,
                        Severity::Info => DIM,
                    };
                    format!("{c}{}{RESET}", pad(f.severity.short(), 5))
                } else {
                    pad(f.severity.short(), 5)
                };
                writeln!(
                    out,
                    "{sev}  {}  {}  {}",
                    f.kind,
                    escape(&f.identity.to_string()),
                    cat.symbol(table, f.kind, lang)
                )?;
                let window = match (rfc3339(f.window_start as f64), rfc3339(f.window_end as f64)) {
                    (Some(a), Some(b)) => format!("{a} – {b}"),
                    _ => "-".into(),
                };
                writeln!(out, "       {window}")?;
                writeln!(
                    out,
                    "       {}: {}",
                    cat.text("table.evidence", lang),
                    escape(&f.evidence)
                )?;
            }
            writeln!(
                out,
                "\n{}",
                cat.fill(
                    "mail.summary",
                    lang,
                    &[
                        ("logs", &run.inputs.len().to_string()),
                        ("events", &d.events.to_string()),
                        ("findings", &d.findings.len().to_string()),
                        ("secs", &format!("{:.2}", run.elapsed_ms as f64 / 1000.0)),
                    ],
                )
            )?;
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(
            rfc3339(1_609_951_275.5).as_deref(),
            Some("2021-01-06T16:41:15Z")
        );
        assert_eq!(
            rfc3339(951_782_400.0).as_deref(),
            Some("2000-02-29T00:00:00Z")
        );
        assert_eq!(
            rfc3339(4_102_444_799.0).as_deref(),
            Some("2099-12-31T23:59:59Z")
        );
        assert_eq!(rfc3339(0.0), None);
        assert_eq!(rfc3339(f64::NAN), None);
    }
}
