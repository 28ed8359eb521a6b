//! The host checks: every public EmoCheck method (host spec §1), the later Emotet generations,
//! dormant persistence, follow-up families and the Office macro policy (§5), over a [`HostData`]
//! from any source. Each check adds [`Finding`]s; the policy of kensa-core turns them into a
//! verdict like a scanned mail.
//!
//! Locations name the artefact: `[host, "HKU\<user>\Software\…\Run", "<value>"]`,
//! `[host, "task", "\GameOver"]`, `[host, "C:\Users\…\file"]`, `[host, "process 1234"]`.

mod autoruns;
mod emotet;
mod families;
mod office;
mod tasks;

use kensa_core::{Finding, Location, Policy, Severity, Verdict};

use crate::model::{Hive, HostData};
use crate::paths::Env;

use autoruns::collect_autoruns;
pub use autoruns::{Autorun, AutorunKind};

/// A process EmoCheck would list under "Emotet Process".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmotetProcess {
    pub process_name: String,
    pub pid: u32,
    pub image_path: String,
    pub registry_key: String,
    /// The EmoCheck method that matched (`v1` … `v5`, or a kensa rule).
    pub method: String,
}

/// The result of checking one host.
#[derive(Debug, Clone)]
pub struct HostReport {
    pub host: String,
    pub source: String,
    pub volume_serial: Option<u32>,
    pub verdict: Verdict,
    pub score: f64,
    pub threshold: f64,
    /// Most severe first.
    pub findings: Vec<Finding>,
    pub emotet_processes: Vec<EmotetProcess>,
    /// What was not checked and why it does not count as a problem (offline: no processes).
    pub notes: Vec<Note>,
    /// What was looked at: registry keys, tasks, processes, files.
    pub counts: Counts,
}

/// Something the report must say about what was not checked (not a problem: offline
/// collections often lack it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Note {
    /// No process list: running processes were not matched.
    NoProcesses,
    /// No volume serial: EmoCheck v1/v2 names were matched without it.
    NoSerial,
}

impl Note {
    pub fn en(self) -> &'static str {
        match self {
            Note::NoProcesses => {
                "running processes were not checked (no process list in the collection): EmoCheck's process matches are replaced by the persistence and file checks"
            }
            Note::NoSerial => {
                "volume serial unknown: EmoCheck v1/v2 names were matched against all 4,096 v1 names and every hex-named Explorer value"
            }
        }
    }

    pub fn ja(self) -> &'static str {
        match self {
            Note::NoProcesses => {
                "実行中のプロセスは確認していません（収集資料にプロセス一覧がありません）。EmoCheck のプロセス照合の代わりに、永続化設定とファイルを確認しました"
            }
            Note::NoSerial => {
                "ボリュームシリアルが不明なため、EmoCheck v1 の 4,096 通りの名前と、16 進数名の Explorer の値すべてを照合しました"
            }
        }
    }
}

/// How much a check looked at (shown in the report, so "nothing found" has a scale).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub registry_keys: usize,
    pub autoruns: usize,
    pub tasks: usize,
    pub processes: usize,
    pub files: usize,
}

impl HostReport {
    /// EmoCheck's `is_infected`: an Emotet process, or (kensa) Emotet persistence or files.
    pub fn emotet_detected(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.symbol.starts_with("HOST_EMOTET_") && f.severity >= Severity::High)
    }

    /// kensa's exit code: 0 clean, 1 detection, 2 incomplete.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Clean => 0,
            Verdict::Incomplete => 2,
            Verdict::Suspicious | Verdict::Malicious => 1,
        }
    }
}

/// What every check needs: the data, a location helper, the findings so far.
pub(crate) struct Ctx<'a> {
    pub data: &'a HostData,
    pub findings: Vec<Finding>,
    pub emotet_processes: Vec<EmotetProcess>,
    pub autoruns: Vec<Autorun>,
}

impl Ctx<'_> {
    pub fn loc(&self, parts: &[&str]) -> Location {
        let mut v = vec![self.data.host_name.clone()];
        v.extend(parts.iter().map(|s| s.to_string()));
        Location(v)
    }

    pub fn add(
        &mut self,
        symbol: &'static str,
        severity: Severity,
        loc: Location,
        evidence: String,
    ) {
        // One finding per symbol and artefact: the most severe wins.
        if let Some(f) = self
            .findings
            .iter_mut()
            .find(|f| f.symbol == symbol && f.location == loc)
        {
            if severity > f.severity {
                f.severity = severity;
                f.evidence = evidence;
            }
            return;
        }
        self.findings
            .push(Finding::new(symbol, severity, loc, evidence));
    }

    /// The environment of a user (by hive name), for `%VAR%` expansion.
    pub fn env_for(&self, hive: &Hive) -> Env {
        let profile = match hive {
            Hive::User(name) => self
                .data
                .users
                .iter()
                .find(|u| &u.name == name)
                .map(|u| u.profile_dir.clone())
                .unwrap_or_else(|| format!(r"C:\Users\{name}")),
            _ => r"C:\Windows\System32\config\systemprofile".to_string(),
        };
        let mut env = Env::default_for_user(&profile);
        if !self.data.windows_dir.is_empty() {
            env.set("windir", &self.data.windows_dir);
            env.set("SystemRoot", &self.data.windows_dir);
        }
        env
    }
}

/// `HKU\<user>` / `HKLM\SOFTWARE` / `HKLM\SYSTEM` + path, as shown in locations.
pub fn key_display(hive: &Hive, path: &str) -> String {
    match hive {
        Hive::Software => format!(r"HKLM\SOFTWARE\{path}"),
        Hive::System => format!(r"HKLM\SYSTEM\{path}"),
        Hive::User(u) if u == crate::triage::HKCU => format!(r"HKCU\{path}"),
        Hive::User(u) => format!(r"HKU\{u}\{path}"),
    }
}

/// Run every check.
pub fn check(data: &HostData, policy: &Policy) -> HostReport {
    let mut ctx = Ctx {
        data,
        findings: Vec::new(),
        emotet_processes: Vec::new(),
        autoruns: Vec::new(),
    };
    ctx.autoruns = collect_autoruns(&ctx);
    let task_count = tasks::check(&mut ctx);
    emotet::check(&mut ctx);
    autoruns::check(&mut ctx);
    families::check(&mut ctx);
    office::check(&mut ctx);

    let mut notes = Vec::new();
    if data.processes.is_none() {
        notes.push(Note::NoProcesses);
    }
    if data.volume_serial.is_none() {
        notes.push(Note::NoSerial);
    }
    for p in &data.problems {
        let loc = ctx.loc(&[&p.what]);
        ctx.add("HOST_INCOMPLETE", Severity::Info, loc, p.why.clone());
    }

    let mut findings = ctx.findings;
    let a = policy.assess(&mut findings);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.location.0.cmp(&b.location.0))
            .then_with(|| a.symbol.cmp(b.symbol))
    });
    HostReport {
        host: data.host_name.clone(),
        source: data.source.clone(),
        volume_serial: data.volume_serial,
        verdict: a.verdict,
        score: a.score,
        threshold: a.threshold,
        findings,
        emotet_processes: ctx.emotet_processes,
        notes,
        counts: Counts {
            registry_keys: data.registry.len(),
            autoruns: ctx.autoruns.len(),
            tasks: task_count,
            processes: data.processes.as_ref().map_or(0, Vec::len),
            files: data.files.len(),
        },
    }
}

#[cfg(test)]
mod tests;
