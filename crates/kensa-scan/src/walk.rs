//! The walker: owns recursion, budgets and the turning of findings into a verdict.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Instant;

use kensa_core::{Budget, Finding, Limits, Location, Policy, Severity};
use kensa_formats::sniff::{self, FileType};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::analyse::{self, Output};
use crate::report::ItemReport;

/// How a scan runs.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub limits: Limits,
    pub policy: Policy,
    /// Extra password candidates for encrypted archives (`--password`), tried before the fallbacks.
    pub passwords: Vec<String>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            limits: Limits::default(),
            policy: Policy::shipped(),
            passwords: Vec::new(),
        }
    }
}

/// Where a password candidate came from (shown in the artefact path: `x.zip[password from body]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordSource {
    Body,
    User,
    Guess,
}

impl PasswordSource {
    pub fn label(self) -> &'static str {
        match self {
            PasswordSource::Body => "body",
            PasswordSource::User => "user",
            PasswordSource::Guess => "guess",
        }
    }
}

/// What flows down the tree.
#[derive(Debug, Clone)]
pub(crate) struct Context {
    pub depth: usize,
    pub in_mail: bool,
    pub in_archive: bool,
    /// The enclosing message states a password (an anchored candidate was found).
    pub password_in_body: bool,
    pub passwords: Arc<Vec<(String, PasswordSource)>>,
}

/// One node of the artefact tree as an analyser sees it.
pub(crate) struct Node<'a> {
    pub data: &'a [u8],
    pub kind: FileType,
    /// The name the node was given (file, member or attachment name), when it has one.
    pub name: Option<&'a str>,
    pub loc: &'a Location,
    pub ctx: &'a Context,
    pub budget: &'a Budget,
}

/// A child an analyser found, to be walked next.
pub(crate) struct Child {
    pub name: String,
    pub data: Vec<u8>,
    /// The context for the child's subtree (the parent's, adjusted by the analyser).
    pub ctx: Context,
    /// How the parent was opened to reach this child, shown on the parent's segment of the
    /// child's path: `invoice.zip[password from body] > invoice.doc`.
    pub via: Option<String>,
}

/// Passwords analysts and malware samples use by convention, tried last.
const COMMON_GUESSES: &[&str] = &["infected", "malware", "virus", "1234", "password"];

/// Scan one top-level item held in memory.
pub fn scan_bytes(path: &str, data: &[u8], opts: &ScanOptions) -> ItemReport {
    scan_item(path, data, opts, Vec::new(), None)
}

/// Scan one item, with findings its reading already produced (padding stripped from a file).
pub(crate) fn scan_item(
    path: &str,
    data: &[u8],
    opts: &ScanOptions,
    mut findings: Vec<Finding>,
    whole: crate::source::WholeFile,
) -> ItemReport {
    let started = Instant::now();
    let budget = Budget::new(opts.limits.clone());
    let mut passwords: Vec<(String, PasswordSource)> = opts
        .passwords
        .iter()
        .map(|p| (p.clone(), PasswordSource::User))
        .collect();
    for guess in COMMON_GUESSES {
        if !passwords.iter().any(|(p, _)| p == guess) {
            passwords.push((guess.to_string(), PasswordSource::Guess));
        }
    }
    let ctx = Context {
        depth: 0,
        in_mail: false,
        in_archive: false,
        password_in_body: false,
        passwords: Arc::new(passwords),
    };
    let kind = sniff::sniff(data);
    let root = Location::root(display_name(path));
    walk(data, kind, Some(path), &root, &ctx, &budget, &mut findings);
    escalate_inflated(&mut findings);
    let assessment = opts.policy.assess(&mut findings);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.weight.total_cmp(&a.weight))
            .then_with(|| a.location.0.cmp(&b.location.0))
            .then(a.symbol.cmp(b.symbol))
    });
    ItemReport {
        path: path.to_string(),
        kind: kind.name(),
        size: whole.as_ref().map_or(data.len() as u64, |(len, _)| *len),
        sha256: whole.map_or_else(|| hex(&Sha256::digest(data)), |(_, sha)| sha),
        verdict: assessment.verdict,
        score: assessment.score,
        threshold: assessment.threshold,
        findings,
        error: None,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// An inflated file that holds macros, XLM, shortcuts, scripts or programs is critical (spec §2.12):
/// padding has no other purpose than to get such content past scanners.
fn escalate_inflated(findings: &mut [Finding]) {
    let table = kensa_core::SymbolTable::shipped();
    let active: Vec<Location> = findings
        .iter()
        .filter(|f| {
            f.severity >= Severity::Low
                && table
                    .get(f.symbol)
                    .is_some_and(|i| i.flag.chars().any(|c| "MAXLK".contains(c)))
        })
        .map(|f| f.location.clone())
        .collect();
    for f in findings.iter_mut().filter(|f| f.symbol == "INFLATED_FILE") {
        // The inflated member itself or below it. Below, a segment may carry how it was opened
        // (`x.zip[password from body]`), which the member's own finding does not.
        let inside = |loc: &Location| {
            let (outer, inner) = (&f.location.0, &loc.0);
            inner.len() >= outer.len()
                && outer.iter().zip(inner).all(|(o, i)| {
                    i == o
                        || i.strip_prefix(o.as_str())
                            .is_some_and(|r| r.starts_with('[') && r.ends_with(']'))
                })
        };
        if f.severity < Severity::Critical && active.iter().any(inside) {
            f.severity = Severity::Critical;
            f.evidence.push_str("; it holds macros or runnable content");
        }
    }
}

/// The last path component: the tree shows names, the item's `path` keeps the full path.
pub(crate) fn display_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_string()
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Walk one node of sniffed type `kind`: analyse it, then walk its children. `name` is the name
/// the node was given (file or attachment name), used to compare the claimed type with the real one.
fn walk(
    data: &[u8],
    kind: FileType,
    name: Option<&str>,
    loc: &Location,
    ctx: &Context,
    budget: &Budget,
    out: &mut Vec<Finding>,
) {
    if budget.timed_out() {
        out.push(unscannable(loc, "time budget for this item used up"));
        return;
    }
    let first_own = out.len();
    let mismatch = name.and_then(|n| sniff::mismatch(n, data, kind));
    if let Some(claimed) = mismatch {
        out.push(Finding::new(
            "TYPE_MISMATCH",
            Severity::Info,
            loc.clone(),
            format!("named as {}, content is {}", claimed.name(), kind.name()),
        ));
    }
    if let Some(name) = name {
        analyse::exec::by_name(name, kind, loc, ctx, out);
    }

    let node = Node {
        data,
        kind,
        name,
        loc,
        ctx,
        budget,
    };
    // Parsers must not panic; this is the last line of defence for third-party code. A panic
    // becomes an UNSCANNABLE finding on this node, never a clean verdict.
    let result = catch_unwind(AssertUnwindSafe(|| analyse::dispatch(&node)));
    let Output { findings, children } = match result {
        Ok(o) => o,
        Err(_) => {
            out.push(unscannable(
                loc,
                &format!("internal error while analysing {}", kind.name()),
            ));
            return;
        }
    };
    out.extend(findings);

    // Depth and member limits are decided before any child is walked.
    let mut selected = Vec::with_capacity(children.len().min(budget.limits.max_members));
    for child in children {
        if child.ctx.depth > budget.limits.max_depth {
            out.push(unscannable(
                loc,
                &format!("nesting deeper than {} levels", budget.limits.max_depth),
            ));
            break;
        }
        if selected.len() == budget.limits.max_members {
            out.push(unscannable(
                loc,
                &format!("more than {} members", budget.limits.max_members),
            ));
            break;
        }
        selected.push(child);
    }
    // Siblings are independent: walk them on all cores (the budget is shared and atomic), then
    // keep their findings in member order so the output does not depend on scheduling.
    let walk_child = |child: &Child| {
        let child_loc = match &child.via {
            Some(via) => {
                let mut segs = loc.0.clone();
                if let Some(last) = segs.last_mut() {
                    last.push_str(&format!("[{via}]"));
                }
                Location(segs).child(child.name.clone())
            }
            None => loc.child(child.name.clone()),
        };
        let mut found = Vec::new();
        walk(
            &child.data,
            sniff::sniff(&child.data),
            Some(&child.name),
            &child_loc,
            &child.ctx,
            budget,
            &mut found,
        );
        found
    };
    let per_child: Vec<Vec<Finding>> = if selected.len() > 1 {
        selected.par_iter().map(walk_child).collect()
    } else {
        selected.iter().map(walk_child).collect()
    };
    out.extend(per_child.into_iter().flatten());

    // A macro document under another name is one step worse (SpamAssassin OLEMACRO_RENAME).
    if mismatch.is_some()
        && out[first_own..].iter().any(|f| f.symbol == "VBA_MACRO")
        && let Some(f) = out[first_own..]
            .iter_mut()
            .find(|f| f.symbol == "TYPE_MISMATCH")
    {
        f.severity = f.severity.step_up();
    }
}

pub(crate) fn unscannable(loc: &Location, why: &str) -> Finding {
    Finding::new("UNSCANNABLE", Severity::Medium, loc.clone(), why)
}
