//! Where items come from: files, directories (recursive; Maildir folders are directories of
//! messages), and mbox files (one item per message).

use std::path::{Path, PathBuf};

use std::io::Read;

use sha2::{Digest, Sha256};

use kensa_core::{Finding, Location, Severity, Verdict};
use kensa_formats::pad;
use kensa_formats::sniff::{self, FileType};

use crate::report::ItemReport;
use crate::walk::{ScanOptions, display_name, scan_item, unscannable};

/// An input could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScanError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Files up to this size are read whole; bigger ones are streamed with their padding dropped.
const READ_WHOLE: u64 = 64 << 20;
/// Most bytes of one file kept in memory (padding runs excluded); the rest is reported as not read.
const MAX_FILE_BYTES: usize = 1 << 30;
/// Padding from which a file given directly is reported as inflated (as for archive members).
const PADDING_REPORTED: u64 = 16 << 20;

/// Expand paths into the files to scan: files as given, directories walked recursively (sorted,
/// symbolic links not followed). Errors are returned alongside, not fatal.
pub fn collect_files(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<ScanError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    let mut stack: Vec<PathBuf> = paths.iter().rev().cloned().collect();
    while let Some(p) = stack.pop() {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => match std::fs::read_dir(&p) {
                Ok(rd) => {
                    let mut children: Vec<PathBuf> =
                        rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
                    children.sort();
                    stack.extend(children.into_iter().rev());
                }
                Err(source) => errors.push(ScanError::Io { path: p, source }),
            },
            Ok(m) if m.is_file() => files.push(p),
            Ok(m) if m.file_type().is_symlink() && paths.contains(&p) => files.push(p),
            Ok(_) => {}
            Err(source) => errors.push(ScanError::Io { path: p, source }),
        }
    }
    (files, errors)
}

/// Scan one file: one report, or one per message for an mbox file holding several.
pub fn scan_file(path: &Path, opts: &ScanOptions) -> Vec<ItemReport> {
    let shown = path.display().to_string();
    let (data, findings, whole) = match read_file(path, &shown) {
        Ok(r) => r,
        Err(e) => return vec![ItemReport::failed(&shown, &e.to_string())],
    };
    if whole.is_none() && sniff::sniff(&data) == FileType::Mbox {
        let messages = split_mbox(&data);
        if messages.len() > 1 {
            // An mbox over the in-memory limit: the messages read are scanned one by one, and
            // the last, where the file was cut, says so.
            let last = messages.len() - 1;
            let mut cut = Some(findings);
            return messages
                .iter()
                .enumerate()
                .map(|(i, m)| {
                    let extra = if i == last {
                        cut.take().unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    scan_item(&format!("{shown}#{}", i + 1), m, opts, extra, None)
                })
                .collect();
        }
    }
    vec![scan_item(&shown, &data, opts, findings, whole)]
}

/// A file's bytes. A big file is streamed with long padding runs dropped (spec §2.12: documents
/// and DLLs padded past 500 MB), so memory stays at its real content; an mbox is read whole.
/// The size and SHA-256 of a whole file that was streamed (its kept bytes are not the file).
pub(crate) type WholeFile = Option<(u64, String)>;

/// Counts and hashes what passes through, so a streamed file is identified by its real bytes.
struct Hashing<R> {
    inner: R,
    hash: Sha256,
    len: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }
}

fn read_file(path: &Path, shown: &str) -> Result<(Vec<u8>, Vec<Finding>, WholeFile), ScanError> {
    let io = |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    let mut head = Vec::new();
    (&file).take(4096).read_to_end(&mut head).map_err(io)?;
    if len <= READ_WHOLE || sniff::is_mbox_start(&head) {
        let mut data = head;
        let rest = MAX_FILE_BYTES.saturating_sub(data.len()) as u64;
        (&file).take(rest).read_to_end(&mut data).map_err(io)?;
        let mut findings = Vec::new();
        if (data.len() as u64) < len {
            findings.push(cut_finding(shown, data.len()));
        }
        return Ok((data, findings, None));
    }
    let mut hashing = Hashing {
        inner: head.as_slice().chain(&file),
        hash: Sha256::new(),
        len: 0,
    };
    let s = pad::read_stripped(&mut hashing, MAX_FILE_BYTES, u64::MAX).map_err(io)?;
    // What was not kept is still hashed: the report names the file by its real SHA-256.
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(io)?;
    let whole = Some((hashing.len, crate::walk::hex(&hashing.hash.finalize())));
    let mut findings = Vec::new();
    let root = Location::root(display_name(shown));
    if s.padding >= PADDING_REPORTED {
        findings.push(Finding::new(
            "INFLATED_FILE",
            Severity::High,
            root.clone(),
            format!(
                "{} bytes, of which {} are padding (runs of 0x{:02X}); padding skipped, the other {} bytes analysed",
                s.total,
                s.padding,
                s.pad_byte,
                s.total - s.padding
            ),
        ));
    }
    if s.cut {
        findings.push(cut_finding(shown, s.data.len()));
    }
    Ok((s.data, findings, whole))
}

fn cut_finding(shown: &str, kept: usize) -> Finding {
    unscannable(
        &Location::root(display_name(shown)),
        &format!("file larger than the {kept} bytes kept in memory; the rest was not inspected"),
    )
}

/// Split an mbox file into messages: a message starts at a `From ` line at the start of the file
/// or after an empty line. Each slice keeps its `From ` line (the mail analyser drops it).
pub fn split_mbox(data: &[u8]) -> Vec<&[u8]> {
    let mut starts = vec![0usize];
    let mut pos = 0usize;
    while let Some(i) = memchr::memmem::find(&data[pos..], b"\nFrom ") {
        let at = pos + i + 1;
        pos = at;
        // A separator follows an empty line and is itself followed by a header block; a body line
        // that happens to begin with "From " (unescaped, as in many single-message files) is not.
        // Each check stops at the blank line that must precede the next separator, so the checks do
        // not overlap and splitting stays linear on hostile input.
        let after_blank = data[..at - 1].ends_with(b"\n") || data[..at - 1].ends_with(b"\n\r");
        if after_blank && sniff::is_mbox_start(&data[at..]) {
            starts.push(at);
        }
    }
    starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&data.len())))
        .map(|(&a, &b)| &data[a..b])
        .filter(|m| !m.iter().all(u8::is_ascii_whitespace))
        .collect()
}

impl ItemReport {
    /// An item that could not be read at all: incomplete, with the error.
    pub fn failed(path: &str, error: &str) -> ItemReport {
        ItemReport {
            path: path.to_string(),
            kind: "unknown",
            size: 0,
            sha256: String::new(),
            verdict: Verdict::Incomplete,
            score: 0.0,
            threshold: 0.0,
            findings: Vec::new(),
            error: Some(error.to_string()),
            elapsed_ms: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Many separator-like lines with nothing between them: linear work, one message each.
    #[test]
    fn mbox_split_of_hostile_separators() {
        let unit = b"From a Mon Jan 1 00:00:00 2024\nFrom: a@b\nTo: c@d\n\n";
        let data = unit.repeat(20_000);
        assert_eq!(split_mbox(&data).len(), 20_000);
        let blank_froms = b"\n\nFrom \n".repeat(200_000);
        assert_eq!(
            split_mbox(&blank_froms).len(),
            1,
            "no header block: no separator"
        );
    }

    #[test]
    fn mbox_split() {
        let data = b"From a@b Mon Jan 1 00:00:00 2024\nSubject: one\nTo: x@y\n\nbody\n\nFrom the desk of a body line\n\nFrom c@d Mon Jan 1 00:00:00 2024\nSubject: two\nTo: x@y\n\nbody2\n";
        let parts = split_mbox(data);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].ends_with(b"From the desk of a body line\n\n"));
        assert!(parts[1].starts_with(b"From c@d"));
    }
}
