//! Follow-up families Emotet dropped (host spec §5): QakBot, IcedID, TrickBot, Ursnif. Each rule
//! is a public detection (Sigma, Splunk, Microsoft hunting queries) named in the evidence.

use kensa_core::Severity;

use crate::model::Hive;
use crate::paths::{Lolbin, Place, classify, file_name, split_command};
use crate::registry::REG_BINARY;

use super::autoruns::{AutorunKind, effective_target};
use super::{Ctx, key_display};

/// Ursnif's key (SigmaHQ registry_add_malware_ursnif.yml).
const URSNIF_GUID: &str = "{3A861D62-51E0-7C9D-AB0E-15700F2219A4}";
const APPDATALOW: &str = r"Software\AppDataLow\Software\Microsoft";

fn is_hex8(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_guid(s: &str) -> bool {
    crate::paths::is_guid_only(s)
}

pub fn check(ctx: &mut Ctx<'_>) {
    let mut hits: Vec<(&'static str, Severity, kensa_core::Location, String)> = Vec::new();
    for a in &ctx.autoruns {
        let lower = a.command.to_ascii_lowercase();
        let (bin, target) = effective_target(&a.command);
        let tl = target.to_ascii_lowercase();
        if matches!(a.kind, AutorunKind::Run | AutorunKind::RunOnce)
            && lower.contains(r"\appdata\roaming\microsoft\")
        {
            hits.push(("HOST_QAKBOT", Severity::High, a.location.clone(), format!("{} (Run entry into AppData\\Roaming\\Microsoft: Microsoft 365 Defender QakBot hunting query)", a.raw)));
        }
        if bin == Some(Lolbin::Regsvr32) && tl.contains(r"\programdata\") && tl.ends_with(".tmp") {
            hits.push((
                "HOST_QAKBOT",
                Severity::Critical,
                a.location.clone(),
                format!(
                    "{} (regsvr32 on a .tmp file in ProgramData: Sigma QBot rule)",
                    a.raw
                ),
            ));
        }
        if bin == Some(Lolbin::Rundll32) {
            let args = split_command(&a.command).args.to_ascii_lowercase();
            if args.contains("/i:") {
                hits.push((
                    "HOST_ICEDID",
                    Severity::Critical,
                    a.location.clone(),
                    format!("{} (rundll32 with /i:, Splunk IcedID rule)", a.raw),
                ));
            }
            let stem = file_name(&target)
                .rsplit_once('.')
                .map_or("", |(s, _)| s)
                .to_string();
            if !stem.is_empty()
                && stem.bytes().all(|b| b.is_ascii_digit())
                && args.contains("dllregisterserver")
            {
                hits.push((
                    "HOST_ICEDID",
                    Severity::High,
                    a.location.clone(),
                    format!(
                        "{} (rundll32 on a numbered DLL's DllRegisterServer, Sigma IcedID rule)",
                        a.raw
                    ),
                ));
            }
        }
        if a.kind == AutorunKind::Task {
            let place = classify(&target);
            if bin == Some(Lolbin::Rundll32)
                && matches!(place, Place::UserWritable(_) | Place::Other)
                && !target.is_empty()
            {
                hits.push(("HOST_TRICKBOT", Severity::High, a.location.clone(), format!("{} (task runs a DLL outside the system folders through rundll32: TrickBot and IcedID persist this way)", a.raw)));
            } else if place == Place::UserWritable("AppData\\Roaming") {
                hits.push((
                    "HOST_TRICKBOT",
                    Severity::High,
                    a.location.clone(),
                    format!(
                        "{} (task runs a program under AppData\\Roaming, as TrickBot does)",
                        a.raw
                    ),
                ));
            }
        }
    }
    for f in ctx.data.files.iter().filter(|f| !f.is_dir) {
        if file_name(&f.path).eq_ignore_ascii_case("license.dat")
            && matches!(
                classify(&f.path),
                Place::UserWritable("AppData\\Roaming" | "ProgramData")
            )
        {
            hits.push((
                "HOST_ICEDID",
                Severity::High,
                ctx.loc(&[&f.path]),
                "license.dat (the encrypted IcedID payload: Splunk drop_icedid_license_dat)"
                    .to_string(),
            ));
        }
    }
    for hive in ctx.data.registry.hives() {
        let Hive::User(_) = hive else { continue };
        // QakBot: ≥ 5 hex-named binary values under one random key of Software\Microsoft.
        for k in ctx.data.registry.under(&hive, r"Software\Microsoft") {
            if k.path.matches('\\').count() != 2 || k.path.len() >= 80 {
                continue;
            }
            let n = k
                .values
                .iter()
                .filter(|v| v.kind == REG_BINARY && is_hex8(&v.name))
                .count();
            if n >= 5 {
                hits.push(("HOST_QAKBOT", Severity::Critical, ctx.loc(&[&key_display(&hive, &k.path)]), format!("{n} binary values named by 8 hex digits (QakBot's encrypted configuration: Splunk rule after Trustwave)")));
            }
        }
        if let Some(k) = ctx.data.registry.get(&hive, APPDATALOW) {
            for sub in &k.subkeys {
                if sub.eq_ignore_ascii_case(URSNIF_GUID) {
                    hits.push((
                        "HOST_URSNIF",
                        Severity::Critical,
                        ctx.loc(&[&key_display(&hive, &format!(r"{APPDATALOW}\{sub}"))]),
                        "Ursnif's key (Sigma registry_add_malware_ursnif)".to_string(),
                    ));
                } else if is_guid(sub) {
                    hits.push(("HOST_URSNIF", Severity::Medium, ctx.loc(&[&key_display(&hive, &format!(r"{APPDATALOW}\{sub}"))]), "a GUID-named key where Ursnif keeps its data (plausible, not a published indicator)".to_string()));
                }
            }
        }
    }
    for (sym, sev, loc, ev) in hits {
        ctx.add(sym, sev, loc, ev);
    }
}
