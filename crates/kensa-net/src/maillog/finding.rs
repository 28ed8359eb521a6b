//! What the detector reports and how it is configured: [`MailFinding`], [`Identity`],
//! [`BurstConfig`], [`Detection`].

use std::fmt;

use kensa_core::Severity;
use serde::Serialize;

use super::MailStatus;

/// What an identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    /// SASL login name.
    Account,
    ClientIp,
    /// Envelope sender.
    Sender,
}

/// Whom a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    pub fn new(kind: IdentityKind, value: impl Into<String>) -> Self {
        Identity {
            kind,
            value: value.into(),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = match self.kind {
            IdentityKind::Account => "account",
            IdentityKind::ClientIp => "client",
            IdentityKind::Sender => "sender",
        };
        write!(f, "{k} {}", self.value)
    }
}

/// A sliding window and its absolute floor (recipients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstWindow {
    pub secs: i64,
    pub floor: u64,
}

/// Detector thresholds and limits (see the module documentation for what each does).
#[derive(Debug, Clone)]
pub struct BurstConfig {
    /// Own mail domains (lower-case); empty: inferred.
    pub own_domains: Vec<String>,
    /// Default 5 min ≥ 30 and 60 min ≥ 200 recipients.
    pub burst_windows: Vec<BurstWindow>,
    pub baseline_min_days: f64,
    pub z_threshold: f64,
    /// ε of the robust z, in recipients.
    pub mad_epsilon: f64,
    /// Bursts whose external share is below this are not reported (default 0: all).
    pub min_external_share: f64,
    pub credential_window_secs: i64,
    pub ips_per_account: usize,
    pub accounts_per_ip: usize,
    pub senders_per_ip: usize,
    pub senders_window_secs: i64,
    pub reject_window_secs: i64,
    pub reject_min_recipients: u64,
    pub reject_ratio: f64,
    pub max_events: usize,
    /// Sample Message-IDs, top domains and related names per finding.
    pub samples: usize,
    pub max_findings: usize,
}

impl Default for BurstConfig {
    fn default() -> Self {
        BurstConfig {
            own_domains: Vec::new(),
            burst_windows: vec![
                BurstWindow {
                    secs: 300,
                    floor: 30,
                },
                BurstWindow {
                    secs: 3600,
                    floor: 200,
                },
            ],
            baseline_min_days: 14.0,
            z_threshold: 6.0,
            mad_epsilon: 1.0,
            min_external_share: 0.0,
            credential_window_secs: 86_400,
            ips_per_account: 3,
            accounts_per_ip: 3,
            senders_per_ip: 10,
            senders_window_secs: 3600,
            reject_window_secs: 3600,
            reject_min_recipients: 20,
            reject_ratio: 0.5,
            max_events: 2_000_000,
            samples: 5,
            max_findings: 1_000,
        }
    }
}

/// The identity's history a burst was measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    pub median: f64,
    pub mad: f64,
    pub z: f64,
    /// Hours in the sample (same hour of the week, whole log, the tested hour excluded).
    pub samples: usize,
    /// Monday 00:00 = 0.
    pub hour_of_week: u32,
    pub history_days: f64,
}

/// Final statuses of the recipients in a finding's window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StatusMix {
    pub sent: u64,
    pub deferred: u64,
    pub bounced: u64,
    pub rejected: u64,
    pub expired: u64,
    pub unknown: u64,
}

impl StatusMix {
    pub(crate) fn add(&mut self, s: MailStatus) {
        let c = match s {
            MailStatus::Sent => &mut self.sent,
            MailStatus::Deferred => &mut self.deferred,
            MailStatus::Bounced => &mut self.bounced,
            MailStatus::Rejected => &mut self.rejected,
            MailStatus::Expired => &mut self.expired,
            MailStatus::Unknown => &mut self.unknown,
        };
        *c += 1;
    }

    pub fn total(&self) -> u64 {
        self.sent + self.deferred + self.bounced + self.rejected + self.expired + self.unknown
    }

    pub fn failures(&self) -> u64 {
        self.deferred + self.bounced + self.rejected + self.expired
    }
}

impl fmt::Display for StatusMix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = [
            ("sent", self.sent),
            ("deferred", self.deferred),
            ("bounced", self.bounced),
            ("rejected", self.rejected),
            ("expired", self.expired),
            ("unknown", self.unknown),
        ];
        let mut first = true;
        for (name, n) in parts.into_iter().filter(|p| p.1 > 0) {
            if !first {
                f.write_str(", ")?;
            }
            write!(f, "{name} {n}")?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// One thing the detector noticed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MailFinding {
    /// Stable name: `MAIL_BURST`, `MAIL_REJECT_RATIO`, `MAIL_ACCOUNT_MANY_IPS`,
    /// `MAIL_IP_MANY_ACCOUNTS`, `MAIL_IP_MANY_SENDERS`, `MAIL_SENDER_MISMATCH`,
    /// `MAIL_INPUT_CAPPED`.
    pub kind: &'static str,
    pub severity: Severity,
    pub identity: Identity,
    /// First and last record of the episode (UTC epoch seconds).
    pub window_start: i64,
    pub window_end: i64,
    /// Length of the sliding window the count was measured in (0: the whole log).
    pub window_secs: i64,
    /// The measure that fired: peak recipients in one window (burst), failures in the peak
    /// window (reject ratio), distinct IPs / accounts / senders (credential findings),
    /// mismatched messages (sender mismatch), events not analysed (input capped).
    pub count: u64,
    /// `None`: judged against the fixed floor only (too little history).
    pub baseline: Option<Baseline>,
    pub messages: u64,
    pub recipients: u64,
    pub distinct_domains: u64,
    /// Share of recipients outside the own domains (`None` when no own domain is known).
    pub external_share: Option<f64>,
    pub top_recipient_domains: Vec<(String, u64)>,
    pub sample_message_ids: Vec<String>,
    pub status_mix: StatusMix,
    /// The IPs, accounts or senders behind a credential or mismatch finding.
    pub related: Vec<String>,
    pub evidence: String,
}

/// What [`Detector::finish`](super::Detector::finish) returns.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Detection {
    /// Most severe first, then by kind and time.
    pub findings: Vec<MailFinding>,
    pub events: u64,
    /// Events over [`BurstConfig::max_events`].
    pub dropped: u64,
    /// Events with no identity (no account, client or sender).
    pub unattributed: u64,
    /// Events left out: MTA notifications and content-filter re-injections.
    pub skipped: u64,
    pub own_domains: Vec<String>,
    pub own_domains_inferred: bool,
    pub history_days: f64,
    pub content_filter_seen: bool,
}

impl MailFinding {
    /// As a generic kensa finding (symbol = kind), located at the identity.
    pub fn to_finding(&self) -> kensa_core::Finding {
        kensa_core::Finding::new(
            self.kind,
            self.severity,
            kensa_core::Location::root(self.identity.to_string()),
            self.evidence.clone(),
        )
    }
}
