use crate::Severity;
use serde::Serialize;

/// Where in the artefact tree something was found: one segment per node from the root,
/// e.g. `["mail", "invoice.zip[password from body]", "invoice.doc", "Macros/VBA/Module1"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Location(pub Vec<String>);

impl Location {
    pub fn root(name: impl Into<String>) -> Location {
        Location(vec![name.into()])
    }

    pub fn child(&self, name: impl Into<String>) -> Location {
        let mut segs = self.0.clone();
        segs.push(name.into());
        Location(segs)
    }

    pub fn depth(&self) -> usize {
        self.0.len()
    }

    /// The ` > `-joined form shown to people.
    pub fn display(&self) -> String {
        self.0.join(" > ")
    }
}

/// One thing an analyser noticed. The weight is filled in by the policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub symbol: &'static str,
    pub severity: Severity,
    pub weight: f64,
    pub location: Location,
    pub evidence: String,
}

impl Finding {
    pub fn new(
        symbol: &'static str,
        severity: Severity,
        location: Location,
        evidence: impl Into<String>,
    ) -> Finding {
        Finding {
            symbol,
            severity,
            weight: 0.0,
            location,
            evidence: evidence.into(),
        }
    }
}
