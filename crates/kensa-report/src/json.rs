//! JSON Lines (one object per item as it finishes, then a summary) and JSON (one document).

use std::io::{self, Write};

use kensa_core::Finding;
use kensa_scan::{ItemReport, Summary};
use serde_json::{Value, json};

use crate::{Printer, SCHEMA_VERSION};

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

pub(crate) fn item(r: &ItemReport) -> Value {
    json!({
        "type": "item",
        "schema_version": SCHEMA_VERSION,
        "path": r.path,
        "kind": r.kind,
        "size": r.size,
        "sha256": r.sha256,
        "verdict": r.verdict,
        "score": r.score,
        "threshold": r.threshold,
        "flags": r.flags(),
        "error": r.error,
        "elapsed_ms": r.elapsed_ms,
        "findings": r.findings.iter().map(finding).collect::<Vec<_>>(),
    })
}

pub(crate) fn summary(s: &Summary) -> Value {
    json!({
        "type": "summary",
        "schema_version": SCHEMA_VERSION,
        "items": s.items,
        "clean": s.clean,
        "suspicious": s.suspicious,
        "malicious": s.malicious,
        "incomplete": s.incomplete,
        "errors": s.errors,
        "findings": s.findings,
        "bytes": s.bytes,
        "elapsed_ms": s.elapsed_ms,
        "exit_code": s.exit_code(),
    })
}

pub(crate) struct Jsonl<'w> {
    out: Box<dyn Write + 'w>,
}

impl<'w> Jsonl<'w> {
    pub(crate) fn new(out: Box<dyn Write + 'w>) -> Self {
        Jsonl { out }
    }
}

impl Printer for Jsonl<'_> {
    fn item(&mut self, r: &ItemReport) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &item(r))?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, &summary(s))?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

pub(crate) struct Json<'w> {
    out: Box<dyn Write + 'w>,
    items: Vec<Value>,
}

impl<'w> Json<'w> {
    pub(crate) fn new(out: Box<dyn Write + 'w>) -> Self {
        Json {
            out,
            items: Vec::new(),
        }
    }
}

impl Printer for Json<'_> {
    fn item(&mut self, r: &ItemReport) -> io::Result<()> {
        self.items.push(item(r));
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let doc = json!({
            "schema_version": SCHEMA_VERSION,
            "items": std::mem::take(&mut self.items),
            "summary": summary(s),
        });
        serde_json::to_writer_pretty(&mut self.out, &doc)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
