//! ZIP archives: listing, bomb and inflation guards, decryption with the message's password
//! candidates, members as children. OOXML/ODF packages go to `ooxml`.

use kensa_core::{Finding, Severity};
use kensa_formats::sniff::{self, FileType};
use kensa_formats::zip::{Zip, ZipEntry, ZipError};

use rayon::prelude::*;

use super::{Output, ooxml};
use crate::walk::{Node, PasswordSource, unscannable};

/// Names that make an encrypted archive risky even when it cannot be opened (spec §2.6).
const RISKY: &[&str] = &[
    "doc", "docm", "xls", "xlsm", "xlsb", "js", "jse", "vbs", "vbe", "wsf", "hta", "lnk", "exe",
    "dll", "scr", "iso", "img", "one", "bat", "cmd", "ps1",
];

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let limits = &node.budget.limits;
    let mut z = match Zip::open(node.data, limits.max_members.saturating_mul(4)) {
        Ok(z) => z,
        Err(e) => {
            out.findings
                .push(unscannable(node.loc, &format!("ZIP: {e}")));
            return out;
        }
    };
    if z.prefix_bytes > 0 {
        out.findings.push(Finding::new(
            "TYPE_MISMATCH",
            Severity::Info,
            node.loc.clone(),
            format!(
                "{} bytes of other data before the ZIP archive",
                z.prefix_bytes
            ),
        ));
    }
    if z.declared_entries > z.entries.len() {
        out.findings.push(unscannable(
            node.loc,
            &format!(
                "{} entries declared, first {} listed",
                z.declared_entries,
                z.entries.len()
            ),
        ));
    }
    if ooxml::is_package(&z) {
        ooxml::analyse(node, &mut z, &mut out);
        return out;
    }

    let files: Vec<ZipEntry> = z.entries.iter().filter(|e| !e.is_dir).cloned().collect();
    let encrypted: Vec<&ZipEntry> = files.iter().filter(|e| e.encrypted).collect();
    let mut password: Option<(String, PasswordSource)> = None;
    if !encrypted.is_empty() {
        let aes = encrypted.iter().any(|e| e.aes);
        out.findings.push(Finding::new(
            "ZIP_ENCRYPTED",
            Severity::Info,
            node.loc.clone(),
            format!(
                "{} of {} entries encrypted ({})",
                encrypted.len(),
                files.len(),
                if aes { "WinZip AES" } else { "ZipCrypto" }
            ),
        ));
        super::password_in_body(node, "archive", &mut out);
        password = find_password(node, &mut z, &encrypted);
        match &password {
            Some((pw, src)) => out.findings.push(Finding::new(
                "ZIP_PASSWORD_RECOVERED",
                Severity::Info,
                node.loc.clone(),
                format!("password \"{pw}\" (from {})", src.label()),
            )),
            None => {
                let tried = node.ctx.passwords.len().min(try_limit(&encrypted));
                out.findings.push(unscannable(
                    node.loc,
                    &format!("encrypted archive, password not found ({tried} candidates tried)"),
                ));
                let risky: Vec<&str> = encrypted
                    .iter()
                    .map(|e| e.name.as_str())
                    .filter(|n| has_ext(n, RISKY))
                    .take(10)
                    .collect();
                if !risky.is_empty() {
                    out.findings.push(Finding::new(
                        "ZIP_ENCRYPTED_RISKY_MEMBER",
                        Severity::High,
                        node.loc.clone(),
                        risky.join(", "),
                    ));
                }
            }
        }
    }

    let via = password
        .as_ref()
        .map(|(_, src)| format!("password from {}", src.label()));
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_archive = true;
    let pw = password.as_ref().map(|(p, _)| p.as_bytes());
    // Entries that can be read: the walker refuses past max_members, so one more is enough to say so.
    let readable: Vec<&ZipEntry> = files
        .iter()
        .filter(|e| !e.encrypted || pw.is_some())
        .take(limits.max_members.saturating_add(1))
        .collect();
    for e in files.iter().filter(|e| e.encrypted && pw.is_none()) {
        declared_inflation(node, e, &mut out);
    }
    // Decryption and inflation are most of the work: read a batch of entries at a time, one per
    // worker, each from its own clone of the archive. A batch holds at most `workers` entries of at
    // most the current entry cap, so memory stays bounded while the byte budget is spent in order.
    let workers = rayon::current_num_threads().max(1);
    for batch in readable.chunks(workers) {
        let cap = node.budget.entry_cap();
        if cap == 0 {
            out.findings
                .push(unscannable(node.loc, "byte budget for this item used up"));
            break;
        }
        let read: Vec<_> = batch
            .par_iter()
            .map_init(
                || z.clone(),
                |z, e| {
                    let pw = if e.encrypted { pw } else { None };
                    z.read_member(e.index, pw, cap, limits.max_inflate_bytes)
                },
            )
            .collect();
        for (e, result) in batch.iter().zip(read) {
            let member = match result {
                Ok(r) => r,
                Err(err) => {
                    out.findings.push(unscannable(
                        &node.loc.child(e.name.clone()),
                        &format!("{err}"),
                    ));
                    continue;
                }
            };
            let loc = node.loc.child(e.name.clone());
            if member.padding >= PADDING_REPORTED {
                out.findings.push(Finding::new(
                    "INFLATED_FILE",
                    Severity::High,
                    loc.clone(),
                    format!(
                        "{} bytes, of which {} are padding (runs of 0x{:02X}); padding skipped, the other {} bytes analysed",
                        member.total,
                        member.padding,
                        member.pad_byte,
                        member.total - member.padding,
                    ),
                ));
            } else {
                declared_inflation(node, e, &mut out);
            }
            let over_inflate = member.cut && member.data.len() < cap;
            if over_inflate {
                out.findings.push(unscannable(
                    &loc,
                    &format!(
                        "decompressed past the {}-byte limit; the rest was not read",
                        limits.max_inflate_bytes
                    ),
                ));
            }
            let (data, cut) = (member.data, member.cut && !over_inflate);
            let inner = sniff::sniff(&data);
            if inner.is_container() && !(inner == FileType::Zip && ooxml::looks_like_package(&data))
            {
                out.findings.push(Finding::new(
                    "ARCHIVE_NESTED",
                    Severity::Info,
                    node.loc.child(e.name.clone()),
                    "archive inside an archive",
                ));
            }
            out.add_child(
                node,
                e.name.clone(),
                data,
                cut.then_some(cap),
                &ctx,
                via.clone(),
            );
        }
    }
    out
}

/// Padding (bytes of long single-value runs) from which a member is reported as inflated.
const PADDING_REPORTED: u64 = 16 << 20;

/// A member declaring far more bytes than it compresses to (spec §2.12), reported from the
/// central directory when it is not read (or its padding was not found by reading).
fn declared_inflation(node: &Node<'_>, e: &ZipEntry, out: &mut Output) {
    let limits = &node.budget.limits;
    if e.size > limits.ratio_min_size && e.ratio() > limits.max_ratio {
        out.findings.push(Finding::new(
            "INFLATED_FILE",
            Severity::High,
            node.loc.child(e.name.clone()),
            format!(
                "{} bytes declared from {} compressed (ratio {}:1)",
                e.size,
                e.compressed_size,
                e.ratio()
            ),
        ));
    }
}

fn has_ext(name: &str, list: &[&str]) -> bool {
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| list.contains(&ext.trim().to_ascii_lowercase().as_str()))
}

fn try_limit(encrypted: &[&ZipEntry]) -> usize {
    if encrypted.iter().any(|e| e.aes) {
        20
    } else {
        100
    }
}

/// Try the candidates on the smallest encrypted entry; a ZipCrypto hit is confirmed by the CRC of
/// the whole entry (the header check alone accepts 1 wrong password in 256).
fn find_password(
    node: &Node<'_>,
    z: &mut Zip<'_>,
    encrypted: &[&ZipEntry],
) -> Option<(String, PasswordSource)> {
    let probe = encrypted.iter().min_by_key(|e| e.size)?.index;
    let limit = try_limit(encrypted).min(node.budget.limits.max_password_tries.max(20));
    for (pw, src) in node.ctx.passwords.iter().take(limit) {
        if node.budget.timed_out() {
            return None;
        }
        match z.read(probe, Some(pw.as_bytes()), node.budget.entry_cap()) {
            Ok(_) => return Some((pw.clone(), *src)),
            Err(ZipError::WrongPassword { .. }) => continue,
            Err(_) => continue,
        }
    }
    None
}
