//! `kensa quarantine list|show|release|delete|export`: review the messages the milter held.
//!
//! Every change is written to the message's audit trail with the acting user (`--actor`, else
//! `$SUDO_USER`, else `$USER`). Release re-injects the original bytes unchanged — by SMTP to a
//! listener of the MTA that does not run the milter again (Postfix: a second `smtpd` with
//! `-o smtpd_milters=`, see docs/milter.md), or through `sendmail` — and only then marks the
//! message released.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use kensa_milter::inject::{Envelope, Target, inject};
use kensa_report::escape;
use kensa_store::{Filter, Status, Store, Summary};
use serde_json::json;

#[derive(Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined messages, newest first.
    List(ListArgs),
    /// Show one message: envelope, verdict, symbols, findings, attachments, audit trail.
    Show(IdArgs),
    /// Deliver held messages unchanged and mark them released.
    Release(ReleaseArgs),
    /// Delete the stored bytes of messages (the record and its audit trail stay).
    Delete(IdArgs),
    /// Write one message's original bytes (.eml) to a file or standard output.
    Export(ExportArgs),
}

#[derive(Args)]
pub struct StoreArgs {
    /// The store: a SQLite file or a postgres:// URL (default: `store` of --config, else
    /// $KENSA_DATA_DIR/quarantine.db, else /var/lib/kensa/quarantine.db).
    #[arg(long, value_name = "URL|FILE", global = true)]
    store: Option<String>,

    /// Take the store from this milter configuration file.
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,

    /// Who is acting, for the audit trail (default: $SUDO_USER, else $USER).
    #[arg(long, value_name = "NAME", global = true)]
    actor: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Jsonl,
}

#[derive(Args)]
pub struct ListArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// held, released, deleted, or all.
    #[arg(long, default_value = "held")]
    status: String,
    #[arg(long)]
    verdict: Option<String>,
    /// Part of the envelope sender.
    #[arg(long)]
    sender: Option<String>,
    /// Part of an envelope recipient.
    #[arg(long)]
    recipient: Option<String>,
    /// A symbol the message raised (e.g. VBA_AUTOEXEC).
    #[arg(long)]
    symbol: Option<String>,
    /// SHA-256 of the message or of an attachment.
    #[arg(long)]
    hash: Option<String>,
    #[arg(long, default_value_t = 100)]
    limit: u32,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Args)]
pub struct IdArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(required = true)]
    ids: Vec<i64>,
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

#[derive(Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    store: StoreArgs,
    #[arg(required = true)]
    ids: Vec<i64>,
    /// Deliver by SMTP to this MTA listener (one that does not call the milter again).
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "sendmail")]
    smtp: Option<String>,
    /// Deliver by running this sendmail program instead of SMTP.
    #[arg(long, value_name = "PATH")]
    sendmail: Option<PathBuf>,
    /// Deliver only to these recipients (default: the original envelope recipients).
    #[arg(long = "to", value_name = "ADDR")]
    to: Vec<String>,
    /// Release a message again even if it was already released.
    #[arg(long)]
    force: bool,
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    store: StoreArgs,
    id: i64,
    /// Write to FILE (default: standard output).
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// Where released mail goes when neither --smtp nor --sendmail is given.
const DEFAULT_REINJECT: &str = "127.0.0.1:10025";

pub fn run(cmd: QuarantineCommand) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        match cmd {
            QuarantineCommand::List(a) => list(a).await,
            QuarantineCommand::Show(a) => show(a).await,
            QuarantineCommand::Release(a) => release(a).await,
            QuarantineCommand::Delete(a) => delete(a).await,
            QuarantineCommand::Export(a) => export(a).await,
        }
    })
}

impl StoreArgs {
    async fn open(&self) -> anyhow::Result<Store> {
        let url = match (&self.store, &self.config) {
            (Some(s), _) => s.clone(),
            (None, Some(c)) => kensa_milter::Config::load(c)?.store,
            (None, None) => kensa_milter::config::default_store(),
        };
        Ok(Store::open(&url).await?)
    }

    fn actor(&self) -> String {
        self.actor
            .clone()
            .or_else(|| std::env::var("SUDO_USER").ok())
            .or_else(|| std::env::var("USER").ok())
            .or_else(|| std::env::var("USERNAME").ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_string())
    }
}

fn time(t: i64) -> String {
    kensa_report::net::rfc3339(t as f64).unwrap_or_else(|| t.to_string())
}

fn summary_json(s: &Summary) -> serde_json::Value {
    json!({
        "type": "quarantined",
        "id": s.id,
        "received_at": time(s.received_at),
        "gateway": s.gateway,
        "queue_id": s.queue_id,
        "message_id": s.message_id,
        "from": s.envelope_from,
        "to": s.envelope_rcpts,
        "subject": s.subject,
        "verdict": s.verdict,
        "score": s.score,
        "action": s.action,
        "status": s.status.to_string(),
        "size": s.size,
        "sha256": s.sha256,
    })
}

async fn list(a: ListArgs) -> anyhow::Result<u8> {
    let store = a.store.open().await?;
    let status = match a.status.as_str() {
        "all" => None,
        s => Some(s.parse::<Status>().map_err(|_| {
            anyhow::anyhow!("--status must be held, released, deleted or all (got {s})")
        })?),
    };
    let rows = store
        .list(&Filter {
            status,
            verdict: a.verdict,
            sender: a.sender,
            recipient: a.recipient,
            symbol: a.symbol,
            hash: a.hash,
            since: None,
            until: None,
            limit: Some(a.limit),
            offset: None,
        })
        .await?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Jsonl => {
            for r in &rows {
                writeln!(out, "{}", summary_json(r))?;
            }
        }
        Format::Human => {
            for r in &rows {
                writeln!(
                    out,
                    "#{:<6} {}  {:<10} {:<8} {:>6.2}  {}  {} -> {}  {}",
                    r.id,
                    time(r.received_at),
                    r.verdict,
                    r.status,
                    r.score,
                    escape(r.queue_id.as_deref().unwrap_or("-")),
                    escape(&r.envelope_from),
                    escape(&r.envelope_rcpts.join(",")),
                    escape(r.subject.as_deref().unwrap_or("")),
                )?;
            }
            writeln!(out, "{} message(s) in {}", rows.len(), store.describe())?;
        }
    }
    Ok(0)
}

async fn show(a: IdArgs) -> anyhow::Result<u8> {
    let store = a.store.open().await?;
    let mut out = std::io::stdout().lock();
    for id in &a.ids {
        let Some(r) = store.get(*id).await? else {
            bail!("no message #{id} in {}", store.describe());
        };
        let audit = store.audit(*id).await?;
        let findings: serde_json::Value =
            serde_json::from_str(&r.findings_json).unwrap_or(serde_json::Value::Null);
        match a.format {
            Format::Jsonl => {
                let mut v = summary_json(&r.summary);
                v["threshold"] = json!(r.threshold);
                v["reason"] = json!(r.reason);
                v["symbols"] = json!(r.symbols);
                v["attachments"] = json!(r.attachment_names);
                v["part_hashes"] = json!(r.part_hashes);
                v["findings"] = findings;
                v["audit"] = audit
                    .iter()
                    .map(|e| json!({"at": time(e.at), "actor": e.actor, "action": e.action, "detail": e.detail}))
                    .collect();
                writeln!(out, "{v}")?;
            }
            Format::Human => {
                let s = &r.summary;
                writeln!(out, "Message #{}  ({})", s.id, s.status)?;
                writeln!(
                    out,
                    "  received   {} on {}",
                    time(s.received_at),
                    escape(&s.gateway)
                )?;
                writeln!(
                    out,
                    "  queue id   {}",
                    escape(s.queue_id.as_deref().unwrap_or("-"))
                )?;
                writeln!(
                    out,
                    "  message-id {}",
                    escape(s.message_id.as_deref().unwrap_or("-"))
                )?;
                writeln!(out, "  from       {}", escape(&s.envelope_from))?;
                writeln!(out, "  to         {}", escape(&s.envelope_rcpts.join(", ")))?;
                writeln!(
                    out,
                    "  subject    {}",
                    escape(s.subject.as_deref().unwrap_or(""))
                )?;
                writeln!(
                    out,
                    "  verdict    {} [{:.2} / {:.2}] -> {} ({})",
                    s.verdict,
                    s.score,
                    r.threshold,
                    s.action,
                    escape(&r.reason)
                )?;
                writeln!(out, "  size       {} bytes, sha256 {}", s.size, s.sha256)?;
                for (sym, w) in &r.symbols {
                    writeln!(out, "  symbol     {sym}({w:.2})")?;
                }
                for (name, h) in r.attachment_names.iter().zip(&r.part_hashes) {
                    writeln!(out, "  attachment {}  {h}", escape(name))?;
                }
                if let Some(list) = findings.as_array() {
                    for f in list {
                        let path = f["location"]
                            .as_array()
                            .map(|p| {
                                p.iter()
                                    .filter_map(|x| x.as_str())
                                    .collect::<Vec<_>>()
                                    .join(" > ")
                            })
                            .unwrap_or_default();
                        writeln!(
                            out,
                            "  finding    {} {} at {}: {}",
                            f["severity"].as_str().unwrap_or(""),
                            f["symbol"].as_str().unwrap_or(""),
                            escape(&path),
                            escape(f["evidence"].as_str().unwrap_or(""))
                        )?;
                    }
                }
                for e in &audit {
                    writeln!(
                        out,
                        "  audit      {} {} by {}: {}",
                        time(e.at),
                        e.action,
                        escape(&e.actor),
                        escape(&e.detail)
                    )?;
                }
            }
        }
    }
    Ok(0)
}

async fn release(a: ReleaseArgs) -> anyhow::Result<u8> {
    let store = a.store.open().await?;
    let actor = a.store.actor();
    let target = match &a.sendmail {
        Some(p) => Target::Sendmail { path: p.clone() },
        None => Target::Smtp {
            addr: a
                .smtp
                .clone()
                .unwrap_or_else(|| DEFAULT_REINJECT.to_string()),
            helo: kensa_milter::config::host_name(),
            timeout: Duration::from_secs(60),
        },
    };
    let mut failed = 0;
    for id in &a.ids {
        let Some(r) = store.get(*id).await? else {
            bail!("no message #{id} in {}", store.describe());
        };
        if r.summary.status == Status::Deleted || (r.summary.status == Status::Released && !a.force)
        {
            eprintln!(
                "kensa quarantine: #{id} is {}; not released{}",
                r.summary.status,
                if r.summary.status == Status::Released {
                    " (--force to send it again)"
                } else {
                    ""
                }
            );
            failed += 1;
            continue;
        }
        let raw = store
            .raw(*id)
            .await?
            .with_context(|| format!("#{id} has no stored bytes"))?;
        let env = Envelope {
            from: r.summary.envelope_from.clone(),
            rcpts: if a.to.is_empty() {
                r.summary.envelope_rcpts.clone()
            } else {
                a.to.clone()
            },
        };
        match inject(&target, &env, &raw) {
            Ok(receipt) => {
                let detail = format!("to {}: {}", env.rcpts.join(","), receipt.reply);
                store
                    .set_status(*id, Status::Released, &actor, &detail)
                    .await?;
                eprintln!("kensa quarantine: #{id} released ({})", escape(&detail));
            }
            Err(e) => {
                eprintln!("kensa quarantine: #{id} not released: {e}");
                failed += 1;
            }
        }
    }
    Ok(if failed > 0 { 1 } else { 0 })
}

async fn delete(a: IdArgs) -> anyhow::Result<u8> {
    let store = a.store.open().await?;
    let actor = a.store.actor();
    for id in &a.ids {
        store.delete_raw(*id, &actor).await?;
        eprintln!("kensa quarantine: #{id} deleted");
    }
    Ok(0)
}

async fn export(a: ExportArgs) -> anyhow::Result<u8> {
    let store = a.store.open().await?;
    let raw = store
        .raw(a.id)
        .await?
        .with_context(|| format!("#{} has no stored bytes", a.id))?;
    let dest = match &a.output {
        Some(p) => {
            std::fs::write(p, &raw).with_context(|| format!("cannot write {}", p.display()))?;
            p.display().to_string()
        }
        None => {
            std::io::stdout().lock().write_all(&raw)?;
            "standard output".to_string()
        }
    };
    store
        .record_export(
            a.id,
            &a.store.actor(),
            &format!("{} bytes to {dest}", raw.len()),
        )
        .await?;
    Ok(0)
}
