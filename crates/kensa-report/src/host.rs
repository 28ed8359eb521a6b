//! `kensa host check` / `kensa host triage` output: the report file in EmoCheck's layout (text,
//! English or Japanese, with kensa's findings and what to do about each), its JSON form, EmoCheck's
//! own JSON for existing collectors, and the JSONL/JSON/CSV stream formats shared with `kensa scan`.
//!
//! Registry data, paths and command lines come from the host and may be hostile: every such text is
//! escaped (`escape`) before it is written, in files as on the terminal.

use std::io::{self, Write};

use kensa_core::{Finding, Lang, Severity, SymbolTable};
use kensa_host::checks::HostReport;
use kensa_host::emocheck::{EmoCheckVersion, ReportProcess, report_json};
use serde_json::{Value, json};

use crate::csv_out::cell;
use crate::net::{csv_writer, json_out};
use crate::{Format, PrintOptions, escape};

const RULE: &str = "____________________________________________________";

/// The run's identity, for the report header and file names.
#[derive(Debug, Clone)]
pub struct HostRun {
    /// Local time, `yyyy-mm-dd hh:mm:ss`.
    pub scan_time: String,
    /// Local time, `yyyymmddhhmmss` (file names).
    pub stamp: String,
    pub command: &'static str,
    pub elapsed_ms: u64,
}

/// The family a symbol belongs to, for the JSON and CSV columns.
pub fn family(symbol: &str) -> &'static str {
    match symbol {
        s if s.starts_with("HOST_EMOTET_") => "Emotet",
        "HOST_QAKBOT" => "QakBot",
        "HOST_ICEDID" => "IcedID",
        "HOST_TRICKBOT" => "TrickBot",
        "HOST_URSNIF" => "Ursnif",
        _ => "",
    }
}

fn severity_name(s: Severity, lang: Lang) -> &'static str {
    match (lang, s) {
        (Lang::Ja, Severity::Critical) => "重大",
        (Lang::Ja, Severity::High) => "高",
        (Lang::Ja, Severity::Medium) => "中",
        (Lang::Ja, Severity::Low) => "低",
        (Lang::Ja, Severity::Info) => "情報",
        (_, s) => s.as_str(),
    }
}

struct Labels {
    time: &'static str,
    host: &'static str,
    source: &'static str,
    serial: &'static str,
    result: &'static str,
    emotet_yes: &'static str,
    emotet_no: &'static str,
    other_found: &'static str,
    incomplete: &'static str,
    process: &'static str,
    name: &'static str,
    pid: &'static str,
    image: &'static str,
    key: &'static str,
    method: &'static str,
    findings: &'static str,
    meaning: &'static str,
    todo: &'static str,
    checked: &'static str,
    note: &'static str,
    footer: &'static str,
}

const EN: Labels = Labels {
    time: "Scan time: ",
    host: "Host: ",
    source: "Source: ",
    serial: "Volume serial: ",
    result: "[Result] ",
    emotet_yes: "Emotet was detected.",
    emotet_no: "Emotet was not detected.",
    other_found: "Other malware or suspicious autostart entries were found (see Findings).",
    incomplete: "Part of this host could not be checked: it is not known to be clean.",
    process: "[Emotet Process] ",
    name: "     Process Name  : ",
    pid: "     Process ID    : ",
    image: "     Image Path    : ",
    key: "     Registry Key  : ",
    method: "     Method        : ",
    findings: "[Findings]",
    meaning: "     Meaning  : ",
    todo: "     To do    : ",
    checked: "Checked: ",
    note: "Note: ",
    footer: "Please remove or isolate the suspicious execution file.",
};

const JA: Labels = Labels {
    time: "プログラム実行時刻: ",
    host: "ホスト: ",
    source: "検査対象: ",
    serial: "ボリュームシリアル: ",
    result: "[結果]",
    emotet_yes: "Emotetを検知しました。",
    emotet_no: "Emotetは検知しませんでした。",
    other_found: "他のマルウェアまたは不審な自動起動設定が見つかりました（[検知内容]を参照）。",
    incomplete: "ホストの一部を検査できませんでした。安全とは判定できません。",
    process: "[詳細]",
    name: "     プロセス名    : ",
    pid: "     プロセスID    : ",
    image: "     イメージパス  : ",
    key: "     レジストリキー: ",
    method: "     検知方式      : ",
    findings: "[検知内容]",
    meaning: "     意味     : ",
    todo: "     対処     : ",
    checked: "検査数: ",
    note: "注記: ",
    footer: "イメージパスの実行ファイルを隔離/削除してください。",
};

/// The text report (file and console).
pub fn text(r: &HostReport, run: &HostRun, lang: Lang) -> String {
    let l = if lang == Lang::Ja { &JA } else { &EN };
    let table = SymbolTable::shipped();
    let mut s = String::new();
    let version = env!("CARGO_PKG_VERSION");
    s.push_str(&format!("[kensa {} v{version}]\n", run.command));
    s.push_str(&format!("{}{}\n", l.time, run.scan_time));
    s.push_str(&format!("{}{}\n", l.host, escape(&r.host)));
    s.push_str(&format!("{}{}\n", l.source, escape(&r.source)));
    if let Some(v) = r.volume_serial {
        s.push_str(&format!("{}{:04X}-{:04X}\n", l.serial, v >> 16, v & 0xFFFF));
    }
    s.push_str(RULE);
    s.push('\n');
    s.push_str(l.result);
    s.push('\n');
    let emotet = r.emotet_detected();
    s.push_str(if emotet { l.emotet_yes } else { l.emotet_no });
    s.push('\n');
    let others = r
        .findings
        .iter()
        .any(|f| !f.symbol.starts_with("HOST_EMOTET_") && f.severity >= Severity::Medium);
    if others {
        s.push_str(l.other_found);
        s.push('\n');
    }
    if r.verdict == kensa_core::Verdict::Incomplete
        || r.findings.iter().any(|f| f.symbol == "HOST_INCOMPLETE")
    {
        s.push_str(l.incomplete);
        s.push('\n');
    }
    for p in &r.emotet_processes {
        s.push('\n');
        s.push_str(l.process);
        s.push('\n');
        s.push_str(&format!("{}{}\n", l.name, escape(&p.process_name)));
        s.push_str(&format!("{}{}\n", l.pid, p.pid));
        s.push_str(&format!("{}{}\n", l.image, escape(&p.image_path)));
        s.push_str(&format!("{}{}\n", l.key, escape(&p.registry_key)));
        s.push_str(&format!("{}{}\n", l.method, escape(&p.method)));
    }
    if !r.findings.is_empty() {
        s.push_str(RULE);
        s.push('\n');
        s.push_str(l.findings);
        s.push('\n');
        for f in &r.findings {
            s.push_str(&format!(
                "[{}] {}  {}\n",
                severity_name(f.severity, lang),
                f.symbol,
                escape(&f.location.0[1..].join(" > "))
            ));
            if !f.evidence.is_empty() {
                s.push_str(&format!("     {}\n", escape(&f.evidence)));
            }
            if let Some(info) = table.get(f.symbol) {
                let (m, t) = match lang {
                    Lang::Ja => (&info.ja, &info.todo_ja),
                    Lang::En => (&info.en, &info.todo_en),
                };
                s.push_str(&format!("{}{m}\n", l.meaning));
                if !t.is_empty() && f.severity >= Severity::Medium {
                    s.push_str(&format!("{}{t}\n", l.todo));
                }
            }
        }
    }
    s.push_str(RULE);
    s.push('\n');
    let c = &r.counts;
    s.push_str(&match lang {
        Lang::Ja => format!(
            "{}レジストリキー {}、自動起動設定 {}、タスク {}、プロセス {}、ファイル {}\n",
            l.checked, c.registry_keys, c.autoruns, c.tasks, c.processes, c.files
        ),
        Lang::En => format!(
            "{}{} registry keys, {} autostart entries, {} tasks, {} processes, {} files\n",
            l.checked, c.registry_keys, c.autoruns, c.tasks, c.processes, c.files
        ),
    });
    for n in &r.notes {
        let text = if lang == Lang::Ja { n.ja() } else { n.en() };
        s.push_str(&format!("{}{text}\n", l.note));
    }
    if emotet || others {
        s.push_str(l.footer);
        s.push('\n');
    }
    s
}

fn finding_json(r: &HostReport, f: &Finding) -> Value {
    json!({
        "type": "finding",
        "host": r.host,
        "symbol": f.symbol,
        "severity": f.severity.as_str(),
        "family": family(f.symbol),
        "location": f.location.0,
        "evidence": f.evidence,
    })
}

fn process_json(p: &kensa_host::checks::EmotetProcess) -> Value {
    json!({
        "process_name": p.process_name,
        "process_id": p.pid.to_string(),
        "image_path": p.image_path,
        "registry_key": p.registry_key,
        "method": p.method,
    })
}

/// The JSON report (file `<HOST>_<stamp>_kensa.json`): EmoCheck's four keys with their types, then
/// kensa's.
pub fn json_report(r: &HostReport, run: &HostRun) -> Value {
    json!({
        "scan_time": run.scan_time,
        "hostname": r.host,
        "is_infected": if r.emotet_detected() { "yes" } else { "no" },
        "kensa_version": env!("CARGO_PKG_VERSION"),
        "emotet_processes": r.emotet_processes.iter().map(process_json).collect::<Vec<_>>(),
        "verdict": r.verdict.as_str(),
        "score": r.score,
        "source": r.source,
        "volume_serial": r.volume_serial.map(|v| format!("{v:08X}")),
        "findings": r.findings.iter().map(|f| {
            let mut v = finding_json(r, f);
            if let Some(o) = v.as_object_mut() { o.remove("type"); o.remove("host"); }
            v
        }).collect::<Vec<_>>(),
        "notes": r.notes.iter().map(|n| n.en()).collect::<Vec<_>>(),
        "counts": {
            "registry_keys": r.counts.registry_keys,
            "autoruns": r.counts.autoruns,
            "tasks": r.counts.tasks,
            "processes": r.counts.processes,
            "files": r.counts.files,
        },
        "elapsed_ms": run.elapsed_ms,
        "exit_code": r.exit_code(),
    })
}

/// EmoCheck v2.0's JSON, byte for byte its layout (`--emocheck-json`).
pub fn emocheck_json(r: &HostReport, run: &HostRun) -> String {
    let procs: Vec<ReportProcess> = r
        .emotet_processes
        .iter()
        .map(|p| ReportProcess {
            process_name: p.process_name.clone(),
            process_id: p.pid,
            image_path: p.image_path.clone(),
            registry_key: p.registry_key.clone(),
        })
        .collect();
    report_json(EmoCheckVersion::V2_0, &run.scan_time, &r.host, &procs)
}

fn summary(r: &HostReport, run: &HostRun) -> Value {
    json!({
        "type": "summary",
        "host": r.host,
        "verdict": r.verdict.as_str(),
        "score": r.score,
        "is_infected": r.emotet_detected(),
        "emotet_processes": r.emotet_processes.iter().map(process_json).collect::<Vec<_>>(),
        "notes": r.notes.iter().map(|n| n.en()).collect::<Vec<_>>(),
        "findings": r.findings.len(),
        "elapsed_ms": run.elapsed_ms,
        "exit_code": r.exit_code(),
    })
}

/// `--format`: human is the text report; JSONL one finding per line then the summary.
pub fn print(
    format: Format,
    opts: &PrintOptions,
    out: &mut dyn Write,
    r: &HostReport,
    run: &HostRun,
) -> io::Result<()> {
    match format {
        Format::Human => out.write_all(text(r, run, opts.lang).as_bytes())?,
        Format::Jsonl | Format::Json => {
            let items = r.findings.iter().map(|f| finding_json(r, f)).collect();
            json_out(format, out, "findings", items, summary(r, run))?;
        }
        Format::Csv => {
            let mut w = csv_writer(out, opts.bom)?;
            w.write_record([
                "host", "severity", "symbol", "family", "location", "evidence",
            ])?;
            for f in &r.findings {
                w.write_record([
                    cell(&r.host).as_ref(),
                    f.severity.as_str(),
                    f.symbol,
                    family(f.symbol),
                    cell(&f.location.0[1..].join(" > ")).as_ref(),
                    cell(&f.evidence).as_ref(),
                ])?;
            }
            w.flush()?;
        }
    }
    out.flush()
}
