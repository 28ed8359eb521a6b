//! The gateway policy: what happens to a message once kensa has judged it.
//!
//! The scan gives a verdict and a score (kensa-core's policy). This module turns them into one action
//! per message, the way rspamd and SpamTitan do (gateway spec §4):
//! - each verdict has an action (`clean` → accept, `suspicious` → tag, `malicious` → quarantine,
//!   `incomplete` → tag with `[UNCHECKED]`), and optional score thresholds raise it (rspamd's
//!   `add_header`/`reject` thresholds); the stricter of the two wins;
//! - `[[rule]]` tables override the defaults for recipients (an address, `@domain`, `domain`, or
//!   `.domain` for subdomains); a message for several recipients gets the strictest of their actions,
//!   because one SMTP transaction has one outcome;
//! - block lists (sender, sender domain, SHA-256 of the message or of an attachment) force the block
//!   action; allow lists accept a sender's mail unless it is malicious — a partner's hijacked account
//!   is exactly how Emotet arrived, so an allow entry never lets a malicious verdict through.

use std::collections::BTreeMap;
use std::fmt;

use kensa_core::Verdict;
use serde::Deserialize;

/// What the milter does with one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Deliver, with the `X-Kensa-*` headers.
    Accept,
    /// Deliver with a subject tag (`[SPAM]`, …) and the headers.
    Tag,
    /// Ask the sender to retry later (4xx).
    Tempfail,
    /// Keep the message in kensa's quarantine store and tell the MTA to drop its copy.
    Quarantine,
    /// Accept and silently drop (no copy kept).
    Discard,
    /// Refuse during the SMTP transaction (5xx, the sender sees the reply).
    Reject,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Tag => "tag",
            Action::Tempfail => "tempfail",
            Action::Quarantine => "quarantine",
            Action::Discard => "discard",
            Action::Reject => "reject",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Score thresholds; a score at or above one raises the action to at least that one.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    pub tag: Option<f64>,
    pub quarantine: Option<f64>,
    pub reject: Option<f64>,
}

/// Per-verdict settings; every field is optional so a `[[rule]]` only says what it changes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Action per verdict (`clean`, `suspicious`, `malicious`, `incomplete`).
    #[serde(default)]
    pub actions: BTreeMap<VerdictKey, Action>,
    pub thresholds: Option<Thresholds>,
    /// Subject tag per verdict, used when the action is `tag`.
    #[serde(default)]
    pub subject_tags: BTreeMap<VerdictKey, String>,
    /// The SMTP reply of `reject`, e.g. `550 5.7.1 Message refused (kensa)`.
    pub reject_reply: Option<String>,
}

/// A verdict as a TOML key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictKey {
    Clean,
    Suspicious,
    Malicious,
    Incomplete,
}

impl From<Verdict> for VerdictKey {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Clean => VerdictKey::Clean,
            Verdict::Suspicious => VerdictKey::Suspicious,
            Verdict::Malicious => VerdictKey::Malicious,
            Verdict::Incomplete => VerdictKey::Incomplete,
        }
    }
}

/// Settings for some recipients.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// `user@example.jp`, `@example.jp` / `example.jp` (the domain), `.example.jp` (its subdomains too).
    pub recipients: Vec<String>,
    #[serde(flatten)]
    pub settings: Settings,
}

/// Allow and block lists.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Lists {
    #[serde(default)]
    pub allow_senders: Vec<String>,
    #[serde(default)]
    pub block_senders: Vec<String>,
    /// SHA-256 (hex) of a whole message or of an attachment.
    #[serde(default)]
    pub block_hashes: Vec<String>,
    /// What a block-list hit does (default `reject`).
    pub block_action: Option<Action>,
}

/// The whole gateway policy (the `[policy]`, `[[rule]]` and `[lists]` tables of `kensa.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayPolicy {
    pub default: Settings,
    pub rules: Vec<Rule>,
    pub lists: Lists,
}

/// What one message gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub action: Action,
    /// Why, in a few words (goes to the `X-Kensa-Action` header, the log and the store).
    pub reason: String,
    /// The subject tag to add when the action is `tag`.
    pub subject_tag: Option<String>,
    /// The SMTP reply when the action is `reject`.
    pub reject_reply: String,
}

/// The facts the decision needs about one message.
pub struct Facts<'a> {
    pub verdict: Verdict,
    pub score: f64,
    pub sender: &'a str,
    pub recipients: &'a [String],
    /// SHA-256 hex of the message and of its attachments.
    pub hashes: &'a [String],
}

pub const DEFAULT_REJECT_REPLY: &str = "550 5.7.1 Message refused by content policy (kensa)";

impl Default for GatewayPolicy {
    fn default() -> Self {
        GatewayPolicy {
            default: Settings::shipped(),
            rules: Vec::new(),
            lists: Lists::default(),
        }
    }
}

impl Settings {
    /// The shipped defaults (gateway spec §4).
    pub fn shipped() -> Settings {
        use VerdictKey::*;
        Settings {
            actions: BTreeMap::from([
                (Clean, Action::Accept),
                (Suspicious, Action::Tag),
                (Malicious, Action::Quarantine),
                (Incomplete, Action::Tag),
            ]),
            thresholds: None,
            subject_tags: BTreeMap::from([
                (Suspicious, "[SUSPICIOUS]".to_string()),
                (Malicious, "[SPAM]".to_string()),
                (Incomplete, "[UNCHECKED]".to_string()),
            ]),
            reject_reply: Some(DEFAULT_REJECT_REPLY.to_string()),
        }
    }

    /// `self` with `over`'s fields laid on top.
    pub(crate) fn merged(&self, over: &Settings) -> Settings {
        let mut s = self.clone();
        s.actions.extend(over.actions.iter().map(|(k, v)| (*k, *v)));
        if let Some(t) = &over.thresholds {
            let mut base = s.thresholds.take().unwrap_or_default();
            base.tag = t.tag.or(base.tag);
            base.quarantine = t.quarantine.or(base.quarantine);
            base.reject = t.reject.or(base.reject);
            s.thresholds = Some(base);
        }
        s.subject_tags
            .extend(over.subject_tags.iter().map(|(k, v)| (*k, v.clone())));
        if over.reject_reply.is_some() {
            s.reject_reply.clone_from(&over.reject_reply);
        }
        s
    }

    fn action_for(&self, verdict: Verdict, score: f64) -> (Action, String) {
        let key = VerdictKey::from(verdict);
        let by_verdict = self.actions.get(&key).copied().unwrap_or(Action::Accept);
        let mut action = by_verdict;
        let mut reason = format!("verdict {}", verdict.as_str());
        if let Some(t) = &self.thresholds {
            for (limit, a) in [
                (t.tag, Action::Tag),
                (t.quarantine, Action::Quarantine),
                (t.reject, Action::Reject),
            ] {
                if let Some(limit) = limit
                    && score >= limit
                    && a > action
                {
                    action = a;
                    reason = format!("score {score:.2} >= {limit:.2}");
                }
            }
        }
        (action, reason)
    }
}

/// Does `addr` match a list entry (`user@dom`, `@dom`, `dom`, `.dom`)? Case-insensitive.
pub fn address_matches(addr: &str, pattern: &str) -> bool {
    let addr = addr.trim().trim_start_matches('<').trim_end_matches('>');
    let addr = addr.to_ascii_lowercase();
    let pattern = pattern.trim().to_ascii_lowercase();
    if pattern.is_empty() {
        return false;
    }
    let domain = addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    if pattern.contains('@') && !pattern.starts_with('@') {
        return addr == pattern;
    }
    if let Some(d) = pattern.strip_prefix('@') {
        return domain == d;
    }
    if let Some(d) = pattern.strip_prefix('.') {
        return domain == d || domain.ends_with(&format!(".{d}"));
    }
    domain == pattern
}

impl GatewayPolicy {
    /// The settings that apply to one recipient: the defaults, then every matching rule in order.
    pub fn settings_for(&self, recipient: &str) -> Settings {
        self.rules
            .iter()
            .filter(|r| r.recipients.iter().any(|p| address_matches(recipient, p)))
            .fold(self.default.clone(), |s, r| s.merged(&r.settings))
    }

    /// The action for one message.
    pub fn decide(&self, facts: &Facts<'_>) -> Decision {
        // The strictest recipient decides; no recipient (should not happen) → the defaults.
        let mut chosen: Option<(Action, String, Settings)> = None;
        let defaults = [String::new()];
        let recipients = if facts.recipients.is_empty() {
            &defaults[..]
        } else {
            facts.recipients
        };
        for r in recipients {
            let s = if r.is_empty() {
                self.default.clone()
            } else {
                self.settings_for(r)
            };
            let (a, why) = s.action_for(facts.verdict, facts.score);
            if chosen.as_ref().is_none_or(|(best, _, _)| a > *best) {
                chosen = Some((a, why, s));
            }
        }
        let (mut action, mut reason, settings) =
            chosen.unwrap_or_else(|| (Action::Accept, String::new(), self.default.clone()));

        let block = self
            .lists
            .block_senders
            .iter()
            .find(|p| address_matches(facts.sender, p))
            .map(|p| format!("sender block list ({p})"))
            .or_else(|| {
                self.lists
                    .block_hashes
                    .iter()
                    .find(|h| facts.hashes.iter().any(|x| x.eq_ignore_ascii_case(h)))
                    .map(|h| format!("hash block list ({h})"))
            });
        if let Some(why) = block {
            action = self.lists.block_action.unwrap_or(Action::Reject);
            reason = why;
        } else if facts.verdict != Verdict::Malicious
            && let Some(p) = self
                .lists
                .allow_senders
                .iter()
                .find(|p| address_matches(facts.sender, p))
        {
            action = Action::Accept;
            reason = format!("sender allow list ({p})");
        }

        let subject_tag = (action == Action::Tag).then(|| {
            settings
                .subject_tags
                .get(&VerdictKey::from(facts.verdict))
                .cloned()
                .unwrap_or_else(|| "[SUSPICIOUS]".to_string())
        });
        Decision {
            action,
            reason,
            subject_tag: subject_tag.filter(|t| !t.trim().is_empty()),
            reject_reply: settings
                .reject_reply
                .unwrap_or_else(|| DEFAULT_REJECT_REPLY.to_string()),
        }
    }
}

#[cfg(test)]
mod tests;
