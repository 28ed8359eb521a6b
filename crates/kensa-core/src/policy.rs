use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::{Finding, Severity, SymbolTable, Verdict};

/// A policy file could not be used. Codes are stable (`C001`…) and shown to the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    #[error("C001 invalid policy: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("C002 unknown symbol `{0}` in policy (see `kensa scan --list-symbols`)")]
    UnknownSymbol(String),
    #[error(
        "C003 thresholds must satisfy 0 < suspicious <= malicious (got {suspicious} and {malicious})"
    )]
    Thresholds { suspicious: f64, malicious: f64 },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    thresholds: Option<ThresholdsFile>,
    severity_weights: Option<BTreeMap<Severity, f64>>,
    #[serde(default)]
    symbols: BTreeMap<String, SymbolOverride>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThresholdsFile {
    suspicious: Option<f64>,
    malicious: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SymbolOverride {
    severity: Option<Severity>,
    weight: Option<f64>,
}

/// Turns the findings of one item into a score and a verdict (rules in `defaults/policy.toml`).
#[derive(Debug, Clone)]
pub struct Policy {
    pub suspicious: f64,
    pub malicious: f64,
    severity_weights: [f64; 5],
    symbols: HashMap<String, SymbolOverride>,
}

/// The policy's judgement of one item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Assessment {
    pub verdict: Verdict,
    pub score: f64,
    /// The score at which an item becomes suspicious (shown as `score / threshold`).
    pub threshold: f64,
}

const SHIPPED: &str = include_str!("../defaults/policy.toml");

impl Policy {
    /// The shipped defaults.
    pub fn shipped() -> Policy {
        let mut p = Policy {
            suspicious: 0.0,
            malicious: 0.0,
            severity_weights: [0.0; 5],
            symbols: HashMap::new(),
        };
        // A test parses the shipped file; it cannot fail at run time.
        if let Err(e) = p.merge(SHIPPED) {
            debug_assert!(false, "shipped policy: {e}");
        }
        p
    }

    /// The shipped defaults with a user's policy file merged over them.
    pub fn from_user(text: &str) -> Result<Policy, PolicyError> {
        let mut p = Policy::shipped();
        p.merge(text)?;
        Ok(p)
    }

    fn merge(&mut self, text: &str) -> Result<(), PolicyError> {
        let file: PolicyFile = toml::from_str(text)?;
        let table = SymbolTable::shipped();
        for name in file.symbols.keys() {
            if table.get(name).is_none() {
                return Err(PolicyError::UnknownSymbol(name.clone()));
            }
        }
        if let Some(t) = file.thresholds {
            self.suspicious = t.suspicious.unwrap_or(self.suspicious);
            self.malicious = t.malicious.unwrap_or(self.malicious);
        }
        if !(self.suspicious > 0.0 && self.suspicious <= self.malicious) {
            return Err(PolicyError::Thresholds {
                suspicious: self.suspicious,
                malicious: self.malicious,
            });
        }
        for (sev, w) in file.severity_weights.unwrap_or_default() {
            self.severity_weights[sev as usize] = w;
        }
        for (name, o) in file.symbols {
            let e = self.symbols.entry(name).or_default();
            e.severity = o.severity.or(e.severity);
            e.weight = o.weight.or(e.weight);
        }
        Ok(())
    }

    /// Apply per-symbol severity overrides and fill in weights, in place.
    pub fn weigh(&self, findings: &mut [Finding]) {
        for f in findings {
            let o = self.symbols.get(f.symbol);
            if let Some(sev) = o.and_then(|o| o.severity) {
                f.severity = sev;
            }
            f.weight = o
                .and_then(|o| o.weight)
                .unwrap_or(self.severity_weights[f.severity as usize]);
        }
    }

    /// Weigh the findings and judge the item.
    pub fn assess(&self, findings: &mut [Finding]) -> Assessment {
        self.weigh(findings);
        let table = SymbolTable::shipped();
        let mut best: HashMap<&str, f64> = HashMap::new();
        for f in findings.iter() {
            let w = best.entry(f.symbol).or_insert(f64::MIN);
            *w = w.max(f.weight);
        }
        // Folded from +0.0: an empty float sum is -0.0, which would print as "-0.0".
        let score = best.values().fold(0.0, |a, b| a + b);

        let info = |f: &Finding| table.get(f.symbol);
        let is_incomplete = |f: &Finding| info(f).is_some_and(|i| i.incomplete);
        let critical = findings.iter().any(|f| f.severity == Severity::Critical);
        let high_artefacts: HashSet<&[String]> = findings
            .iter()
            .filter(|f| f.severity == Severity::High)
            .map(|f| f.location.0.as_slice())
            .collect();
        let strong = findings.iter().any(|f| info(f).is_some_and(|i| i.strong));
        let notable = findings
            .iter()
            .any(|f| f.severity >= Severity::Medium && !is_incomplete(f));

        let by_severity =
            if critical || high_artefacts.len() >= 2 || (!high_artefacts.is_empty() && strong) {
                Verdict::Malicious
            } else if notable {
                Verdict::Suspicious
            } else if findings.iter().any(is_incomplete) {
                Verdict::Incomplete
            } else {
                Verdict::Clean
            };
        let by_score = if score >= self.malicious {
            Verdict::Malicious
        } else if score >= self.suspicious {
            Verdict::Suspicious
        } else {
            Verdict::Clean
        };
        let verdict = match (by_severity, by_score) {
            (Verdict::Malicious, _) | (_, Verdict::Malicious) => Verdict::Malicious,
            (Verdict::Suspicious, _) | (_, Verdict::Suspicious) => Verdict::Suspicious,
            (v, _) => v,
        };
        Assessment {
            verdict,
            score,
            threshold: self.suspicious,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Location;

    fn f(sym: &'static str, sev: Severity, loc: &str) -> Finding {
        Finding::new(sym, sev, Location::root(loc), "")
    }

    #[test]
    fn shipped_policy_parses() {
        let _: PolicyFile = toml::from_str(SHIPPED).expect("policy.toml");
        let p = Policy::shipped();
        assert!(p.suspicious > 0.0 && p.malicious > p.suspicious);
    }

    #[test]
    fn severity_rule() {
        let p = Policy::shipped();
        let v = |mut fs: Vec<Finding>| p.assess(&mut fs).verdict;
        assert_eq!(v(vec![]), Verdict::Clean);
        assert_eq!(v(vec![f("VBA_MACRO", Severity::Low, "a")]), Verdict::Clean);
        assert_eq!(
            v(vec![f("UNSCANNABLE", Severity::Medium, "a")]),
            Verdict::Incomplete
        );
        assert_eq!(
            v(vec![
                f("UNSCANNABLE", Severity::Medium, "a"),
                f("VBA_AUTOEXEC", Severity::Medium, "b")
            ]),
            Verdict::Suspicious
        );
        assert_eq!(
            v(vec![f("VBA_AUTOEXEC_EXEC", Severity::Critical, "a")]),
            Verdict::Malicious
        );
        // Two high findings on one artefact: suspicious; on two artefacts: malicious.
        assert_eq!(
            v(vec![
                f("INFLATED_FILE", Severity::High, "a"),
                f("EXECUTABLE_ATTACHMENT", Severity::High, "a")
            ]),
            Verdict::Suspicious
        );
        assert_eq!(
            v(vec![
                f("INFLATED_FILE", Severity::High, "a"),
                f("EXECUTABLE_ATTACHMENT", Severity::High, "b")
            ]),
            Verdict::Malicious
        );
        // A strong mail signal alone (low) is not enough; with a high artefact it is.
        assert_eq!(
            v(vec![f("DISPLAY_NAME_ADDRESS_MISMATCH", Severity::Low, "m")]),
            Verdict::Clean
        );
        assert_eq!(
            v(vec![
                f("DISPLAY_NAME_ADDRESS_MISMATCH", Severity::Low, "m"),
                f("EXECUTABLE_ATTACHMENT", Severity::High, "b")
            ]),
            Verdict::Malicious
        );
    }

    #[test]
    fn score_counts_each_symbol_once() {
        let p = Policy::shipped();
        let mut fs = vec![
            f("VBA_AUTOEXEC", Severity::Medium, "a"),
            f("VBA_AUTOEXEC", Severity::Medium, "b"),
            f("VBA_MACRO", Severity::Low, "a"),
        ];
        let a = p.assess(&mut fs);
        assert_eq!(a.score, 4.0);
        assert_eq!(fs[0].weight, 3.0);
    }

    #[test]
    fn user_policy_overrides_and_errors() {
        let p = Policy::from_user(
            "[thresholds]\nsuspicious = 1.0\n[symbols.VBA_MACRO]\nseverity = \"info\"\nweight = 2.5\n",
        )
        .expect("valid");
        let mut fs = vec![f("VBA_MACRO", Severity::Low, "a")];
        let a = p.assess(&mut fs);
        assert_eq!((fs[0].severity, a.score), (Severity::Info, 2.5));
        assert_eq!(a.verdict, Verdict::Suspicious, "score 2.5 >= threshold 1.0");

        assert!(matches!(
            Policy::from_user("[symbols.NOPE]\nweight = 1.0\n"),
            Err(PolicyError::UnknownSymbol(s)) if s == "NOPE"
        ));
        assert!(matches!(
            Policy::from_user("colour = 1\n"),
            Err(PolicyError::Parse(_))
        ));
        assert!(matches!(
            Policy::from_user("[thresholds]\nmalicious = 1.0\n"),
            Err(PolicyError::Thresholds { .. })
        ));
    }
}
