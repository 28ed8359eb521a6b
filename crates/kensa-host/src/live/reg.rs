//! Registry: the keys of [`WANTED`] from HKLM\SOFTWARE (64-bit view), HKLM\SYSTEM and every
//! loaded user hive, plus the user profiles of `ProfileList`.
//!
//! Per key: its values (`RegEnumValueW`: name, type, raw data), its subkey names
//! (`RegEnumKeyExW`) and its last-written FILETIME (`RegQueryInfoKeyW`), then `depth` levels of
//! subkeys, walked with an explicit stack. A missing key is normal; any other failure (access
//! denied first of all) is a problem.
//!
//! Limits: [`MAX_VALUES`] values and [`MAX_SUBKEYS`] subkeys per key, [`MAX_VALUE_DATA`] bytes per
//! value (a larger value is kept with empty data and reported), value names up to the API's
//! 16,383 characters, [`MAX_KEYS`] keys in all, [`MAX_USER_HIVES`] user hives.

use std::collections::HashMap;

use windows_sys::Win32::Foundation::{
    ERROR_ACCESS_DENIED, ERROR_FILE_NOT_FOUND, ERROR_MORE_DATA, ERROR_NO_MORE_ITEMS,
    ERROR_PATH_NOT_FOUND, FILETIME,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_CURRENT_USER, HKEY_LOCAL_MACHINE, HKEY_USERS, KEY_ENUMERATE_SUB_KEYS,
    KEY_QUERY_VALUE, KEY_WOW64_64KEY, RegCloseKey, RegEnumKeyExW, RegEnumValueW, RegOpenKeyExW,
    RegQueryInfoKeyW,
};

use super::pure::{self, SidKind, Tally};
use super::win;
use crate::keys::{Root, WANTED};
use crate::model::{Hive, HostData, KeyData, Problem, UserProfile};
use crate::registry::RegValue;

/// Values read per key.
pub const MAX_VALUES: usize = 16_384;
/// Subkey names listed per key.
pub const MAX_SUBKEYS: usize = 16_384;
/// Bytes of data read per value.
pub const MAX_VALUE_DATA: usize = 1 << 20;
/// Keys read in all (every hive, every wanted entry).
pub const MAX_KEYS: usize = 100_000;
/// `HKEY_USERS` / `ProfileList` entries considered.
pub const MAX_USER_HIVES: usize = 1024;
/// Value-name buffer: the API's 16,383 characters plus the NUL.
const VALUE_NAME_UNITS: usize = 16_384;
/// Key-name buffer: key names have at most 255 characters.
const KEY_NAME_UNITS: usize = 256;

const PROFILE_LIST: &str = r"SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList";

/// An open registry key, closed on drop.
struct Key(HKEY);

impl Drop for Key {
    fn drop(&mut self) {
        // SAFETY: the key was opened by RegOpenKeyExW and is owned by this value only.
        unsafe { RegCloseKey(self.0) };
    }
}

/// Where a hive's keys are opened: a predefined root plus a path prefix.
struct HiveRoot {
    hive: Hive,
    hkey: HKEY,
    /// Prefix of every path below the root, with its trailing backslash (`SOFTWARE\`, `<SID>\`).
    prefix: String,
    /// How problems name the root (`HKLM\SOFTWARE`, `HKU\<SID>`, `HKCU`).
    label: String,
}

/// Fills `data.users`, `data.unloaded_user_hives` and `data.registry` (and problems).
pub(super) fn collect(data: &mut HostData) {
    let mut walker = Walker::default();
    let mut roots = user_roots(data);
    roots.push(HiveRoot {
        hive: Hive::Software,
        hkey: HKEY_LOCAL_MACHINE,
        prefix: r"SOFTWARE\".into(),
        label: r"HKLM\SOFTWARE".into(),
    });
    roots.push(HiveRoot {
        hive: Hive::System,
        hkey: HKEY_LOCAL_MACHINE,
        prefix: r"SYSTEM\".into(),
        label: r"HKLM\SYSTEM".into(),
    });
    for root in &roots {
        let kind = match root.hive {
            Hive::Software => Root::Software,
            Hive::System => Root::System,
            Hive::User(_) => Root::User,
        };
        for w in WANTED.iter().filter(|w| w.root == kind) {
            walker.walk(root, w.path, w.depth, data);
        }
    }
    if walker.keys_read >= MAX_KEYS {
        data.problems.push(Problem {
            what: "registry".into(),
            why: format!("stopped after {MAX_KEYS} keys: the rest was not read"),
        });
    }
}

/// The user hives to read, filling `users` and `unloaded_user_hives` on the way.
fn user_roots(data: &mut HostData) -> Vec<HiveRoot> {
    let profiles = profile_list(data);
    let loaded: Vec<String> = match subkey_names_of(HKEY_USERS) {
        Ok((names, _)) => names
            .into_iter()
            .filter(|n| pure::classify_sid(n) != SidKind::Other)
            .take(MAX_USER_HIVES)
            .collect(),
        Err(code) => {
            data.problems.push(Problem {
                what: "HKEY_USERS (list of loaded user hives)".into(),
                why: pure::describe_win32(code),
            });
            Vec::new()
        }
    };
    for (sid, dir) in &profiles {
        data.users.push(UserProfile {
            name: sid.clone(),
            profile_dir: dir.clone(),
        });
        let is_loaded = loaded.iter().any(|l| l.eq_ignore_ascii_case(sid));
        if !is_loaded && pure::classify_sid(sid) == SidKind::User {
            data.unloaded_user_hives
                .push((sid.clone(), pure::join(dir, "NTUSER.DAT")));
        }
    }
    let mut roots: Vec<HiveRoot> = loaded
        .iter()
        .map(|sid| HiveRoot {
            hive: Hive::User(sid.clone()),
            hkey: HKEY_USERS,
            prefix: format!("{sid}\\"),
            label: format!(r"HKU\{sid}"),
        })
        .collect();
    if !loaded
        .iter()
        .any(|s| pure::classify_sid(s) == SidKind::User)
    {
        // No account hive under HKEY_USERS (Wine, or listing denied): the current user's HKCU.
        let name = win::env("USERNAME").unwrap_or_else(|| "current user".into());
        if let Some(dir) = win::env("USERPROFILE")
            && !data
                .users
                .iter()
                .any(|u| u.profile_dir.eq_ignore_ascii_case(&dir))
        {
            data.users.push(UserProfile {
                name: name.clone(),
                profile_dir: dir,
            });
        }
        roots.push(HiveRoot {
            hive: Hive::User(name),
            hkey: HKEY_CURRENT_USER,
            prefix: String::new(),
            label: "HKCU".into(),
        });
    }
    roots
}

/// `(SID, expanded ProfileImagePath)` of every account and service profile in `ProfileList`.
fn profile_list(data: &mut HostData) -> Vec<(String, String)> {
    let key = match open(HKEY_LOCAL_MACHINE, PROFILE_LIST) {
        Ok(k) => k,
        Err(code) => {
            if !is_missing(code) {
                data.problems.push(Problem {
                    what: format!(r"HKLM\{PROFILE_LIST}"),
                    why: pure::describe_win32(code),
                });
            }
            return Vec::new();
        }
    };
    let names = match subkey_names_of(key.0) {
        Ok((n, _)) => n,
        Err(code) => {
            data.problems.push(Problem {
                what: format!(r"HKLM\{PROFILE_LIST}"),
                why: pure::describe_win32(code),
            });
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for sid in names
        .into_iter()
        .filter(|n| pure::classify_sid(n) != SidKind::Other)
    {
        if out.len() >= MAX_USER_HIVES {
            break;
        }
        let path = format!(r"{PROFILE_LIST}\{sid}");
        let dir = open(HKEY_LOCAL_MACHINE, &path)
            .ok()
            .and_then(|k| read_key(&k, path).ok())
            .and_then(|(kd, _)| {
                kd.values
                    .iter()
                    .find(|v| v.name.eq_ignore_ascii_case("ProfileImagePath"))
                    .and_then(RegValue::text)
            });
        match dir {
            Some(d) if !d.is_empty() => out.push((sid, win::expand(&d))),
            _ => data.problems.push(Problem {
                what: format!(r"HKLM\{PROFILE_LIST}\{sid}\ProfileImagePath"),
                why: "missing or unreadable: this profile's files are not listed".into(),
            }),
        }
    }
    out
}

/// Walks wanted keys, remembering how deep each key was already read.
#[derive(Default)]
struct Walker {
    /// (hive label, lowercase path) → the largest remaining depth already walked from it.
    done: HashMap<(String, String), u8>,
    keys_read: usize,
}

impl Walker {
    /// Reads `path` and `depth` levels below it into `data.registry`.
    fn walk(&mut self, root: &HiveRoot, path: &str, depth: u8, data: &mut HostData) {
        let mut denied = Tally::default();
        let mut stack = vec![(path.to_string(), depth)];
        while let Some((rel, left)) = stack.pop() {
            if self.keys_read >= MAX_KEYS {
                return;
            }
            let id = (root.label.clone(), rel.to_lowercase());
            if self.done.get(&id).is_some_and(|&d| d >= left) {
                continue;
            }
            self.done.insert(id, left);
            let full = format!("{}{rel}", root.prefix);
            let key = match open(root.hkey, &full) {
                Ok(k) => k,
                Err(code) if is_missing(code) => continue,
                Err(code) if rel != path && code == ERROR_ACCESS_DENIED => {
                    denied.add(rel);
                    continue;
                }
                Err(code) => {
                    data.problems.push(Problem {
                        what: format!(r"{}\{rel}", root.label),
                        why: pure::describe_win32(code),
                    });
                    continue;
                }
            };
            self.keys_read += 1;
            match read_key(&key, rel.clone()) {
                Ok((kd, notes)) => {
                    for note in notes {
                        data.problems.push(Problem {
                            what: format!(r"{}\{rel}", root.label),
                            why: note,
                        });
                    }
                    if left > 0 {
                        for sub in kd.subkeys.iter().rev() {
                            stack.push((format!(r"{rel}\{sub}"), left - 1));
                        }
                    }
                    data.registry.insert(root.hive.clone(), kd);
                }
                Err(code) => data.problems.push(Problem {
                    what: format!(r"{}\{rel}", root.label),
                    why: pure::describe_win32(code),
                }),
            }
        }
        if let Some(s) = denied.summary("subkeys could not be opened") {
            data.problems.push(Problem {
                what: format!(r"{}\{path}", root.label),
                why: format!("{s}: access denied (run as administrator to read them)"),
            });
        }
    }
}

fn is_missing(code: u32) -> bool {
    code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND
}

/// Opens `path` below `root` for reading values and subkeys (64-bit view).
fn open(root: HKEY, path: &str) -> Result<Key, u32> {
    let w = pure::to_wide_nul(path);
    let mut h: HKEY = std::ptr::null_mut();
    let access = KEY_QUERY_VALUE | KEY_ENUMERATE_SUB_KEYS | KEY_WOW64_64KEY;
    // SAFETY: `w` is NUL-terminated and `h` a valid out pointer.
    let rc = unsafe { RegOpenKeyExW(root, w.as_ptr(), 0, access, &mut h) };
    if rc == 0 { Ok(Key(h)) } else { Err(rc) }
}

/// Counts and sizes from `RegQueryInfoKeyW`.
struct Info {
    subkeys: usize,
    values: usize,
    max_value_name: usize,
    max_value_data: usize,
    last_written: u64,
}

fn query_info(h: HKEY) -> Result<Info, u32> {
    let (mut subkeys, mut values, mut max_name, mut max_data) = (0u32, 0u32, 0u32, 0u32);
    let mut ft = FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    use std::ptr::{null, null_mut};
    // SAFETY: every non-null pointer is a valid out pointer; the class buffer is not requested.
    let rc = unsafe {
        RegQueryInfoKeyW(
            h,
            null_mut(),
            null_mut(),
            null(),
            &mut subkeys,
            null_mut(),
            null_mut(),
            &mut values,
            &mut max_name,
            &mut max_data,
            null_mut(),
            &mut ft,
        )
    };
    if rc != 0 {
        return Err(rc);
    }
    Ok(Info {
        subkeys: subkeys as usize,
        values: values as usize,
        max_value_name: max_name as usize,
        max_value_data: max_data as usize,
        last_written: pure::filetime(ft.dwHighDateTime, ft.dwLowDateTime),
    })
}

/// Subkey names of an open key (or predefined root), and whether the cap cut the list.
fn subkey_names_of(h: HKEY) -> Result<(Vec<String>, bool), u32> {
    let mut names = Vec::new();
    let mut buf = vec![0u16; KEY_NAME_UNITS];
    for i in 0..=MAX_SUBKEYS as u32 {
        let mut len = buf.len() as u32;
        // SAFETY: `buf` holds `len` writable units; the class and time outputs are not requested.
        let rc = unsafe { enum_key(h, i, &mut buf, &mut len) };
        match rc {
            0 if names.len() == MAX_SUBKEYS => return Ok((names, true)),
            0 => names.push(pure::wide_to_string(
                buf.get(..len as usize).unwrap_or(&buf),
            )),
            ERROR_NO_MORE_ITEMS => break,
            ERROR_MORE_DATA if buf.len() < VALUE_NAME_UNITS => {
                buf = vec![0u16; VALUE_NAME_UNITS];
                // Retry the same index with the larger buffer.
                let mut len = buf.len() as u32;
                // SAFETY: as above.
                let rc = unsafe { enum_key(h, i, &mut buf, &mut len) };
                if rc != 0 {
                    return Err(rc);
                }
                names.push(pure::wide_to_string(
                    buf.get(..len as usize).unwrap_or(&buf),
                ));
            }
            other => return Err(other),
        }
    }
    Ok((names, false))
}

/// `RegEnumKeyExW` for the name only.
///
/// # Safety
/// `h` must be an open key or a predefined root; `*len` must not exceed `buf.len()`.
unsafe fn enum_key(h: HKEY, i: u32, buf: &mut [u16], len: &mut u32) -> u32 {
    use std::ptr::{null, null_mut};
    // SAFETY: per the contract; class and time outputs are not requested.
    unsafe {
        RegEnumKeyExW(
            h,
            i,
            buf.as_mut_ptr(),
            len,
            null(),
            null_mut(),
            null_mut(),
            null_mut(),
        )
    }
}

/// Reads one open key: values, subkey names, last-written time. The notes are partial failures
/// (caps reached, a value too large) to report as problems.
fn read_key(key: &Key, path: String) -> Result<(KeyData, Vec<String>), u32> {
    let info = query_info(key.0)?;
    let mut notes = Vec::new();
    let (subkeys, cut) = subkey_names_of(key.0)?;
    if cut || info.subkeys > MAX_SUBKEYS {
        notes.push(format!(
            "{} subkeys: only the first {MAX_SUBKEYS} were listed",
            info.subkeys
        ));
    }
    let values = read_values(key.0, &info, &mut notes)?;
    Ok((
        KeyData {
            path,
            last_written: Some(info.last_written),
            values,
            subkeys,
        },
        notes,
    ))
}

/// Every value of a key, up to the caps.
fn read_values(h: HKEY, info: &Info, notes: &mut Vec<String>) -> Result<Vec<RegValue>, u32> {
    if info.values > MAX_VALUES {
        notes.push(format!(
            "{} values: only the first {MAX_VALUES} were read",
            info.values
        ));
    }
    let mut name = vec![0u16; (info.max_value_name + 1).clamp(256, VALUE_NAME_UNITS)];
    let mut data = vec![0u8; info.max_value_data.clamp(64, MAX_VALUE_DATA)];
    let mut out = Vec::new();
    let mut i = 0u32;
    let mut retries = 0;
    while out.len() < MAX_VALUES {
        let mut name_len = name.len() as u32;
        let mut data_len = data.len() as u32;
        let mut kind = 0u32;
        // SAFETY: `name` holds `name_len` units and `data` `data_len` bytes, both writable.
        let rc = unsafe {
            RegEnumValueW(
                h,
                i,
                name.as_mut_ptr(),
                &mut name_len,
                std::ptr::null(),
                &mut kind,
                data.as_mut_ptr(),
                &mut data_len,
            )
        };
        match rc {
            0 => {
                let n = pure::wide_to_string(name.get(..name_len as usize).unwrap_or(&name));
                let d = data.get(..data_len as usize).unwrap_or(&data).to_vec();
                out.push(RegValue {
                    name: n,
                    kind,
                    data: d,
                });
            }
            ERROR_NO_MORE_ITEMS => break,
            ERROR_MORE_DATA => {
                // The value grew since RegQueryInfoKeyW, or is over the cap: ask for its size.
                let (n, k, size) = match value_size(h, i, &mut name) {
                    Ok(v) => v,
                    Err(code) => {
                        notes.push(format!(
                            "value #{i}: {}: later values not read",
                            pure::describe_win32(code)
                        ));
                        break;
                    }
                };
                if size > MAX_VALUE_DATA {
                    notes.push(format!("value {n:?}: {size} bytes, over the {MAX_VALUE_DATA}-byte cap: data not read"));
                    out.push(RegValue {
                        name: n,
                        kind: k,
                        data: Vec::new(),
                    });
                } else if retries < 3 {
                    data = vec![0u8; size.max(data.len())];
                    retries += 1;
                    continue;
                } else {
                    notes.push(format!("value {n:?} kept changing size: data not read"));
                    out.push(RegValue {
                        name: n,
                        kind: k,
                        data: Vec::new(),
                    });
                }
            }
            other if i == 0 => return Err(other),
            other => {
                notes.push(format!(
                    "value #{i}: {}: later values not read",
                    pure::describe_win32(other)
                ));
                break;
            }
        }
        retries = 0;
        i += 1;
    }
    Ok(out)
}

/// Name, type and data size of value `i`, without its data.
fn value_size(h: HKEY, i: u32, name: &mut [u16]) -> Result<(String, u32, usize), u32> {
    let mut name_len = name.len() as u32;
    let (mut kind, mut size) = (0u32, 0u32);
    // SAFETY: `name` holds `name_len` writable units; no data buffer is passed.
    let rc = unsafe {
        RegEnumValueW(
            h,
            i,
            name.as_mut_ptr(),
            &mut name_len,
            std::ptr::null(),
            &mut kind,
            std::ptr::null_mut(),
            &mut size,
        )
    };
    if rc != 0 {
        return Err(rc);
    }
    let n = pure::wide_to_string(name.get(..name_len as usize).unwrap_or(name));
    Ok((n, kind, size as usize))
}
