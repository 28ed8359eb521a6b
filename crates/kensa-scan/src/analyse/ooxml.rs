//! OOXML and ODF packages: declared macro types, external relationships, encryption (ODF), and
//! the members that are documents of their own (`vbaProject.bin`, embedded OLE and packages),
//! found by content rather than by name.

use std::sync::LazyLock;

use kensa_core::{Finding, Severity};
use kensa_formats::sniff::{self, FileType};
use kensa_formats::zip::Zip;
use regex::Regex;

use super::Output;
use crate::walk::{Node, unscannable};

const XML_CAP: usize = 4 << 20;

pub(crate) fn is_package(z: &Zip<'_>) -> bool {
    z.entries.iter().any(|e| {
        e.name.eq_ignore_ascii_case("[Content_Types].xml")
            || e.name == "mimetype"
            || e.name.eq_ignore_ascii_case("META-INF/manifest.xml")
    })
}

/// A cheap check on bytes: the local headers name an OOXML or ODF part near the start.
pub(crate) fn looks_like_package(data: &[u8]) -> bool {
    let head = &data[..data.len().min(64 << 10)];
    memchr::memmem::find(head, b"[Content_Types].xml").is_some()
        || memchr::memmem::find(head, b"mimetypeapplication/vnd.oasis").is_some()
}

static RELATIONSHIP: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?s)<(?:\w+:)?Relationship\b([^>]*)>").expect("static regex"));
static ATTR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(\w+)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).expect("static regex"));

pub(crate) fn analyse(node: &Node<'_>, z: &mut Zip<'_>, out: &mut Output) {
    let entries = z.entries.clone();
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    let mut hyperlinks = Vec::new();
    let mut xlm = kensa_formats::xlm::XlmReport::default();
    let has_vba = entries
        .iter()
        .any(|e| e.name.to_ascii_lowercase().ends_with("vbaproject.bin"));
    for e in entries.iter().filter(|e| !e.is_dir) {
        let lower = e.name.to_ascii_lowercase();
        let dde = dde_scanner(&lower);
        let excel = is_excel_part(&lower);
        let text_part = lower == "[content_types].xml"
            || lower == "meta-inf/manifest.xml"
            || lower.ends_with(".rels")
            || is_custom_ui(&lower)
            || dde.is_some();
        // Each part is decompressed once, whatever reads it.
        let part = if text_part || excel {
            read_part(node, z, e.index)
        } else {
            None
        };
        if let Some(data) = &part {
            if excel {
                kensa_formats::xlm::scan_ooxml_part(&e.name, None, data, &mut xlm);
                if lower.starts_with("xl/externallinks/") && lower.ends_with(".bin") {
                    let links = kensa_formats::dde::xlsb_supbooks(data);
                    super::dde::findings(node, Some(&e.name), &links, out);
                }
            }
            if text_part {
                let xml = String::from_utf8_lossy(data);
                if let Some(scan) = dde {
                    super::dde::findings(node, Some(&e.name), &scan(&xml), out);
                }
                if lower == "[content_types].xml" {
                    macro_enabled_type(node, &xml, out);
                } else if lower == "meta-inf/manifest.xml" && xml.contains("encryption-data") {
                    out.findings.push(Finding::new(
                        "OFFICE_ENCRYPTED",
                        Severity::Info,
                        node.loc.clone(),
                        "ODF package with encrypted parts",
                    ));
                    out.findings.push(unscannable(
                        node.loc,
                        "encrypted ODF document, password unknown",
                    ));
                } else if lower.ends_with(".rels") {
                    relationships(node, &e.name, &xml, out, &mut hyperlinks);
                } else if is_custom_ui(&lower) {
                    custom_ui(node, &e.name, &xml, has_vba, out);
                }
            }
        }
        if e.size < 8 || e.encrypted {
            continue;
        }
        // Test every member for an embedded document: the VBA project part may be renamed.
        let kind = match &part {
            Some(data) => sniff::sniff(&data[..data.len().min(8)]),
            None => match z.read(e.index, None, 8) {
                Ok((head, _)) => sniff::sniff(&head),
                Err(_) => continue,
            },
        };
        if !matches!(kind, FileType::Ole | FileType::Zip) {
            continue;
        }
        let cap = node.budget.entry_cap();
        if cap == 0 {
            out.findings
                .push(unscannable(node.loc, "byte budget for this item used up"));
            return;
        }
        match z.read(e.index, None, cap) {
            Ok((data, cut)) => {
                out.add_child(node, e.name.clone(), data, cut.then_some(cap), &ctx, None);
            }
            Err(err) => out.findings.push(unscannable(
                &node.loc.child(e.name.clone()),
                &err.to_string(),
            )),
        }
    }
    super::xlm::findings(node, &xlm, out);
    if !hyperlinks.is_empty() {
        let n = hyperlinks.len();
        hyperlinks.truncate(5);
        out.findings.push(Finding::new(
            "EXTERNAL_HYPERLINK",
            Severity::Info,
            node.loc.clone(),
            format!("{n} external link(s): {}", hyperlinks.join(", ")),
        ));
    }
}

/// The parts that hold fields (Word body, headers, footers) or external DDE links (Excel).
fn dde_scanner(lower: &str) -> Option<fn(&str) -> Vec<kensa_formats::dde::DdeField>> {
    let word = lower.starts_with("word/")
        && lower.ends_with(".xml")
        && ["document", "header", "footer", "footnotes", "endnotes"]
            .iter()
            .any(|p| lower["word/".len()..].starts_with(p));
    if word {
        Some(kensa_formats::dde::wordprocessing_xml)
    } else if lower.starts_with("xl/externallinks/") && lower.ends_with(".xml") {
        Some(kensa_formats::dde::spreadsheet_xml)
    } else {
        None
    }
}

/// Excel parts that can declare or hold macro sheets. Worksheets, media and the VBA project are not
/// among them; a macro sheet renamed into them is still declared in the workbook relationships and
/// content types, which are read.
fn is_excel_part(lower: &str) -> bool {
    lower == "[content_types].xml"
        || (lower.starts_with("xl/")
            && !lower.starts_with("xl/worksheets/")
            && !lower.starts_with("xl/media/")
            && !lower.ends_with("vbaproject.bin"))
}

/// A package part, at most XML_CAP bytes (package XML is small; more is not read).
fn read_part(node: &Node<'_>, z: &mut Zip<'_>, index: usize) -> Option<Vec<u8>> {
    let (data, _) = z
        .read(index, None, XML_CAP.min(node.budget.entry_cap()))
        .ok()?;
    node.budget.spend(data.len() as u64);
    Some(data)
}

fn macro_enabled_type(node: &Node<'_>, xml: &str, out: &mut Output) {
    let lx = xml.to_ascii_lowercase();
    if let Some(t) = ["macroenabled", "vbaproject"]
        .iter()
        .find(|t| lx.contains(*t))
    {
        out.findings.push(Finding::new(
            "OOXML_MACRO_ENABLED_TYPE",
            Severity::Info,
            node.loc.clone(),
            format!("[Content_Types].xml declares {t}"),
        ));
    }
}

/// External relationships (spec §2.13). Hyperlinks are collected and reported once, as info.
fn relationships(
    node: &Node<'_>,
    part: &str,
    xml: &str,
    out: &mut Output,
    hyperlinks: &mut Vec<String>,
) {
    for rel in RELATIONSHIP.captures_iter(xml).take(10_000) {
        let mut ty = "";
        let mut target = "";
        let mut external = false;
        for a in ATTR.captures_iter(&rel[1]) {
            let v = a.get(2).or(a.get(3)).map_or("", |m| m.as_str());
            match &a[1] {
                "Type" => ty = v,
                "Target" => target = v,
                "TargetMode" => external = v.eq_ignore_ascii_case("External"),
                _ => {}
            }
        }
        if !external {
            continue;
        }
        let kind = ty.rsplit('/').next().unwrap_or(ty);
        let t = target.to_ascii_lowercase();
        let remote = t.starts_with("http")
            || t.starts_with("\\\\")
            || t.starts_with("//")
            || t.contains("@ssl");
        let severity = match kind {
            "hyperlink" | "externalLinkPath" => {
                if hyperlinks.len() < 100 {
                    hyperlinks.push(target.chars().take(200).collect());
                }
                continue;
            }
            "oleObject" if t.starts_with("mhtml:") || t.contains("!x-usc:") || t.ends_with('!') => {
                Severity::Critical
            }
            "attachedTemplate" if !remote => Severity::Info,
            "attachedTemplate" if is_ip_host(&t) || t.ends_with(".dotm") || !has_extension(&t) => {
                Severity::Critical
            }
            "attachedTemplate" | "oleObject" | "frame" | "subDocument" => Severity::High,
            _ => Severity::Info,
        };
        out.findings.push(Finding::new(
            "EXTERNAL_RELATIONSHIP",
            severity,
            node.loc.child(part.to_string()),
            format!("{kind} -> {}", target.chars().take(300).collect::<String>()),
        ));
    }
}

/// The ribbon definition of a package (`customUI/customUI.xml`, `customUI/customUI14.xml`).
fn is_custom_ui(lower: &str) -> bool {
    lower.starts_with("customui/") && lower.ends_with(".xml")
}

/// A ribbon `onLoad` callback runs a macro when the document opens, without Auto_Open or
/// Document_Open (spec §2.13): high when the package has a VBA project for it to call.
fn custom_ui(node: &Node<'_>, part: &str, xml: &str, has_vba: bool, out: &mut Output) {
    let lx = xml.to_ascii_lowercase();
    let Some(at) = lx.find("onload=") else {
        return;
    };
    let callback: String = xml[at + "onload=".len()..]
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| !matches!(c, '"' | '\'' | ' ' | '>'))
        .take(100)
        .collect();
    out.findings.push(Finding::new(
        "EXTERNAL_RELATIONSHIP",
        if has_vba {
            Severity::High
        } else {
            Severity::Info
        },
        node.loc.child(part.to_string()),
        format!("customUI onLoad -> {callback}"),
    ));
}

fn host_of(url: &str) -> &str {
    let rest = url
        .split_once("://")
        .map_or(url.trim_start_matches('\\'), |(_, r)| r);
    rest.split(['/', '\\', ':', '@']).next().unwrap_or("")
}

fn is_ip_host(url: &str) -> bool {
    let h = host_of(url);
    !h.is_empty() && h.split('.').count() == 4 && h.split('.').all(|p| p.parse::<u8>().is_ok())
}

fn has_extension(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit(['/', '\\']).next().unwrap_or("");
    last.contains('.') && !path.ends_with('/')
}
