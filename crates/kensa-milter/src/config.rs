//! `kensa.toml`: where the milter listens, where the quarantine is, and the gateway policy.
//!
//! ```toml
//! listen = "inet:127.0.0.1:11332"          # or "unix:/run/kensa/milter.sock"
//! store = "/var/lib/kensa/quarantine.db"   # SQLite file, or postgres://user@host/db
//! on_error = "tempfail"                    # tempfail | accept | quarantine
//! scan_timeout = 20                        # seconds per message
//!
//! [policy]
//! actions = { suspicious = "tag", malicious = "quarantine", incomplete = "tag" }
//! thresholds = { reject = 40.0 }
//! subject_tags = { suspicious = "[SUSPICIOUS]", malicious = "[SPAM]", incomplete = "[UNCHECKED]" }
//! reject_reply = "550 5.7.1 Message refused by content policy (kensa)"
//!
//! [[rule]]
//! recipients = ["@sales.example.jp"]
//! actions = { suspicious = "quarantine" }
//!
//! [lists]
//! block_senders = ["@bad.example"]
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::codec::validate_replycode;
use crate::policy::{Action, GatewayPolicy, Lists, Rule, Settings};

/// A configuration that cannot be used. Codes are stable and shown to the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("C101 cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("C102 invalid configuration: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("C103 `listen` must be inet:HOST:PORT or unix:PATH (got `{0}`)")]
    Listen(String),
    #[error("C104 `on_error` must be tempfail, accept or quarantine (got `{0}`)")]
    OnError(Action),
    #[error("C105 `{0}` is not a valid SMTP reply (4xx/5xx, optional x.y.z, one line of text)")]
    Reply(String),
    #[error("C106 `scan_timeout` must be between 1 and 250 seconds (got {0})")]
    Timeout(f64),
    #[error("C107 scoring policy: {0}")]
    Scoring(#[from] kensa_core::PolicyError),
}

/// Where the milter listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Inet(String),
    Unix(PathBuf),
}

impl Listen {
    /// Postfix's notation: `inet:127.0.0.1:11332`, `unix:/path` (also `inet6:[::1]:11332`).
    pub fn parse(s: &str) -> Result<Listen, ConfigError> {
        let bad = || ConfigError::Listen(s.to_string());
        if let Some(rest) = s.strip_prefix("unix:").or_else(|| s.strip_prefix("local:")) {
            return if rest.is_empty() {
                Err(bad())
            } else {
                Ok(Listen::Unix(PathBuf::from(rest)))
            };
        }
        let rest = s
            .strip_prefix("inet:")
            .or_else(|| s.strip_prefix("inet6:"))
            .ok_or_else(bad)?;
        let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
        port.parse::<u16>().map_err(|_| bad())?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let host = if host.is_empty() { "127.0.0.1" } else { host };
        let addr = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Listen::Inet(addr))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    listen: Option<String>,
    store: Option<String>,
    gateway: Option<String>,
    on_error: Option<Action>,
    scan_timeout: Option<f64>,
    max_message_size: Option<u64>,
    max_scans: Option<usize>,
    scoring: Option<PathBuf>,
    #[serde(default)]
    policy: Settings,
    #[serde(default)]
    rule: Vec<Rule>,
    #[serde(default)]
    lists: Lists,
}

/// The milter's settings, resolved.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Listen,
    /// The quarantine store: a SQLite path or a PostgreSQL URL.
    pub store: String,
    /// The name recorded with quarantined mail (default: the host name).
    pub gateway: String,
    /// What a scanner failure does (never a silent pass as clean).
    pub on_error: Action,
    /// Wall time for one message's scan; what does not fit is reported incomplete.
    pub scan_timeout: Duration,
    /// Bigger messages are not buffered past this size and are judged incomplete.
    pub max_message_size: u64,
    /// Scans run at once (the rest wait, with progress replies to the MTA).
    pub max_scans: usize,
    pub policy: GatewayPolicy,
    pub scoring: kensa_core::Policy,
}

pub const DEFAULT_LISTEN: &str = "inet:127.0.0.1:11332";
pub const DEFAULT_TIMEOUT_SECS: f64 = 20.0;
pub const DEFAULT_MAX_MESSAGE: u64 = 64 << 20;

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Config::from_toml(&text, base)
    }

    /// Parse a configuration; relative paths in it are taken from `base`.
    pub fn from_toml(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let f: File = toml::from_str(text)?;
        let listen = Listen::parse(f.listen.as_deref().unwrap_or(DEFAULT_LISTEN))?;
        let on_error = f.on_error.unwrap_or(Action::Tempfail);
        if !matches!(
            on_error,
            Action::Tempfail | Action::Accept | Action::Quarantine
        ) {
            return Err(ConfigError::OnError(on_error));
        }
        let secs = f.scan_timeout.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if !(1.0..=250.0).contains(&secs) {
            return Err(ConfigError::Timeout(secs));
        }
        let replies = std::iter::once(&f.policy)
            .chain(f.rule.iter().map(|r| &r.settings))
            .filter_map(|s| s.reject_reply.as_ref());
        for r in replies {
            if !validate_replycode(r.as_bytes()) {
                return Err(ConfigError::Reply(r.clone()));
            }
        }
        let scoring = match &f.scoring {
            Some(p) => {
                let p = base.join(p);
                let text = std::fs::read_to_string(&p)
                    .map_err(|source| ConfigError::Read { path: p, source })?;
                kensa_core::Policy::from_user(&text)?
            }
            None => kensa_core::Policy::shipped(),
        };
        let store = f.store.unwrap_or_else(default_store);
        let store = if store.contains("://") || store.starts_with("sqlite:") {
            store
        } else {
            base.join(store).to_string_lossy().into_owned()
        };
        Ok(Config {
            listen,
            store,
            gateway: f.gateway.unwrap_or_else(host_name),
            on_error,
            scan_timeout: Duration::from_secs_f64(secs),
            max_message_size: f.max_message_size.unwrap_or(DEFAULT_MAX_MESSAGE),
            max_scans: f
                .max_scans
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
                .max(1),
            policy: GatewayPolicy {
                default: Settings::shipped().merged(&f.policy),
                rules: f.rule,
                lists: f.lists,
            },
            scoring,
        })
    }
}

/// `$KENSA_DATA_DIR/quarantine.db`, else `/var/lib/kensa/quarantine.db`.
pub fn default_store() -> String {
    let dir = std::env::var_os("KENSA_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/lib/kensa"));
    dir.join("quarantine.db").to_string_lossy().into_owned()
}

/// This machine's name, for the quarantine records.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".to_string())
}
