//! JPCERT/CC EmoCheck's public detection methods (v0.0.1 – v2.0) as pure functions.
//!
//! No I/O happens here: the integrator feeds these functions with data read from live Windows APIs
//! (`kensa host check`) or from collected artefacts (`kensa host triage`). Facts come from the public
//! EmoCheck source (branch `v2.0-disclose`: `scan_v1.cpp` … `scan_v5.cpp`, `utils/utils.cpp`,
//! `utils/file.cpp`, `emocheck.cpp`) as summarised in `host.md` §1; re-expressed here, nothing copied.
//!
//! | method | EmoCheck | here |
//! |---|---|---|
//! | v1 | process name `word(i1) + word(i2)` from the volume serial and a 356-character table | [`v1_name`], [`v1_all_names`], [`v1_matches_compat`] |
//! | v2 | REG_BINARY value named by the serial (lowercase hex) under three Explorer keys, XOR-decoded | [`v2_value_name`], [`v2_decode`], [`v2_decode_offline`], [`V2_KEYS`] |
//! | v3 | `<LocalAppData or SysWOW64>\<sysword>\<sysword>.exe`, ≥ 10,000 bytes, not a System32 twin | [`v3_keyword`], [`v3_candidate`], [`v3_valid`] |
//! | v4 | `<root>\[A-Za-z]{4,16}\<letters>.<3 letters>` DLL started by rundll32 from HKCU Run or a service | [`v4_dir_ok`], [`v4_file_ok`], [`v4_run_name_ok`], [`v4_command_ok`], [`v4_process_matches`] |
//! | v5 | any PE in a direct subdirectory written ≈ 7 days after it | [`v5_window`], [`v5_process_matches`] |
//!
//! Every function marked *compat* reproduces EmoCheck's rule byte for byte, including its quirks
//! (the partial-word v1 names, case-sensitive `exe`/`rundll32.exe`, line terminators defeating the
//! v4 regexes). The `_relaxed` variants are kensa's case-insensitive versions (`host.md` §3); the
//! integrator reports a compat hit and a relaxed-only hit as separate findings.
//!
//! [`report_file_name`], [`report_json`] and [`exit_code`] reproduce EmoCheck's report names, JSON
//! and exit codes for `--emocheck-compat`.
//!
//! Volume serials for offline triage come from [`parse_vol_output`] (`vol`, `fsutil` output or a bare
//! hex number) or [`serial_from_ntfs_boot_sector`] / [`serial_from_boot_sector`].
//!
//! Limits: every function is linear in its input; [`parse_vol_output`] reads at most
//! [`MAX_VOL_TEXT`] bytes; no function allocates more than a small multiple of its input.

mod cmdline;
mod report;
mod serial;
mod v1;
mod v2;
mod v345;

#[cfg(test)]
mod tests;

pub use cmdline::{normalise_cmdline, normalise_cmdline_relaxed, syswow64_to_system32};
pub use report::{
    EmoCheckVersion, ReportProcess, USAGE_EXIT_CODE, exit_code, report_file_name, report_json,
};
pub use serial::{
    MAX_VOL_TEXT, format_serial, parse_vol_output, serial_from_boot_sector,
    serial_from_ntfs_boot_sector,
};
pub use v1::{
    KEYWORDS, KEYWORDS_LEN, V1Name, v1_all_names, v1_indices, v1_matches_compat,
    v1_matches_relaxed, v1_matches_v001, v1_name, v1_words,
};
pub use v2::{
    V2_KEYS, V2_KEYS_OFFLINE, V2_MAX_NAME, v2_decode, v2_decode_offline, v2_value_name,
    v2_value_serial,
};
pub use v345::{
    V3_MIN_SIZE, V5_MAX, V5_MIN, v3_candidate, v3_candidate_relaxed, v3_keyword, v3_run_key,
    v3_valid, v4_command_ok, v4_command_ok_relaxed, v4_dir_ok, v4_file_ok, v4_process_matches,
    v4_run_name_ok, v5_process_matches, v5_window,
};
