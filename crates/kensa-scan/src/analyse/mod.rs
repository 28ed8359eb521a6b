//! Analysers: one per kind of node. Each takes a node and returns findings and children; none
//! recurses by itself.

mod dde;
pub(crate) mod exec;
mod lnk;
mod mail;
mod ole;
mod ooxml;
mod rtf;
mod vba;
mod xlm;
mod zip;

use kensa_core::Finding;
use kensa_formats::sniff::FileType;

use crate::walk::{Child, Node};

#[derive(Default)]
pub(crate) struct Output {
    pub findings: Vec<Finding>,
    pub children: Vec<Child>,
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
        FileType::Rtf => rtf::analyse(node),
        FileType::Text => dde::text(node),
        FileType::Sylk => {
            let mut out = Output::default();
            xlm::findings(node, &kensa_formats::xlm::scan_slk(node.data), &mut out);
            out
        }
        FileType::SevenZip
        | FileType::Rar
        | FileType::Gzip
        | FileType::Iso
        | FileType::Vhd
        | FileType::Vhdx
        | FileType::OneNote
        | FileType::ActiveMime => {
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
