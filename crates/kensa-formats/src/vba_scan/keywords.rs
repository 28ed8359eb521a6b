//! Keyword tables for the VBA scan: mraptor-style A/W/X sets and olevba-style context keywords.
//!
//! Every pattern is matched as bytes, ASCII case-insensitively (`(?i-u)`), so `\b` is an ASCII word
//! boundary and non-ASCII text never slows the DFA down. Three views of a logical line exist:
//! - `CODE_RULES`: code with string-literal contents blanked and comments removed;
//! - `TEXT_RULES`: code with string literals kept (API names, ProgIDs, Excel 4 calls in strings);
//! - `CONTEXT_RULES`: the whole line including comments, and every decoded string.

use regex::bytes::{Regex, RegexSet};
use std::sync::LazyLock;

/// Which result list a rule feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Cat {
    Write,
    Exec,
    Context,
}

/// One keyword: the result list, its canonical spelling, and the pattern (without flags).
pub(super) struct Rule {
    pub cat: Cat,
    pub name: &'static str,
    pub pat: &'static str,
}

const fn w(name: &'static str, pat: &'static str) -> Rule {
    Rule {
        cat: Cat::Write,
        name,
        pat,
    }
}
const fn x(name: &'static str, pat: &'static str) -> Rule {
    Rule {
        cat: Cat::Exec,
        name,
        pat,
    }
}
const fn c(name: &'static str, pat: &'static str) -> Rule {
    Rule {
        cat: Cat::Context,
        name,
        pat,
    }
}

/// Matched on code only (string contents blanked): plain words that are common in prose.
pub(super) const CODE_RULES: &[Rule] = &[
    w("FileCopy", r"\bFileCopy\b"),
    w("Kill", r"\bKill\b"),
    w("SaveAs", r"\b(?:File)?SaveAs\w*"),
    w("MkDir", r"\bMkDir\b"),
    w("RmDir", r"\bRmDir\b"),
    w("SaveSetting", r"\bSaveSetting\b"),
    w("SetAttr", r"\bSetAttr\b"),
    w("Open For Append", r"(?:^|[^.\w])Open\s.*?\bFor\s+Append\b"),
    w("Open For Binary", r"(?:^|[^.\w])Open\s.*?\bFor\s+Binary\b"),
    w("Open For Output", r"(?:^|[^.\w])Open\s.*?\bFor\s+Output\b"),
    w("Open For Random", r"(?:^|[^.\w])Open\s.*?\bFor\s+Random\b"),
    w(
        "Open For Write",
        r"(?:^|[^.\w])Open\s.*?\bAccess\s+(?:Read\s+)?Write\b",
    ),
    x("Shell", r"\bShell\b"),
    x("CreateObject", r"\bCreateObject\b"),
    x("GetObject", r"\bGetObject\b"),
    x("SendKeys", r"\bSendKeys\b"),
    x("FollowHyperlink", r"\bFollowHyperlink\b"),
    x(
        "Run",
        r"\.Run\b|(?:^|:|\bThen\b|\bElse\b)\s*Run(?:\s+[^\s=:]|\s*\()",
    ),
    x("EXEC", r"\.Exec\b"),
    x("Declare Lib", r"\bDeclare\b.*\bLib\b"),
];

/// Matched on code with string literals kept: identifiers that only malware puts in strings
/// (API names behind `Alias "…"`, ProgIDs, Excel 4 calls handed to `ExecuteExcel4Macro`).
pub(super) const TEXT_RULES: &[Rule] = &[
    w("CopyFile", r"\bCopyFile[AW]?\b"),
    w("CreateTextFile", r"\bCreateTextFile\b"),
    w("VirtualAlloc", r"\bVirtualAlloc(?:Ex)?\b"),
    w("RtlMoveMemory", r"\bRtlMoveMemory\b"),
    w("URLDownloadToFile", r"\bURLDownloadToFile[AW]?\b"),
    w("AltStartupPath", r"\bAltStartupPath\b"),
    w("WriteProcessMemory", r"\bWriteProcessMemory\b"),
    w("ADODB.Stream", r"\bADODB\.Stream\b"),
    w("WriteText", r"\bWriteText\b"),
    w("SaveToFile", r"\bSaveToFile\b"),
    x("Shell.Application", r"\bShell\.Application\b"),
    x("ShellExecute", r"\bShellExecute(?:Ex)?[AW]?\b"),
    x("CreateThread", r"\bCreateThread\b"),
    x("MacScript", r"\bMacScript\b"),
    x("ExecuteExcel4Macro", r"\bExecuteExcel4Macro\b"),
    x("SetTimer", r"\bSetTimer\b"),
    x("CALL", r#"\bCALL\s*\(\s*""#),
    x("EXEC", r#"\bEXEC\s*\(\s*""#),
    x("REGISTER", r#"\bREGISTER\s*\(\s*""#),
];

/// Context keywords: shown, never decisive. Also run over decoded strings.
pub(super) const CONTEXT_RULES: &[Rule] = &[
    c("WScript.Shell", r"\bWScript\.Shell\b"),
    c("Win32_Process", r"\bWin32_Process"),
    c("winmgmts", r"\bwinmgmts\b"),
    c(".Create", r"\.Create\b"),
    c("PowerShell", r"\b(?:powershell|pwsh)(?:\.exe)?\b"),
    c(
        "-EncodedCommand",
        r"(?:^|[\s'\x22])-(?:e|ec|en|enc|encodedcommand)\s+[A-Za-z0-9+/=]{8,}",
    ),
    c(
        "-WindowStyle Hidden",
        r"(?:^|[\s'\x22])-w(?:in|indow|indowstyle)?\s+hidden\b",
    ),
    c("-NoProfile", r"(?:^|[\s'\x22])-nop(?:rofile)?\b"),
    c("-NonInteractive", r"(?:^|[\s'\x22])-noni(?:nteractive)?\b"),
    c(
        "-ExecutionPolicy Bypass",
        r"(?:^|[\s'\x22])-(?:ep|ex|exec|executionpolicy)\s+bypass\b",
    ),
    c("IEX", r"\b(?:iex|Invoke-Expression)\b"),
    c("DownloadString", r"\bDownloadString\b"),
    c("DownloadFile", r"\bDownloadFile\b"),
    c("DownloadData", r"\bDownloadData\b"),
    c(
        "Invoke-WebRequest",
        r"\b(?:Invoke-WebRequest|Invoke-RestMethod|iwr)\b",
    ),
    c("Invoke-Item", r"\bInvoke-Item\b"),
    c("Start-Process", r"\bStart-Process\b"),
    c("Net.WebClient", r"\bNet\.WebClient\b"),
    c("FromBase64String", r"\bFromBase64String\b"),
    c("cmd /c", r"\bcmd(?:\.exe)?\x22?\s*/[ck]\b"),
    c("XMLHTTP", r"\bXMLHTTP\b"),
    c("ServerXMLHTTP", r"\bServerXMLHTTP\b"),
    c("WinHttp", r"\bWinHttp"),
    c("URLDownloadToCacheFile", r"\bURLDownloadToCacheFile[AW]?\b"),
    c("CallByName", r"\bCallByName\b"),
    c("Chr", r"\bChr[BW]?\$?\s*\("),
    c("StrReverse", r"\bStrReverse\b"),
    c("Xor", r"\bXor\b"),
    c("Environ", r"\bEnviron\$?\s*\(|\bExpandEnvironmentStrings\b"),
    c("RegWrite", r"\bRegWrite\b"),
    c("RegRead", r"\bRegRead\b"),
    c("RegDelete", r"\bRegDelete\b"),
    c(
        "Registry key",
        r"\bHKEY_(?:CURRENT_USER|LOCAL_MACHINE|CLASSES_ROOT)\b|\bHK(?:CU|LM):?\\",
    ),
    c("VMware", r"\bvmware"),
    c("VirtualBox", r"\bVirtualBox\b|\bVBox\w*"),
    c("Sandboxie", r"\bSbieDll\b|\bSandboxie\b"),
    c("Sandbox", r"\bsandbox\b"),
    c("QEMU", r"\bqemu\b"),
    c("RecentFiles.Count", r"\bRecentFiles\.Count\b"),
    c("AccessVBOM", r"\bAccessVBOM\b"),
    c("VBAWarnings", r"\bVBAWarnings\b"),
    c("VBProject", r"\bVBProject\b"),
    c("VBComponents", r"\bVBComponents\b"),
    c("CodeModule", r"\bCodeModule\b"),
    c("bin.base64", r"\bbin\.base64\b"),
    c("kernel32", r"\bkernel32(?:\.dll)?\b"),
    c("ntdll", r"\bntdll(?:\.dll)?\b"),
    c("VirtualProtect", r"\bVirtualProtect(?:Ex)?\b"),
    c("CreateRemoteThread", r"\bCreateRemoteThread\b"),
    c("QueueUserAPC", r"\bQueueUserAPC\b"),
    c("LoadLibrary", r"\bLoadLibrary(?:Ex)?[AW]?\b"),
    c("GetProcAddress", r"\bGetProcAddress\b"),
    c(
        "Scripting.FileSystemObject",
        r"\bScripting\.FileSystemObject\b",
    ),
    c("Application.Visible", r"\bApplication\.Visible\b"),
    c("vbHide", r"\bvbHide\b"),
    c("OnTime", r"\bOnTime\b"),
    c("TextFrame", r"\.TextFrame\b"),
    c("ControlTipText", r"\bControlTipText\b"),
    c("AlternativeText", r"\bAlternativeText\b"),
    c(
        "DocumentProperties",
        r"\b(?:Custom|BuiltIn)DocumentProperties\b",
    ),
    c("mshta", r"\bmshta(?:\.exe)?\b"),
    c("rundll32", r"\brundll32(?:\.exe)?\b"),
    c("regsvr32", r"\bregsvr32(?:\.exe)?\b"),
    c("certutil", r"\bcertutil(?:\.exe)?\b"),
    c("bitsadmin", r"\bbitsadmin(?:\.exe)?\b"),
    c("wscript/cscript", r"\b[wc]script(?:\.exe)?\s"),
];

/// Auto-exec procedure names (set A), lower case, with the canonical spelling.
pub(super) const AUTOEXEC_NAMES: &[(&str, &str)] = &[
    ("autoopen", "AutoOpen"),
    ("autoexec", "AutoExec"),
    ("autoclose", "AutoClose"),
    ("autoexit", "AutoExit"),
    ("autonew", "AutoNew"),
    ("document_open", "Document_Open"),
    ("document_close", "Document_Close"),
    ("document_new", "Document_New"),
    ("documentopen", "DocumentOpen"),
    ("documentchange", "DocumentChange"),
    ("documentbeforeclose", "DocumentBeforeClose"),
    ("newdocument", "NewDocument"),
    ("auto_open", "Auto_Open"),
    ("auto_close", "Auto_Close"),
    ("workbook_open", "Workbook_Open"),
    ("workbook_activate", "Workbook_Activate"),
    ("workbook_close", "Workbook_Close"),
    ("workbook_beforeclose", "Workbook_BeforeClose"),
    ("worksheet_calculate", "Worksheet_Calculate"),
];

/// `<control>_<event>` suffixes of ActiveX events that fire without the user (set A).
pub(super) const AUTOEXEC_EVENTS: &[(&str, &str)] = &[
    ("painted", "_Painted"),
    ("painting", "_Painting"),
    ("layout", "_Layout"),
    ("gotfocus", "_GotFocus"),
    ("lostfocus", "_LostFocus"),
    ("resize", "_Resize"),
    ("documentcomplete", "_DocumentComplete"),
    ("navigatecomplete2", "_NavigateComplete2"),
    ("beforenavigate2", "_BeforeNavigate2"),
    ("navigateerror", "_NavigateError"),
    ("downloadbegin", "_DownloadBegin"),
    ("downloadcomplete", "_DownloadComplete"),
    ("progresschange", "_ProgressChange"),
    ("statustextchange", "_StatusTextChange"),
    ("titlechange", "_TitleChange"),
    ("commandstatechange", "_CommandStateChange"),
    ("propertychange", "_PropertyChange"),
    ("filedownload", "_FileDownload"),
    ("onvisible", "_OnVisible"),
];

/// `<control>_<event>` suffixes of interactive events (set A′).
pub(super) const INTERACTIVE_EVENTS: &[(&str, &str)] = &[
    ("click", "_Click"),
    ("dblclick", "_DblClick"),
    ("change", "_Change"),
    ("selectionchange", "_SelectionChange"),
    ("mousemove", "_MouseMove"),
    ("mousedown", "_MouseDown"),
    ("mouseup", "_MouseUp"),
    ("mousehover", "_MouseHover"),
    ("mouseenter", "_MouseEnter"),
    ("mouseleave", "_MouseLeave"),
    ("keypress", "_KeyPress"),
    ("keydown", "_KeyDown"),
    ("keyup", "_KeyUp"),
    ("beforeupdate", "_BeforeUpdate"),
    ("afterupdate", "_AfterUpdate"),
    ("enter", "_Enter"),
    ("exit", "_Exit"),
    ("scroll", "_Scroll"),
    ("spinup", "_SpinUp"),
    ("spindown", "_SpinDown"),
    ("dropbuttonclick", "_DropButtonClick"),
    ("beforedoubleclick", "_BeforeDoubleClick"),
    ("beforerightclick", "_BeforeRightClick"),
    ("beforedragover", "_BeforeDragOver"),
    ("beforedroporpaste", "_BeforeDropOrPaste"),
    ("followhyperlink", "_FollowHyperlink"),
    ("contentcontrolonenter", "_ContentControlOnEnter"),
    ("contentcontrolonexit", "_ContentControlOnExit"),
];

fn build_set(rules: &[Rule]) -> RegexSet {
    RegexSet::new(rules.iter().map(|r| format!("(?i-u){}", r.pat)))
        .expect("static keyword patterns compile")
}

fn build(pat: &str) -> Regex {
    Regex::new(pat).expect("static pattern compiles")
}

pub(super) static CODE_SET: LazyLock<RegexSet> = LazyLock::new(|| build_set(CODE_RULES));
pub(super) static TEXT_SET: LazyLock<RegexSet> = LazyLock::new(|| build_set(TEXT_RULES));
pub(super) static CONTEXT_SET: LazyLock<RegexSet> = LazyLock::new(|| build_set(CONTEXT_RULES));

/// A procedure header in a statement (strings blanked); group 1 is the name.
pub(super) static PROC_START: LazyLock<Regex> = LazyLock::new(|| {
    build(
        r"(?i-u)^\s*(?:(?:Public|Private|Friend)\s+)?(?:Static\s+)?(?:Sub|Function|Property\s+(?:Get|Let|Set))\s+([^\s(:]+)\s*(?:\(|$)",
    )
});
/// The end of a procedure.
pub(super) static PROC_END: LazyLock<Regex> =
    LazyLock::new(|| build(r"(?i-u)^\s*End\s+(?:Sub|Function|Property)\b"));
/// Statements that cannot do anything on their own (a body of only these is "empty").
pub(super) static INERT_STMT: LazyLock<Regex> = LazyLock::new(|| {
    build(
        r"(?i-u)^\s*(?:(?:Dim|Const|Static|ReDim)\b|On\s+Error\b|Exit\s+(?:Sub|Function|Property)\b|#)",
    )
});
/// `Attribute …` lines (module metadata, never code).
pub(super) static ATTRIBUTE: LazyLock<Regex> = LazyLock::new(|| build(r"(?i-u)^\s*Attribute\s"));
/// `Attribute VB_Name` starts a new module.
pub(super) static MODULE_START: LazyLock<Regex> =
    LazyLock::new(|| build(r"(?i-u)^\s*Attribute\s+VB_Name\b"));
/// `Option Explicit` and friends: module settings, not code.
pub(super) static OPTION_STMT: LazyLock<Regex> =
    LazyLock::new(|| build(r"(?i-u)^\s*Option\s+(?:Explicit|Base|Compare|Private)\b"));

/// http/https/ftp URLs (ASCII only; stops at quotes, brackets, commas, `@` and whitespace).
pub(super) static URL: LazyLock<Regex> = LazyLock::new(|| {
    build(
        r"(?i-u)\b(?:https?|ftp)://([a-z0-9\-._~%]{1,253})(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~%!$&*+;=:/?#]{0,1000})?",
    )
});
/// Dotted IPv4 candidates; octet range and neighbours are checked in code.
pub(super) static IPV4: LazyLock<Regex> =
    LazyLock::new(|| build(r"(?-u)\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b"));
/// Executable file names.
pub(super) static EXE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    build(
        r"(?i-u)[A-Za-z0-9_\-$~%]{1,100}(?:\.[A-Za-z0-9_\-$~%]{1,100}){0,8}\.(?:exe|dll|scr|pif|bat|cmd|vbs|js|ps1|hta|jar)\b",
    )
});
/// Base64 runs inside a string literal.
pub(super) static BASE64_RUN: LazyLock<Regex> =
    LazyLock::new(|| build(r"(?-u)[A-Za-z0-9+/]{24,}={0,2}"));
/// `StrReverse("literal")`; group 1 is the raw literal content.
pub(super) static STRREVERSE: LazyLock<Regex> =
    LazyLock::new(|| build(r#"(?i-u)\bStrReverse\s*\(\s*"((?:[^"\r\n]|"")*)"\s*\)"#));

/// One `Chr(NN)` (or a string literal, blanked to `"   "`) in the blanked view.
const CHR_ELEM: &str =
    r#"(?:\bChr[BW]?\$?\s*\(\s*(?:&H[0-9A-F]{1,6}|\d{1,7}|(?:VBA\.)?vbKey[A-Z0-9])\s*\)|" *")"#;

/// A chain of `Chr(NN)` and literals joined by `&` or `+` (blanked view).
pub(super) static CHR_CHAIN: LazyLock<Regex> =
    LazyLock::new(|| build(&format!(r"(?i-u){CHR_ELEM}(?:\s*[&+]\s*{CHR_ELEM})+")));
/// The elements of a chain; group 1 is the Chr argument, absent for a literal.
pub(super) static CHR_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    build(
        r#"(?i-u)\bChr[BW]?\$?\s*\(\s*(&H[0-9A-F]{1,6}|\d{1,7}|(?:VBA\.)?vbKey[A-Z0-9])\s*\)|" *""#,
    )
});
