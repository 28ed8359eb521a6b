//! The registry keys the checks read, so every source (live, hive file, `.reg` export) collects the
//! same ones and no more: a live check must stay fast, and a hive walk must stay bounded.

/// Which root a wanted key lives under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Root {
    /// HKLM\SOFTWARE.
    Software,
    /// HKLM\SYSTEM, with `CurrentControlSet` resolved (hive files: through `Select\Current`).
    System,
    /// Each user's HKCU (HKU\<SID> live; NTUSER.DAT offline).
    User,
}

/// A key to read, with `depth` levels of subkeys below it (0 = the key and its values only; its
/// subkey names are always listed).
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub root: Root,
    pub path: &'static str,
    pub depth: u8,
}

const fn w(root: Root, path: &'static str, depth: u8) -> Wanted {
    Wanted { root, path, depth }
}

/// Autostart keys under both HKCU and HKLM\SOFTWARE (host spec §5).
const RUN: &str = r"Microsoft\Windows\CurrentVersion\Run";

pub const WANTED: &[Wanted] = &[
    // HKCU
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Run",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\RunOnce",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Policies\Explorer\Run",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run",
        0,
    ),
    // EmoCheck v2: the XOR-encoded name under a value named after the volume serial.
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Explorer",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows\CurrentVersion\Explorer\User Shell Folders",
        0,
    ),
    w(
        Root::User,
        r"Software\Microsoft\Windows NT\CurrentVersion\Winlogon",
        0,
    ),
    // Ursnif: GUID keys under AppDataLow.
    w(Root::User, r"Software\AppDataLow\Software\Microsoft", 2),
    // QakBot: a random key under Software\Microsoft holding hex-named binary values.
    w(Root::User, r"Software\Microsoft", 1),
    // Office macro policy, per version and application.
    w(Root::User, r"Software\Microsoft\Office", 3),
    w(Root::User, r"Software\Policies\Microsoft\Office", 3),
    // HKLM\SOFTWARE
    w(Root::Software, RUN, 0),
    w(
        Root::Software,
        r"Microsoft\Windows\CurrentVersion\RunOnce",
        0,
    ),
    w(
        Root::Software,
        r"Microsoft\Windows\CurrentVersion\Policies\Explorer\Run",
        0,
    ),
    w(
        Root::Software,
        r"WOW6432Node\Microsoft\Windows\CurrentVersion\Run",
        0,
    ),
    w(
        Root::Software,
        r"WOW6432Node\Microsoft\Windows\CurrentVersion\RunOnce",
        0,
    ),
    w(
        Root::Software,
        r"Microsoft\Windows\CurrentVersion\Explorer",
        0,
    ),
    w(
        Root::Software,
        r"WOW6432Node\Microsoft\Windows\CurrentVersion\Explorer",
        0,
    ),
    w(
        Root::Software,
        r"Microsoft\Windows NT\CurrentVersion\Winlogon",
        0,
    ),
    w(
        Root::Software,
        r"Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tree",
        8,
    ),
    w(
        Root::Software,
        r"Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks",
        1,
    ),
    w(Root::Software, r"Policies\Microsoft\Office", 3),
    // HKLM\SYSTEM
    w(Root::System, r"CurrentControlSet\Services", 1),
];
