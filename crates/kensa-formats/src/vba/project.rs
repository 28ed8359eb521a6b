//! The `PROJECT` stream (modules it declares, hidden ones) and UserForm strings.

use super::{Run, VbaError, VbaProject, decode, encoding_for_codepage, limit, note};
use crate::ole::{OleFile, base_name, eq_ignore_case};

/// Longest printable run kept from a form stream (longer runs are cut).
const MAX_FORM_STRING: usize = 64 * 1024;
/// Most form strings kept per project.
const MAX_FORM_STRINGS: usize = 10_000;

/// Names declared by `Module=`, `Class=`, `BaseClass=` and `Document=` lines of a `PROJECT`
/// stream (before its first `[section]`).
pub fn project_module_names(text: &str) -> Vec<String> {
    let keys = ["Module", "Class", "BaseClass", "Document"];
    text.lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| keys.iter().any(|key| key.eq_ignore_ascii_case(k.trim())))
        .map(|(_, v)| {
            v.split('/')
                .next()
                .unwrap_or_default()
                .trim()
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// Fills `hidden_modules` from the `PROJECT` stream next to the `VBA` storage.
pub(super) fn check_hidden(
    ole: &mut OleFile<'_>,
    listed: &[Vec<String>],
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<(), VbaError> {
    let path = match p.storage.as_str() {
        "" => "PROJECT".to_string(),
        s => format!("{s}/PROJECT"),
    };
    if !ole.entry(&path).is_some_and(|e| e.is_stream) {
        let storage = p.storage.clone();
        note!(
            p,
            "no PROJECT stream in {storage:?}: hidden modules not checked"
        );
        return Ok(());
    }
    let Some(data) = run.read(ole, &path, p)? else {
        return Ok(());
    };
    let declared = project_module_names(&decode(&data, encoding_for_codepage(p.codepage)));
    for names in listed {
        if !names
            .iter()
            .any(|n| declared.iter().any(|d| eq_ignore_case(d, n)))
        {
            p.hidden_modules.extend(names.first().cloned());
        }
    }
    Ok(())
}

/// Printable runs of at least 5 characters: ASCII bytes, then UTF-16LE ASCII characters. Runs
/// are cut at 64 KiB; at most `max_runs` are returned.
pub fn printable_runs(data: &[u8], max_runs: usize) -> Vec<String> {
    let printable = |b: u8| (0x20..0x7F).contains(&b) || b == b'\t';
    let mut out: Vec<String> = Vec::new();
    let mut run = String::new();
    let mut flush = |run: &mut String| {
        if run.len() >= 5 && out.len() < max_runs {
            out.push(std::mem::take(run));
        }
        run.clear();
    };
    let units = [(1, 0), (2, 0), (2, 1)];
    for (width, start) in units {
        let data = data.get(start..).unwrap_or_default();
        for unit in data.chunks_exact(width) {
            match *unit {
                [b] | [b, 0] if printable(b) => {
                    if run.len() < MAX_FORM_STRING {
                        run.push(char::from(b));
                    }
                }
                _ => flush(&mut run),
            }
        }
        flush(&mut run);
    }
    out
}

/// Collects printable runs from `o` and `f` streams (UserForm data) in the project storage.
pub(super) fn collect_form_strings(
    ole: &mut OleFile<'_>,
    vba: &str,
    p: &mut VbaProject,
    run: &mut Run<'_>,
) -> Result<(), VbaError> {
    let prefix = match p.storage.as_str() {
        "" => String::new(),
        s => format!("{s}/"),
    };
    let vba_prefix = format!("{vba}/");
    let paths: Vec<String> = (ole.entries().iter())
        .filter(|e| e.is_stream && e.path.starts_with(&prefix) && !e.path.starts_with(&vba_prefix))
        .filter(|e| {
            ["o", "f"]
                .iter()
                .any(|n| eq_ignore_case(base_name(&e.path), n))
        })
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        let room = MAX_FORM_STRINGS.saturating_sub(p.form_strings.len());
        if room == 0 {
            limit!(p, "more than {MAX_FORM_STRINGS} form strings");
            break;
        }
        let Some(data) = run.read(ole, &path, p)? else {
            continue;
        };
        for s in printable_runs(&data, room) {
            if s.len() > run.bytes_left {
                limit(p, "form strings cut by the byte budget".into());
                return Ok(());
            }
            run.bytes_left -= s.len();
            p.form_strings.push(s);
        }
    }
    Ok(())
}
