//! Helpers the CLI test files share: the binary with a clean environment, corpus paths, and the
//! redaction of run times in golden output.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

pub fn olevbmacro(name: &str) -> PathBuf {
    corpus()
        .join("mail/spamassassin-tests/spam/olevbmacro")
        .join(name)
}

/// `kensa` run from the olevbmacro folder, so that paths in the output are short and stable, with
/// no locale or user configuration leaking in.
pub fn kensa() -> Command {
    let mut c = Command::cargo_bin("kensa").expect("binary");
    c.current_dir(olevbmacro(""))
        .env_remove("LANG")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .env_remove("KENSA_CONFIG")
        .env("HOME", "/nonexistent");
    c
}

pub const SAMPLE: [&str; 4] = [
    "zippwmacro.eml",
    "nomacro.eml",
    "target_uri.eml",
    "encrypted.eml",
];

/// Times change from run to run: blank them out.
pub fn redact(s: &str) -> String {
    let s = zero_elapsed_ms(s);
    let mut out = String::new();
    for line in s.lines() {
        // "Summary: 4 items in 0.07 s" / "集計：4 件を 0.07 秒で検査"
        let line = if let (true, Some(i), Some(j)) = (
            line.starts_with("Summary:"),
            line.find(" in "),
            line.rfind(" s"),
        ) {
            format!("{} in [secs]{}", &line[..i], &line[j..])
        } else if let (true, Some(j)) = (line.starts_with("集計"), line.find(" 秒")) {
            let i = line[..j].rfind(' ').unwrap_or(j);
            format!("{} [secs]{}", &line[..i], &line[j..])
        } else {
            line.to_string()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `"elapsed_ms":123` and `"elapsed_ms": 123` become `"elapsed_ms":0`.
pub fn zero_elapsed_ms(s: &str) -> String {
    const KEY: &str = "\"elapsed_ms\":";
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(KEY) {
        out.push_str(&rest[..i]);
        let after = rest[i + KEY.len()..].trim_start();
        let digits = after.chars().take_while(char::is_ascii_digit).count();
        out.push_str(KEY);
        out.push('0');
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}
