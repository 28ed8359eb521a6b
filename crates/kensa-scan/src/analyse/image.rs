//! Disk images (spec §2.9): ISO 9660/Joliet listed and every file analysed; UDF-only, raw FAT/NTFS
//! volumes and VHD/VHDX recognised but not listed, which is said. Containers like these carried
//! Qakbot/IcedID/Emotet LNK + DLL pairs past Mark-of-the-Web until November 2022.

use kensa_core::{Finding, Severity};
use kensa_formats::iso::{self, ImageKind};

use super::Output;
use crate::walk::{Node, unscannable};

pub(crate) fn analyse(node: &Node<'_>) -> Output {
    let mut out = Output::default();
    let image = match iso::open(node.data, node.budget.limits.max_members.saturating_add(1)) {
        Ok(i) => i,
        Err(e) => {
            out.findings
                .push(unscannable(node.loc, &format!("disk image: {e}")));
            return out;
        }
    };
    let runnable: Vec<String> = image
        .files
        .iter()
        .filter(|f| super::exec::is_runnable_name(&f.path))
        .map(|f| {
            let name = f.path.trim_start_matches('/');
            if f.hidden {
                format!("{name} (hidden)")
            } else {
                name.to_string()
            }
        })
        .collect();
    let hidden = image.files.iter().filter(|f| f.hidden).count();
    let mut what = format!(
        "{} image{}, {} file(s){}",
        image.kind.name(),
        image
            .label
            .as_deref()
            .map(|l| format!(" \"{l}\""))
            .unwrap_or_default(),
        image.files.len(),
        if hidden > 0 {
            format!(", {hidden} hidden")
        } else {
            String::new()
        }
    );
    // A disk image is an odd attachment; one holding shortcuts, scripts or programs is how the
    // 2022 loaders shipped. Given directly, an image is reported, not condemned, unless it holds them.
    let severity = if !runnable.is_empty() {
        what.push_str(&format!("; runnable: {}", runnable.join(", ")));
        Severity::Critical
    } else if node.ctx.depth == 0 {
        Severity::Info
    } else {
        Severity::High
    };
    out.findings
        .push(Finding::new("DISK_IMAGE", severity, node.loc.clone(), what));
    if !image.listed {
        out.findings.push(unscannable(
            node.loc,
            &format!(
                "{} file system not read; its files were not inspected",
                image.kind.name()
            ),
        ));
        return out;
    }
    if let ImageKind::Iso9660 { udf: true, .. } = image.kind {
        out.findings.push(unscannable(
            node.loc,
            "UDF tree not read (Windows mounts it first); files only there were not inspected",
        ));
    }
    if image.truncated || image.files.iter().any(|f| f.is_truncated()) {
        let mut why = "image cut short or over the limits; not every file was read".to_string();
        for note in image.notes.iter().take(3) {
            why.push_str("; ");
            why.push_str(note);
        }
        out.findings.push(unscannable(node.loc, &why));
    }
    let mut ctx = node.ctx.clone();
    ctx.depth += 1;
    ctx.in_archive = true;
    for f in &image.files {
        let cap = node.budget.entry_cap();
        let bytes = iso::file_bytes(node.data, f);
        let cut = (bytes.len() > cap).then_some(cap);
        let data = bytes[..bytes.len().min(cap)].to_vec();
        let name = f.path.trim_start_matches('/').to_string();
        out.add_child(node, name, data, cut, &ctx, None);
    }
    out
}
