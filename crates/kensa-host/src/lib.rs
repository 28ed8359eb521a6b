//! Host checks for `kensa host check` (live, Windows) and `kensa host triage` (collected
//! artefacts): the parsers for what a PC holds (registry hives, `.reg` exports, task XML, process
//! lists, file listings), the sources that fill a [`model::HostData`], and the checks over it.

pub mod checks;
pub mod emocheck;
pub mod hive;
pub mod keys;
pub mod listing;
pub mod live;
pub mod model;
pub mod paths;
pub mod proclist;
pub mod regexport;
pub mod registry;
pub mod task;
pub mod triage;

/// `kensa host check`: the live collection, plus the hives of logged-off users read from their
/// `NTUSER.DAT` files (readable with administrator rights).
#[cfg(windows)]
pub fn collect_live() -> model::HostData {
    let mut d = live::collect(&live::LiveOptions::default());
    for (user, path) in std::mem::take(&mut d.unloaded_user_hives) {
        match std::fs::read(&path) {
            Ok(bytes) => triage::hivefile::add_user_hive(&mut d, &user, &path, bytes, Vec::new()),
            Err(e) => d.problems.push(model::Problem {
                what: path.clone(),
                why: format!("hive of a logged-off user not readable: {e} (run as administrator)"),
            }),
        }
    }
    d
}

/// Whether the user's Windows UI language is Japanese (EmoCheck: `GetUserDefaultLangID` 0x0411).
#[cfg(windows)]
pub fn ui_language_is_japanese() -> bool {
    // SAFETY: no arguments; returns the language identifier.
    let id = unsafe { windows_sys::Win32::Globalization::GetUserDefaultUILanguage() };
    id & 0x3FF == 0x11
}

/// Whether this process has its console to itself: started by a double-click in Explorer rather
/// than from a command prompt (EmoCheck then pauses before its window closes).
#[cfg(windows)]
pub fn started_by_double_click() -> bool {
    let mut ids = [0u32; 2];
    // SAFETY: the buffer holds 2 process IDs, the count passed.
    let n =
        unsafe { windows_sys::Win32::System::Console::GetConsoleProcessList(ids.as_mut_ptr(), 2) };
    n == 1
}
