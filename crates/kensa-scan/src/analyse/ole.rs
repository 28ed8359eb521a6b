//! OLE / CFB files: encryption markers and VBA projects.

use kensa_core::{Finding, Severity};
use kensa_formats::ole::OleFile;
use kensa_formats::ole10native::{self, Content};
use kensa_formats::sniff::{self, FileType};
use kensa_formats::{decrypt, ovba, ppt, vba as vba_format};

use super::{Output, vba};
use crate::walk::{Node, unscannable};

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let mut ole = match OleFile::parse(node.data) {
        Ok(o) => o,
        Err(e) => {
            out.findings
                .push(unscannable(node.loc, &format!("OLE: {e}")));
            // The container is broken, but compressed VBA source may still be found in the bytes.
            let sources =
                ovba::find_compressed_source(node.data, node.budget.entry_cap().min(16 << 20));
            let modules = sources
                .into_iter()
                .enumerate()
                .map(|(i, s)| vba::Module {
                    name: format!("carved-{}", i + 1),
                    stream: format!("carved-{}", i + 1),
                    source: String::from_utf8_lossy(&s).into_owned(),
                })
                .collect::<Vec<_>>();
            out.findings.extend(vba::findings(node, &modules, &[], &[]));
            return out;
        }
    };
    if kensa_formats::msg::is_msg(&ole) {
        return super::msg::analyse(node, &mut ole);
    }
    if encryption(node, &mut ole, &mut out) {
        // The decrypted copy is a child and is analysed whole; reading the still-encrypted
        // streams here would report its (unencrypted) VBA storage twice.
        return out;
    }

    let embedded = embedded_documents(node, &mut ole, &mut out);
    let inside_embedded = |path: &str| {
        embedded
            .iter()
            .any(|e| path.starts_with(&format!("{e}/")) || path == e)
    };
    let limits = vba_format::VbaLimits {
        max_module_bytes: node.budget.entry_cap().min(16 << 20),
        max_total_bytes: node.budget.entry_cap(),
        ..vba_format::VbaLimits::default()
    };
    match vba_format::extract(&mut ole, &limits) {
        Ok(projects) => {
            // A project of an embedded document is reported by that document, its child.
            for p in projects
                .into_iter()
                .filter(|p| !inside_embedded(&p.storage))
            {
                node.budget
                    .spend(p.modules.iter().map(|m| m.source.len() as u64).sum());
                if p.limit_hit {
                    out.findings.push(unscannable(
                        &node.loc.child(p.storage.clone()),
                        "VBA project larger than the limits; not every module was read",
                    ));
                }
                let modules: Vec<vba::Module> = p
                    .modules
                    .into_iter()
                    .map(|m| vba::Module {
                        name: m.name,
                        stream: m.stream_path,
                        source: m.source,
                    })
                    .collect();
                out.findings.extend(vba::findings(
                    node,
                    &modules,
                    &p.hidden_modules,
                    &p.form_strings,
                ));
            }
        }
        Err(e) => out
            .findings
            .push(unscannable(node.loc, &format!("VBA: {e}"))),
    }
    powerpoint_storages(node, &mut ole, &mut out);
    excel4_macros(node, &mut ole, &mut out);
    packages(node, &mut ole, &mut out);
    word_fields(node, &mut ole, &mut out);
    out
}

/// DDE fields in a Word 97-2003 document (`WordDocument` stream, 8-bit or UTF-16LE text).
fn word_fields(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) {
    let Some(path) = root_stream(ole, "WordDocument") else {
        return;
    };
    if let Ok((stream, _)) = ole.read_stream_prefix(&path, node.budget.entry_cap()) {
        super::dde::findings(node, None, &kensa_formats::dde::word_binary(&stream), out);
    }
}

/// OLE Package objects (`\x01Ole10Native`): the embedded file becomes a child; a program inside a
/// document is critical, a link to one high (spec §2.7, §5: sample_with_calc_embedded.doc).
fn packages(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) {
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_archive = true;
    for path in ole
        .find_streams("\u{1}Ole10Native")
        .into_iter()
        .take(node.budget.limits.max_members)
    {
        let cap = node.budget.entry_cap();
        let package = match ole.read_stream_prefix(&path, cap.saturating_add(4096)) {
            Ok((stream, _)) => ole10native::parse(&stream, cap),
            Err(e) => {
                out.findings
                    .push(unscannable(&node.loc.child(path.clone()), &e.to_string()));
                continue;
            }
        };
        let package = match package {
            Ok(p) => p,
            Err(e) => {
                out.findings
                    .push(unscannable(&node.loc.child(path.clone()), &e.to_string()));
                continue;
            }
        };
        let loc = node.loc.child(path.clone());
        let what = format!("{} (from {})", package.label, package.source_path);
        match package.content {
            Content::Link => {
                let runnable = super::exec::is_runnable_name(&package.source_path);
                let sev = if runnable {
                    Severity::High
                } else {
                    Severity::Info
                };
                out.findings.push(Finding::new(
                    "OLE_PACKAGE_LINK",
                    sev,
                    loc,
                    format!("link to {}", package.source_path),
                ));
            }
            Content::Embedded { data, truncated } => {
                let kind = sniff::sniff(&data);
                if kind == FileType::Pe {
                    out.findings.push(Finding::new(
                        "OLE_PACKAGE_EXECUTABLE",
                        Severity::Critical,
                        loc,
                        what,
                    ));
                } else {
                    out.findings
                        .push(Finding::new("OLE_PACKAGE", Severity::Info, loc, what));
                }
                let name = format!("{path}/{}", package.label);
                out.add_child(node, name, data, truncated.then_some(cap), &ctx, None);
            }
        }
    }
}

/// Excel 4.0 macro sheets in the BIFF `Workbook` (BIFF8) or `Book` (BIFF5) stream.
fn excel4_macros(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) {
    let Some(path) = workbook_stream(ole) else {
        return;
    };
    let cap = node.budget.entry_cap();
    match ole.read_stream_prefix(&path, cap) {
        Ok((stream, cut)) => {
            if cut {
                out.findings
                    .push(unscannable(node.loc, &super::cut_reason(node, cap)));
            }
            super::xlm::findings(node, &kensa_formats::xlm::scan_biff(&stream), out);
            let links = kensa_formats::dde::biff_supbooks(&stream);
            super::dde::findings(node, Some(&path), &links, out);
        }
        Err(e) => out
            .findings
            .push(unscannable(node.loc, &format!("{path}: {e}"))),
    }
}

/// A .ppt keeps its VBA project and embedded objects as compressed storages inside the
/// `PowerPoint Document` stream: each becomes a child, analysed like any OLE file.
fn powerpoint_storages(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) {
    let Some(path) = root_stream(ole, "PowerPoint Document") else {
        return;
    };
    let cap = node.budget.entry_cap();
    let Ok((stream, _)) = ole.read_stream_prefix(&path, cap) else {
        return;
    };
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    let total = usize::try_from(node.budget.remaining_bytes()).unwrap_or(usize::MAX);
    for e in ppt::embedded_storages(&stream, cap, total, node.budget.limits.max_members) {
        let name = format!("{path}/ExOleObjStg@{}", e.offset);
        out.add_child(node, name, e.data, e.truncated.then_some(cap), &ctx, None);
    }
}

/// Encrypted Office files (spec §2.5): the default passwords (VelvetSweatshop…) and the candidates
/// of the enclosing message are tried; what opens becomes a child, what does not is reported as
/// not inspected. The VBA storage of an RC4 .xls is not encrypted and is read either way.
fn encryption(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) -> bool {
    let has = |name: &str| root_stream(ole, name).is_some();
    let marker = if has("EncryptionInfo") && has("EncryptedPackage") {
        Some("encrypted OOXML package")
    } else if has("EncryptedSummary") {
        Some("encrypted PowerPoint document")
    } else if word_encrypted(ole) {
        Some("encrypted Word document (FIB fEncrypted)")
    } else if excel_encrypted(ole) {
        Some("encrypted Excel workbook (FILEPASS)")
    } else {
        None
    };
    let Some(marker) = marker else {
        return false;
    };
    let what = match decrypt::describe(node.data) {
        Some(scheme) => format!("{marker}: {scheme}"),
        None => marker.to_string(),
    };
    super::password_in_body(node, "document", out);
    let passwords = node.ctx.passwords.iter().map(|(p, _)| p.as_str());
    let tries = node.budget.limits.max_password_tries;
    match decrypt::open(node.data, passwords, tries) {
        decrypt::Outcome::Decrypted { data, password } => {
            let (source, origin) = if decrypt::DEFAULT_PASSWORDS.contains(&password.as_str()) {
                (
                    format!("default password {password}"),
                    "built-in default: opens without a prompt".to_string(),
                )
            } else {
                let src = node.ctx.passwords.iter().find(|(p, _)| *p == password);
                let label = src.map_or("user", |(_, s)| s.label());
                (format!("password from {label}"), format!("from {label}"))
            };
            out.findings.push(Finding::new(
                "OFFICE_ENCRYPTED",
                Severity::Info,
                node.loc.clone(),
                what,
            ));
            out.findings.push(Finding::new(
                "OFFICE_PASSWORD_RECOVERED",
                Severity::Info,
                node.loc.clone(),
                format!("password \"{password}\" ({origin})"),
            ));
            let mut ctx = node.ctx.clone();
            ctx.depth += 1;
            let cap = node.budget.entry_cap();
            let cut = (data.len() > cap).then_some(cap);
            let mut data = data;
            data.truncate(cap);
            out.add_child(node, "decrypted".into(), data, cut, &ctx, Some(source));
            true
        }
        outcome => {
            let why = match outcome {
                decrypt::Outcome::WrongPassword { tried } => {
                    format!("password unknown ({tried} tried)")
                }
                decrypt::Outcome::Unsupported(e) => format!("cannot be decrypted here: {e}"),
                _ => "the encryption header could not be read".into(),
            };
            out.findings.push(Finding::new(
                "OFFICE_ENCRYPTED",
                Severity::Info,
                node.loc.clone(),
                what.clone(),
            ));
            out.findings.push(unscannable(
                node.loc,
                &format!("{what}; {why}; content not inspected"),
            ));
            false
        }
    }
}

fn word_encrypted(ole: &mut OleFile<'_>) -> bool {
    let Some(path) = root_stream(ole, "WordDocument") else {
        return false;
    };
    match ole.read_stream_prefix(&path, 16) {
        Ok((fib, _)) if fib.len() >= 12 => u16::from_le_bytes([fib[10], fib[11]]) & 0x0100 != 0,
        _ => false,
    }
}

/// The BIFF workbook stream: `Workbook` (BIFF8), else `Book` (BIFF5).
fn workbook_stream(ole: &OleFile<'_>) -> Option<String> {
    root_stream(ole, "Workbook").or_else(|| root_stream(ole, "Book"))
}

/// FILEPASS (0x002F) among the first records of the workbook globals.
fn excel_encrypted(ole: &mut OleFile<'_>) -> bool {
    let Some(path) = workbook_stream(ole) else {
        return false;
    };
    let Ok((data, _)) = ole.read_stream_prefix(&path, 64 << 10) else {
        return false;
    };
    let mut pos = 0usize;
    for _ in 0..200 {
        let Some(h) = data.get(pos..pos + 4) else {
            break;
        };
        let ty = u16::from_le_bytes([h[0], h[1]]);
        let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
        match ty {
            0x002F => return true,
            0x0085 | 0x000A => break, // BOUNDSHEET or EOF: past where FILEPASS stands
            _ => pos += 4 + len,
        }
    }
    false
}

/// A stream of the document itself (at the root, `name` case-insensitively), not of an embedded one.
fn root_stream(ole: &OleFile<'_>, name: &str) -> Option<String> {
    ole.find_streams(name)
        .into_iter()
        .find(|p| !p.contains('/'))
}

/// Documents embedded in this one (olevba skips them, oletools#778): a storage holding a Word,
/// Excel or PowerPoint stream (`ObjectPool/_1234`, Excel's `MBD…`) becomes a compound file of its
/// own, and an embedded OOXML package (`Package` stream) a ZIP; each is a child. Returns the
/// storages taken, so that what they hold is not reported twice.
fn embedded_documents(node: &Node<'_>, ole: &mut OleFile<'_>, out: &mut Output) -> Vec<String> {
    use std::collections::HashSet;
    let mut found: HashSet<String> = HashSet::new();
    for name in ["WordDocument", "Workbook", "Book", "PowerPoint Document"] {
        for p in ole.find_streams(name) {
            let parent = kensa_formats::ole::parent_path(&p);
            if !parent.is_empty() {
                found.insert(parent.to_string());
            }
        }
    }
    // A document inside an embedded document is its child's business: keep the outermost ones
    // (an ancestor walk per storage, linear in the path depth).
    let outermost = |s: &str| {
        let mut up = kensa_formats::ole::parent_path(s);
        while !up.is_empty() {
            if found.contains(up) {
                return false;
            }
            up = kensa_formats::ole::parent_path(up);
        }
        true
    };
    let mut storages: Vec<String> = found.iter().filter(|s| outermost(s)).cloned().collect();
    storages.sort();
    if storages.len() > node.budget.limits.max_members {
        out.findings.push(unscannable(
            node.loc,
            &format!(
                "{} embedded documents, only the first {} read",
                storages.len(),
                node.budget.limits.max_members
            ),
        ));
        storages.truncate(node.budget.limits.max_members);
    }
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    // Only storages rebuilt are handed to their child; what could not be rebuilt stays with this
    // document, whose own VBA and stream analysis then still covers it.
    let mut taken = Vec::with_capacity(storages.len());
    for storage in storages {
        let cap = node.budget.entry_cap();
        match ole.storage_as_file(&storage, cap) {
            Ok((data, cut)) => {
                out.add_child(node, storage.clone(), data, cut.then_some(cap), &ctx, None);
                taken.push(storage);
            }
            Err(e) => out.findings.push(unscannable(
                &node.loc.child(storage.clone()),
                &e.to_string(),
            )),
        }
    }
    let storages = taken;
    for p in ole.find_streams("Package") {
        let parent = kensa_formats::ole::parent_path(&p);
        if parent.is_empty() || storages.iter().any(|s| p.starts_with(&format!("{s}/"))) {
            continue;
        }
        let cap = node.budget.entry_cap();
        if let Ok((data, cut)) = ole.read_stream_prefix(&p, cap)
            && sniff::sniff(&data) == FileType::Zip
        {
            out.add_child(node, p, data, cut.then_some(cap), &ctx, None);
        }
    }
    storages
}
