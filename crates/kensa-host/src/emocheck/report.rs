//! EmoCheck's report names, JSON and exit codes (`host.md` §2, `main.cpp`), for
//! `--emocheck-compat` output and for checking collectors' expectations.
//!
//! File: v0.0.1 `<yyyymmddhhmmss>_emocheck.txt`; v0.0.2+ `<COMPUTERNAME>_<yyyymmddhhmmss>_emocheck`
//! `.txt` or `.json`. JSON is hand-built: 2-space indent, no space after colons, keys `scan_time`,
//! `hostname`, `emocheck_version`, `is_infected` (`"yes"`/`"no"`), then `emotet_processes` only when
//! infected; `process_id` is a string; only backslashes are escaped, and only in paths.
//! Exit codes: v0.0.1/v0.0.2 always 0; from PR #5 (v1.0, v2.0) 0 clean, 1 infected; `/help` and an
//! invalid parameter exit 0 in every version.

/// The public EmoCheck releases whose behaviour is known from source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmoCheckVersion {
    /// v0.0.1 (2020-02-03).
    V0_0_1,
    /// v0.0.2 (2020-02-10).
    V0_0_2,
    /// v1.0.0 (2020-08-11).
    V1_0,
    /// v2.0.0 (2021-01-27).
    V2_0,
}

impl EmoCheckVersion {
    /// The `EMOCHECK_VERSION` string EmoCheck prints and writes to JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V0_0_1 => "0.0.1",
            Self::V0_0_2 => "0.0.2",
            Self::V1_0 => "1.0",
            Self::V2_0 => "2.0",
        }
    }
}

/// Exit code for `/help` and for an invalid parameter (every version).
pub const USAGE_EXIT_CODE: i32 = 0;

/// One `emotet_processes` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportProcess {
    /// The running process name.
    pub process_name: String,
    /// The PID (written as a JSON string).
    pub process_id: u32,
    /// Image path (v2.0: the candidate path, empty for v1/v2 hits).
    pub image_path: String,
    /// Registry key (written from v2.0 only; EmoCheck never fills it in).
    pub registry_key: String,
}

/// The report file name (without the output directory) for `stamp` = `yyyymmddhhmmss` local time.
/// v0.0.1 has no JSON report and no computer name.
pub fn report_file_name(
    version: EmoCheckVersion,
    computer_name: &str,
    stamp: &str,
    json: bool,
) -> String {
    match version {
        EmoCheckVersion::V0_0_1 => format!("{stamp}_emocheck.txt"),
        _ => {
            let ext = if json { "json" } else { "txt" };
            format!("{computer_name}_{stamp}_emocheck.{ext}")
        }
    }
}

/// The JSON report exactly as EmoCheck writes it (`scan_time` = `%Y-%m-%d %H:%M:%S`), ending with a
/// newline.
pub fn report_json(
    version: EmoCheckVersion,
    scan_time: &str,
    hostname: &str,
    processes: &[ReportProcess],
) -> String {
    let mut out = format!(
        "{{\n  \"scan_time\":\"{scan_time}\",\n  \"hostname\":\"{hostname}\",\n  \"emocheck_version\":\"{}\",\n",
        version.as_str()
    );
    if processes.is_empty() {
        out.push_str("  \"is_infected\":\"no\"\n}\n");
        return out;
    }
    out.push_str("  \"is_infected\":\"yes\",\n  \"emotet_processes\":[\n");
    for (i, p) in processes.iter().enumerate() {
        out.push_str(&format!(
            "    {{\n      \"process_name\":\"{}\",\n      \"process_id\":\"{}\",\n      \"image_path\":\"{}\"",
            p.process_name,
            p.process_id,
            p.image_path.replace('\\', "\\\\")
        ));
        if version == EmoCheckVersion::V2_0 {
            out.push_str(&format!(
                ",\n      \"registry_key\":\"{}\"",
                p.registry_key.replace('\\', "\\\\")
            ));
        }
        out.push_str(if i + 1 == processes.len() {
            "\n    }\n"
        } else {
            "\n    },\n"
        });
    }
    out.push_str("  ]\n}\n");
    out
}

/// EmoCheck's process exit code after a scan.
pub fn exit_code(version: EmoCheckVersion, infected: bool) -> i32 {
    match version {
        EmoCheckVersion::V0_0_1 | EmoCheckVersion::V0_0_2 => 0,
        EmoCheckVersion::V1_0 | EmoCheckVersion::V2_0 => i32::from(infected),
    }
}
