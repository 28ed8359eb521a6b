//! From a hive file to the [`KeyData`] of the keys the checks want (`keys::WANTED`): transaction
//! logs applied when the hive is dirty and they are present, `CurrentControlSet` resolved through
//! `Select\Current`, every read bounded, and every failure a [`Problem`] with the offset where
//! the hive broke — partial results are kept.

use crate::hive::{Hive, Key, apply_logs};
use crate::keys::{Root, WANTED};
use crate::model::{KeyData, Problem};

/// Keys read from one hive, at most.
const MAX_KEYS: usize = 200_000;

/// What kind of hive a file is, from its root keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HiveKind {
    System,
    Software,
    User,
    /// SAM, SECURITY, UsrClass.dat, Amcache, BCD…: nothing the checks read.
    Other,
}

/// Classify a hive by the keys under its root.
pub fn kind_of(h: &Hive<'_>) -> HiveKind {
    let Ok(root) = h.root() else {
        return HiveKind::Other;
    };
    let (subs, _) = root.subkeys_partial();
    let has = |n: &str| subs.iter().any(|k| k.name().eq_ignore_ascii_case(n));
    if has("Select")
        && subs
            .iter()
            .any(|k| k.name().to_ascii_lowercase().starts_with("controlset"))
    {
        HiveKind::System
    } else if has("Software") && (has("Control Panel") || has("Environment") || has("Console")) {
        HiveKind::User
    } else if has("Microsoft") && (has("Classes") || has("Clients") || has("Policies")) {
        HiveKind::Software
    } else {
        HiveKind::Other
    }
}

/// A hive's bytes after log recovery, and the problems on the way.
pub fn recover(primary: Vec<u8>, logs: &[Vec<u8>], what: &str) -> (Vec<u8>, Vec<Problem>) {
    let mut problems = Vec::new();
    let dirty = Hive::parse(&primary).is_ok_and(|h| h.is_dirty() || !h.base().checksum_valid);
    if !dirty {
        return (primary, problems);
    }
    let seqs = Hive::parse(&primary)
        .map(|h| format!("{}/{}", h.base().primary_seq, h.base().secondary_seq))
        .unwrap_or_default();
    if logs.is_empty() {
        problems.push(Problem {
            what: what.to_string(),
            why: format!(
                "dirty hive (sequence numbers {seqs}) and no .LOG1/.LOG2 beside it: the newest changes may be missing"
            ),
        });
        return (primary, problems);
    }
    let refs: Vec<&[u8]> = logs.iter().map(Vec::as_slice).collect();
    match apply_logs(&primary, &refs) {
        Ok(r) => {
            for p in &r.problems {
                problems.push(Problem {
                    what: what.to_string(),
                    why: format!("transaction log: {p}"),
                });
            }
            (r.data, problems)
        }
        Err(e) => {
            problems.push(Problem {
                what: what.to_string(),
                why: format!(
                    "dirty hive (sequence numbers {seqs}); its logs could not be applied: {e}"
                ),
            });
            (primary, problems)
        }
    }
}

/// The ControlSet the system booted with (`Select\Current`), e.g. `ControlSet001`.
pub fn current_control_set(h: &Hive<'_>) -> Option<String> {
    let sel = h.open("Select").ok()??;
    let n = sel.value("Current").ok()??.dword()?;
    Some(format!("ControlSet{n:03}"))
}

/// The computer name stored in a SYSTEM hive.
pub fn computer_name(h: &Hive<'_>) -> Option<String> {
    let cs = current_control_set(h)?;
    let k = h
        .open(&format!(r"{cs}\Control\ComputerName\ComputerName"))
        .ok()??;
    k.value("ComputerName")
        .ok()??
        .text()
        .filter(|s| !s.is_empty())
}

/// Read the wanted keys of one root from a hive.
pub fn extract(h: &Hive<'_>, root: Root, what: &str) -> (Vec<KeyData>, Vec<Problem>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    let cs = if root == Root::System {
        match current_control_set(h) {
            Some(cs) => Some(cs),
            None => {
                problems.push(Problem {
                    what: what.to_string(),
                    why: r"SYSTEM hive without a readable Select\Current: services not checked"
                        .to_string(),
                });
                return (out, problems);
            }
        }
    } else {
        None
    };
    for w in WANTED.iter().filter(|w| w.root == root) {
        let actual = match &cs {
            Some(cs) => w.path.replacen("CurrentControlSet", cs, 1),
            None => w.path.to_string(),
        };
        match h.open(&actual) {
            Ok(Some(k)) => read_key(k, w.path, w.depth, &mut out, &mut problems, what),
            Ok(None) => {}
            Err(e) => problems.push(Problem {
                what: what.to_string(),
                why: format!(r"key {} not readable: {e}", w.path),
            }),
        }
    }
    (out, problems)
}

fn read_key(
    k: Key<'_>,
    path: &str,
    depth: u8,
    out: &mut Vec<KeyData>,
    problems: &mut Vec<Problem>,
    what: &str,
) {
    if out.len() >= MAX_KEYS {
        return;
    }
    let (values, vproblems) = k.values_partial();
    let (subs, sproblems) = k.subkeys_partial();
    for e in vproblems.iter().chain(&sproblems) {
        problems.push(Problem {
            what: what.to_string(),
            why: format!("key {path} partly unreadable: {e}"),
        });
    }
    out.push(KeyData {
        path: path.to_string(),
        last_written: Some(k.last_written()),
        values,
        subkeys: subs.iter().map(Key::name).collect(),
    });
    if depth == 0 {
        return;
    }
    for s in subs {
        read_key(
            s,
            &format!(r"{path}\{}", s.name()),
            depth - 1,
            out,
            problems,
            what,
        );
    }
}

/// Add one user's hive file (`NTUSER.DAT` bytes, with its logs) to `data` under `user`.
pub fn add_user_hive(
    data: &mut crate::model::HostData,
    user: &str,
    what: &str,
    bytes: Vec<u8>,
    logs: Vec<Vec<u8>>,
) {
    let (bytes, problems) = recover(bytes, &logs, what);
    data.problems.extend(problems);
    let h = match Hive::parse(&bytes) {
        Ok(h) => h,
        Err(e) => {
            data.problems.push(Problem {
                what: what.to_string(),
                why: format!("not a readable hive: {e}"),
            });
            return;
        }
    };
    let (keys, problems) = extract(&h, Root::User, what);
    data.problems.extend(problems);
    for k in keys {
        data.registry
            .insert(crate::model::Hive::User(user.to_string()), k);
    }
}
