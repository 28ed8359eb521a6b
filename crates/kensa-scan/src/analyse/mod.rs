//! Analysers: one per kind of node. Each takes a node and returns findings and children; none
//! recurses by itself.

mod dde;
pub(crate) mod exec;
mod html;
mod image;
mod lnk;
mod mail;
mod msg;
mod ole;
mod onenote;
mod ooxml;
mod rtf;
mod script;
mod vba;
mod xlm;
mod zip;

use kensa_core::Finding;
use kensa_formats::sniff::FileType;

use crate::walk::{Child, Context, Node, unscannable};

#[derive(Default)]
pub(crate) struct Output {
    pub findings: Vec<Finding>,
    pub children: Vec<Child>,
}

impl Output {
    /// A child taken out of `node`: its bytes count against the item's budget, and when it was cut
    /// at `cap` (`cut` true) that is reported on it, so a partly read member is never called clean.
    pub(crate) fn add_child(
        &mut self,
        node: &Node<'_>,
        name: String,
        data: Vec<u8>,
        cut: Option<usize>,
        ctx: &Context,
        via: Option<String>,
    ) {
        node.budget.spend(data.len() as u64);
        if let Some(cap) = cut {
            self.findings.push(unscannable(
                &node.loc.child(name.clone()),
                &cut_reason(node, cap),
            ));
        }
        self.children.push(Child {
            name,
            data,
            ctx: ctx.clone(),
            via,
        });
    }
}

/// Why something was cut at `cap`: its own entry cap, or what was left of the item's byte budget.
pub(crate) fn cut_reason(node: &Node<'_>, cap: usize) -> String {
    if (cap as u64) < node.budget.limits.max_entry_bytes {
        format!("byte budget for this item used up; only the first {cap} bytes were inspected")
    } else {
        format!("larger than the {cap}-byte entry cap; only the start was inspected")
    }
}

/// An encrypted attachment in a message that states a password (spec §2.5, §2.6): Emotet's
/// favourite carrier, whatever the content turns out to be. `what` names the container.
pub(crate) fn password_in_body(node: &Node<'_>, what: &str, out: &mut Output) {
    if node.ctx.in_mail && node.ctx.password_in_body {
        out.findings.push(Finding::new(
            "ENCRYPTED_ATTACHMENT_PASSWORD_IN_BODY",
            kensa_core::Severity::Medium,
            node.loc.clone(),
            format!("encrypted {what}; the message states a password"),
        ));
    }
}

pub(crate) fn dispatch(node: &Node<'_>) -> Output {
    match node.kind {
        FileType::Mail | FileType::Mbox => mail::analyse(node),
        FileType::Zip => zip::analyse(node),
        FileType::Ole => ole::analyse(node),
        FileType::Pe => exec::by_content(node),
        FileType::Lnk => lnk::analyse(node),
        FileType::Iso | FileType::Vhd | FileType::Vhdx => image::analyse(node),
        FileType::OneNote => onenote::analyse(node),
        FileType::Rtf => rtf::analyse(node),
        FileType::Text | FileType::Unknown => {
            let mut out = if node.kind == FileType::Text {
                dde::text(node)
            } else {
                Output::default()
            };
            script::findings(node, &mut out);
            out
        }
        FileType::Html => {
            let mut out = html::analyse(node);
            script::findings(node, &mut out);
            out
        }
        FileType::Sylk => {
            let mut out = Output::default();
            xlm::findings(node, &kensa_formats::xlm::scan_slk(node.data), &mut out);
            out
        }
        FileType::SevenZip | FileType::Rar | FileType::Gzip | FileType::ActiveMime => {
            // Containers kensa cannot open yet: say so, never pass them as clean.
            Output {
                findings: vec![crate::walk::unscannable(
                    node.loc,
                    &format!("{} containers are not inspected yet", node.kind.name()),
                )],
                children: Vec::new(),
            }
        }
        _ => Output::default(),
    }
}
