//! Windows paths and command lines for the persistence rules (`host.md` §5), pure and
//! case-insensitive.
//!
//! - [`Env`]: `%VAR%` expansion as `ExpandEnvironmentStrings` does it (names case-insensitive,
//!   unknown variables and `$(Arg0)` task placeholders left as written), with defaults for a user
//!   profile (`C:\Windows`, `C:\Program Files`, `%USERPROFILE%\AppData\…`).
//! - [`split_command`]: program and arguments of a Run value, task action or service ImagePath,
//!   including the unquoted `C:\Program Files\x.exe` form; [`split_args`] tokenises arguments.
//! - [`lolbin`] / [`loader_target`]: which proxy-execution binary a command starts and, for rundll32,
//!   regsvr32 and msiexec, which file it loads.
//! - [`classify`]: where a path points (system, Program Files, a user-writable place, other), after
//!   expansion, dropping `\\?\`, `\??\`, `\\.\` and `\Device\HarddiskVolumeN` prefixes, resolving
//!   `.`/`..`, and resolving relative names against System32 as the loader does for
//!   `rundll32 acproxy.dll,…`.
//! - [`is_windows_binary_name`], [`is_masquerading`], [`is_guid_only`], [`is_all_digits`]: name rules.
//!
//! Every function takes attacker-controlled strings; all slicing happens at ASCII delimiters found
//! by search (hence on character boundaries). Limits: [`MAX_EXPANDED_LEN`] for expansion,
//! [`MAX_ARGS`] tokens per command line; everything else is linear in the input.

mod command;
mod env;
mod names;
mod place;

#[cfg(test)]
mod tests;

pub use command::{
    CommandLine, Lolbin, MAX_ARGS, file_name, loader_target, lolbin, split_args, split_command,
};
pub use env::{Env, MAX_EXPANDED_LEN};
pub use names::{
    WINDOWS_BINARY_NAMES, is_all_digits, is_guid_only, is_masquerading, is_windows_binary_name,
};
pub use place::{Place, classify, components};
