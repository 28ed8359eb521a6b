use kensa_core::{Finding, SymbolTable, Verdict};
use serde::Serialize;

/// The result for one top-level item (a message, or a file given directly).
#[derive(Debug, Clone, Serialize)]
pub struct ItemReport {
    pub path: String,
    /// The sniffed type of the item (`mail`, `ole`, `zip`, …).
    pub kind: &'static str,
    pub size: u64,
    pub sha256: String,
    pub verdict: Verdict,
    pub score: f64,
    pub threshold: f64,
    /// Sorted: most severe first, then by location.
    pub findings: Vec<Finding>,
    /// An error that kept the item from being scanned at all (unreadable file).
    pub error: Option<String>,
    pub elapsed_ms: u64,
}

impl ItemReport {
    /// Triage flags (`MAX-E-P---…`), one letter per family, `-` when absent.
    pub fn flags(&self) -> String {
        const ORDER: &str = "MAXLEPDTKIZU";
        let table = SymbolTable::shipped();
        let present: String = self
            .findings
            .iter()
            .filter_map(|f| table.get(f.symbol))
            .map(|i| i.flag.as_str())
            .collect();
        ORDER
            .chars()
            .map(|c| if present.contains(c) { c } else { '-' })
            .collect()
    }
}

/// Counts over a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub items: u64,
    pub clean: u64,
    pub suspicious: u64,
    pub malicious: u64,
    pub incomplete: u64,
    pub errors: u64,
    pub findings: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
}

impl Summary {
    pub fn add(&mut self, r: &ItemReport) {
        self.items += 1;
        self.findings += r.findings.len() as u64;
        self.bytes += r.size;
        match r.verdict {
            Verdict::Clean => self.clean += 1,
            Verdict::Suspicious => self.suspicious += 1,
            Verdict::Malicious => self.malicious += 1,
            Verdict::Incomplete => self.incomplete += 1,
        }
        if r.error.is_some() {
            self.errors += 1;
        }
    }

    /// The exit code of the conventions: 1 detection, 2 incomplete or errors, else 0.
    pub fn exit_code(&self) -> i32 {
        if self.suspicious + self.malicious > 0 {
            1
        } else if self.incomplete + self.errors > 0 {
            2
        } else {
            0
        }
    }
}
