//! Office macro policy, per installed version and application (host spec: the audit the issue
//! asks for). `Security\VBAWarnings`: 1 enable all, 2 disable with notification (default),
//! 3 signed only, 4 disable all. `Security\blockcontentexecutionfrominternet`: 1 blocks macros in
//! files from the internet (the default since 2022); 0 is an explicit opt-out. Policy keys
//! (`Software\Policies\…`) win over the user's own settings, as Office reads them.

use kensa_core::Severity;

use crate::model::Hive;

use super::{Ctx, key_display};

const ROOTS_USER: [&str; 2] = [
    r"Software\Policies\Microsoft\Office",
    r"Software\Microsoft\Office",
];
const ROOTS_MACHINE: [&str; 1] = [r"Policies\Microsoft\Office"];

fn is_version(s: &str) -> bool {
    s.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && a.bytes().chain(b.bytes()).all(|c| c.is_ascii_digit())
    })
}

pub fn check(ctx: &mut Ctx<'_>) {
    let mut weak = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for hive in ctx.data.registry.hives() {
        let roots: &[&str] = match hive {
            Hive::User(_) => &ROOTS_USER,
            Hive::Software => &ROOTS_MACHINE,
            Hive::System => &[],
        };
        for root in roots {
            for k in ctx.data.registry.under(&hive, root) {
                // <root>\<version>\<app>\Security
                let rest = k
                    .path
                    .get(root.len()..)
                    .unwrap_or("")
                    .trim_start_matches('\\');
                let parts: Vec<&str> = rest.split('\\').collect();
                let [ver, app, sec] = parts[..] else { continue };
                if !is_version(ver) || !sec.eq_ignore_ascii_case("Security") {
                    continue;
                }
                let get = |n: &str| {
                    k.values
                        .iter()
                        .find(|v| v.name.eq_ignore_ascii_case(n))
                        .and_then(|v| v.dword())
                };
                let warn = get("VBAWarnings");
                let block = get("blockcontentexecutionfrominternet");
                seen.push(format!(
                    "Office {ver} {app}: VBAWarnings {}, internet macros {}",
                    warn.map_or("not set (2, notify)".to_string(), |w| w.to_string()),
                    match block {
                        Some(0) => "allowed",
                        Some(_) => "blocked",
                        None => "default (blocked in current Office)",
                    }
                ));
                let key = key_display(&hive, &k.path);
                if warn == Some(1) {
                    weak.push((
                        key.clone(),
                        format!(
                            "Office {ver} {app}: VBAWarnings = 1 (all macros run without asking)"
                        ),
                    ));
                }
                if block == Some(0) {
                    weak.push((key, format!("Office {ver} {app}: blockcontentexecutionfrominternet = 0 (macros in files from the internet are not blocked)")));
                }
            }
        }
    }
    for (key, ev) in weak {
        let loc = ctx.loc(&[&key]);
        ctx.add("HOST_OFFICE_MACROS_ENABLED", Severity::Medium, loc, ev);
    }
    if !seen.is_empty() {
        let loc = ctx.loc(&["Office"]);
        ctx.add("HOST_OFFICE_POLICY", Severity::Info, loc, seen.join("; "));
    }
}
