//! Fixtures are written here byte for byte in each tool's layout (see the module doc for where each
//! layout fact comes from).

use encoding_rs::SHIFT_JIS;

use super::*;
use crate::regexport::text::mutate::for_each_variant;

fn utf16_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xFF, 0xFE];
    v.extend(text::utf16le(s));
    v
}

fn utf8_bom(s: &str) -> Vec<u8> {
    let mut v = vec![0xEF, 0xBB, 0xBF];
    v.extend(s.as_bytes());
    v
}

fn cp932(s: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = SHIFT_JIS.encode(s);
    assert!(!unmappable);
    bytes.into_owned()
}

const EMOTET_CMD: &str =
    r#"C:\Windows\SysWOW64\rundll32.exe "C:\Users\A\AppData\Local\Abcd\qehxk.xwa",RunDLL"#;

/// `tasklist /v /fo csv` on English Windows (console code page, here ASCII), CRLF.
fn tasklist_en_verbose() -> Vec<u8> {
    concat!(
        "\"Image Name\",\"PID\",\"Session Name\",\"Session#\",\"Mem Usage\",\"Status\",\"User Name\",\"CPU Time\",\"Window Title\"\r\n",
        "\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\",\"Unknown\",\"NT AUTHORITY\\SYSTEM\",\"39:52:34\",\"N/A\"\r\n",
        "\"System\",\"4\",\"Services\",\"0\",\"1,256 K\",\"Unknown\",\"N/A\",\"0:09:43\",\"N/A\"\r\n",
        "\"rundll32.exe\",\"6124\",\"Console\",\"1\",\"9,876 K\",\"Running\",\"DESKTOP-1\\user\",\"0:00:00\",\"N/A\"\r\n",
    )
    .as_bytes()
    .to_vec()
}

/// `tasklist /fo csv` on Japanese Windows: cp932 (Shift_JIS) output.
fn tasklist_ja() -> Vec<u8> {
    cp932(concat!(
        "\"イメージ名\",\"PID\",\"セッション名\",\"セッション#\",\"メモリ使用量\"\r\n",
        "\"System Idle Process\",\"0\",\"Services\",\"0\",\"8 K\"\r\n",
        "\"explorer.exe\",\"4312\",\"Console\",\"1\",\"98,764 K\"\r\n",
        "\"更新.exe\",\"7777\",\"Console\",\"1\",\"2,048 K\"\r\n",
    ))
}

/// Windows PowerShell 5.1: `… | Export-Csv -Encoding UTF8 procs.csv` without `-NoTypeInformation`
/// (UTF-8 with BOM, a `#TYPE` line, every field quoted, `""` doubling inside fields).
fn powershell51_csv() -> Vec<u8> {
    let cmd = EMOTET_CMD.replace('"', "\"\"");
    utf8_bom(&format!(
        concat!(
            "#TYPE Selected.Microsoft.Management.Infrastructure.CimInstance\r\n",
            "\"Name\",\"ProcessId\",\"ParentProcessId\",\"ExecutablePath\",\"CommandLine\"\r\n",
            "\"System Idle Process\",\"0\",\"0\",,\r\n",
            "\"System\",\"4\",\"0\",\"\",\"\"\r\n",
            "\"rundll32.exe\",\"6124\",\"4312\",\"C:\\Windows\\SysWOW64\\rundll32.exe\",\"{}\"\r\n",
            "\"note.exe\",\"77\",\"4312\",\"C:\\Users\\田中\\note.exe\",\"note.exe \"\"a,b\"\"\r\nsecond line\"\r\n",
        ),
        cmd
    ))
}

/// PowerShell 7: `… | Export-Csv -NoTypeInformation procs.csv` (UTF-8 without BOM), columns reordered.
fn powershell7_csv() -> Vec<u8> {
    concat!(
        "\"CommandLine\",\"ProcessId\",\"Name\",\"ParentProcessId\",\"ExecutablePath\"\n",
        "\"\",\"4\",\"System\",\"0\",\"\"\n",
        "\"x\",\"notanumber\",\"bad.exe\",\"1\",\"\"\n",
        "\"C:\\a.exe\",\"9\",\"a.exe\",\"-1\",\"C:\\a.exe\"\n",
    )
    .as_bytes()
    .to_vec()
}

/// Windows PowerShell 5.1 `… | ConvertTo-Json > procs.json`: UTF-16LE with BOM, 4-space indent and
/// two spaces after each colon.
fn powershell51_json() -> Vec<u8> {
    let cmd = serde_json::to_string(EMOTET_CMD).unwrap();
    utf16_bom(&format!(
        concat!(
            "[\r\n",
            "    {{\r\n",
            "        \"Name\":  \"System Idle Process\",\r\n",
            "        \"ProcessId\":  0,\r\n",
            "        \"ParentProcessId\":  0,\r\n",
            "        \"ExecutablePath\":  null,\r\n",
            "        \"CommandLine\":  null\r\n",
            "    }},\r\n",
            "    {{\r\n",
            "        \"Name\":  \"rundll32.exe\",\r\n",
            "        \"ProcessId\":  6124,\r\n",
            "        \"ParentProcessId\":  4312,\r\n",
            "        \"ExecutablePath\":  \"C:\\\\Windows\\\\SysWOW64\\\\rundll32.exe\",\r\n",
            "        \"CommandLine\":  {}\r\n",
            "    }},\r\n",
            "    \"not an object\",\r\n",
            "    {{ \"Name\": \"nopid.exe\", \"Extra\": {{ \"deep\": [1, 2, {{\"x\": null}}] }} }}\r\n",
            "]\r\n",
        ),
        cmd
    ))
}

/// PowerShell 7 `… | ConvertTo-Json` of a single process: one object, 2-space indent, UTF-8.
/// Win32_Process objects without Select-Object also carry PowerShell's `Path` alias and many other
/// properties.
fn powershell7_single() -> Vec<u8> {
    br#"{
  "Caption": "rundll32.exe",
  "CimInstanceProperties": [ { "Name": "Caption", "Value": "rundll32.exe" } ],
  "Name": "rundll32.exe",
  "ProcessId": 6124,
  "ParentProcessId": 4312,
  "Path": "C:\\Windows\\SysWOW64\\rundll32.exe",
  "ExecutablePath": "C:\\Windows\\SysWOW64\\rundll32.exe",
  "CommandLine": "rundll32.exe x.dll,Control_RunDLL",
  "WorkingSetSize": 1234567
}
"#
    .to_vec()
}

/// `wmic process get Name,ProcessId,ParentProcessId,ExecutablePath,CommandLine /format:csv > procs.csv`:
/// UTF-16LE with BOM, blank first line, `\r\r\n` line ends, alphabetical columns after `Node`,
/// unquoted fields.
fn wmic() -> Vec<u8> {
    let rows = [
        "",
        "Node,CommandLine,ExecutablePath,Name,ParentProcessId,ProcessId",
        "DESKTOP-1,,,System Idle Process,0,0",
        "DESKTOP-1,,,System,0,4",
        &format!(
            "DESKTOP-1,{EMOTET_CMD},C:\\Windows\\SysWOW64\\rundll32.exe,rundll32.exe,4312,6124"
        ),
        "DESKTOP-1,\"C:\\Program Files\\x.exe\" --a=1,2,3,C:\\Program Files\\x.exe,x.exe,1,2",
        "DESKTOP-1,short,row",
    ];
    let mut s = String::new();
    for r in rows {
        s.push_str(r);
        s.push_str("\r\r\n");
    }
    utf16_bom(&s)
}

/// kensa's own JSON Lines.
fn kensa_jsonl() -> Vec<u8> {
    let cmd = serde_json::to_string(EMOTET_CMD).unwrap();
    format!(
        concat!(
            "{{\"name\":\"rundll32.exe\",\"pid\":6124,\"ppid\":4312,\"image_path\":\"C:\\\\Windows\\\\SysWOW64\\\\rundll32.exe\",\"command_line\":{}}}\n",
            "{{\"name\":\"System\",\"pid\":4,\"ppid\":null,\"image_path\":null,\"command_line\":null}}\n",
            "\n",
            "not json\n",
            "{{\"name\":\"neg.exe\",\"pid\":-1}}\n",
            "{{\"name\":\"nopid.exe\"}}\n",
            "{{\"name\":\"str.exe\",\"pid\":\"42\",\"ppid\":\"7\"}}\n",
        ),
        cmd
    )
    .into_bytes()
}

fn emotet(list: &ProcessList) -> &Process {
    list.processes
        .iter()
        .find(|p| p.pid == 6124)
        .expect("pid 6124")
}

#[test]
fn tasklist_english_and_japanese() {
    let l = parse_process_list(&tasklist_en_verbose()).unwrap();
    assert_eq!(l.format, "tasklist-csv");
    assert_eq!(l.problems, vec![]);
    let names: Vec<(&str, u32)> = l
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.pid))
        .collect();
    assert_eq!(
        names,
        [
            ("System Idle Process", 0),
            ("System", 4),
            ("rundll32.exe", 6124)
        ]
    );
    assert!(
        l.processes
            .iter()
            .all(|p| p.ppid.is_none() && p.image_path.is_none() && p.command_line.is_none())
    );

    let l = parse_process_list(&tasklist_ja()).unwrap();
    assert_eq!(l.format, "tasklist-csv");
    assert_eq!(l.problems, vec![]);
    let names: Vec<(&str, u32)> = l
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.pid))
        .collect();
    assert_eq!(
        names,
        [
            ("System Idle Process", 0),
            ("explorer.exe", 4312),
            ("更新.exe", 7777)
        ]
    );

    // `tasklist /fo csv /nh`: no header row.
    let no_header: Vec<u8> = tasklist_ja()
        .splitn(2, |&b| b == b'\n')
        .nth(1)
        .unwrap()
        .to_vec();
    let l = parse_process_list(&no_header).unwrap();
    assert_eq!(l.format, "tasklist-csv");
    assert_eq!(l.processes.len(), 3);
    assert_eq!(l.processes[2].name, "更新.exe");
}

#[test]
fn powershell_csv_51_and_7() {
    let l = parse_process_list(&powershell51_csv()).unwrap();
    assert_eq!(l.format, "powershell-csv");
    assert_eq!(l.problems, vec![]);
    assert_eq!(l.processes.len(), 4);
    assert_eq!(
        l.processes[0],
        Process {
            name: "System Idle Process".into(),
            pid: 0,
            ppid: Some(0),
            image_path: None,
            command_line: None
        }
    );
    assert_eq!(l.processes[1].image_path, None);
    let e = emotet(&l);
    assert_eq!(e.ppid, Some(4312));
    assert_eq!(
        e.image_path.as_deref(),
        Some(r"C:\Windows\SysWOW64\rundll32.exe")
    );
    assert_eq!(e.command_line.as_deref(), Some(EMOTET_CMD));
    let note = &l.processes[3];
    assert_eq!(note.image_path.as_deref(), Some(r"C:\Users\田中\note.exe"));
    assert_eq!(
        note.command_line.as_deref(),
        Some("note.exe \"a,b\"\r\nsecond line")
    );

    let l = parse_process_list(&powershell7_csv()).unwrap();
    assert_eq!(l.format, "powershell-csv");
    assert_eq!(
        l.processes,
        [Process {
            name: "System".into(),
            pid: 4,
            ppid: Some(0),
            image_path: None,
            command_line: None
        }]
    );
    assert_eq!(
        l.problems,
        [
            ProcListError::BadRecord {
                line: 3,
                reason: "PID is not a number from 0 to 4294967295"
            },
            ProcListError::BadRecord {
                line: 4,
                reason: "parent PID is not a number from 0 to 4294967295"
            },
        ]
    );
}

#[test]
fn powershell_json_array_and_single_object() {
    let l = parse_process_list(&powershell51_json()).unwrap();
    assert_eq!(l.format, "powershell-json");
    assert_eq!(l.processes.len(), 2);
    assert_eq!(l.processes[0].name, "System Idle Process");
    assert_eq!(
        (
            l.processes[0].image_path.as_ref(),
            l.processes[0].command_line.as_ref()
        ),
        (None, None)
    );
    assert_eq!(emotet(&l).command_line.as_deref(), Some(EMOTET_CMD));
    assert_eq!(
        l.problems,
        [
            ProcListError::BadElement {
                index: 3,
                reason: "not a JSON object"
            },
            ProcListError::BadElement {
                index: 4,
                reason: "no pid/ProcessId"
            },
        ]
    );

    let l = parse_process_list(&powershell7_single()).unwrap();
    assert_eq!(l.format, "powershell-json");
    assert_eq!(l.problems, vec![]);
    assert_eq!(
        l.processes,
        [Process {
            name: "rundll32.exe".into(),
            pid: 6124,
            ppid: Some(4312),
            image_path: Some(r"C:\Windows\SysWOW64\rundll32.exe".into()),
            command_line: Some("rundll32.exe x.dll,Control_RunDLL".into()),
        }]
    );
    // A truncated document is a problem, not a panic or a silent empty list.
    let cut = &powershell7_single()[..40];
    let l = parse_process_list(cut).unwrap();
    assert!(l.processes.is_empty());
    assert!(matches!(l.problems[..], [ProcListError::Json { .. }]));
}

#[test]
fn wmic_csv_rejoins_command_lines() {
    let l = parse_process_list(&wmic()).unwrap();
    assert_eq!(l.format, "wmic-csv");
    let rows: Vec<(&str, u32, Option<u32>)> = l
        .processes
        .iter()
        .map(|p| (p.name.as_str(), p.pid, p.ppid))
        .collect();
    assert_eq!(
        rows,
        [
            ("System Idle Process", 0, Some(0)),
            ("System", 4, Some(0)),
            ("rundll32.exe", 6124, Some(4312)),
            ("x.exe", 2, Some(1))
        ]
    );
    assert_eq!(emotet(&l).command_line.as_deref(), Some(EMOTET_CMD));
    assert_eq!(
        l.processes[3].command_line.as_deref(),
        Some(r#""C:\Program Files\x.exe" --a=1,2,3"#)
    );
    assert_eq!(
        l.processes[3].image_path.as_deref(),
        Some(r"C:\Program Files\x.exe")
    );
    // Line numbers count the blank line and each `\r\r\n` as two breaks.
    assert_eq!(
        l.problems,
        [ProcListError::BadRecord {
            line: 13,
            reason: "field count differs from the header"
        }]
    );
}

#[test]
fn kensa_json_lines() {
    let l = parse_process_list(&kensa_jsonl()).unwrap();
    assert_eq!(l.format, "kensa-jsonl");
    let e = emotet(&l);
    assert_eq!(
        (e.ppid, e.command_line.as_deref()),
        (Some(4312), Some(EMOTET_CMD))
    );
    assert_eq!(
        l.processes[1],
        Process {
            name: "System".into(),
            pid: 4,
            ppid: None,
            image_path: None,
            command_line: None
        }
    );
    assert_eq!(
        (
            l.processes[2].name.as_str(),
            l.processes[2].pid,
            l.processes[2].ppid
        ),
        ("str.exe", 42, Some(7))
    );
    let lines: Vec<usize> = l
        .problems
        .iter()
        .map(|p| match p {
            ProcListError::Json { line, .. } | ProcListError::BadRecord { line, .. } => *line,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(lines, [4, 5, 6]);
}

#[test]
fn rejected_inputs() {
    assert_eq!(parse_process_list(b""), Err(ProcListError::Empty));
    assert_eq!(parse_process_list(b" \r\n\t"), Err(ProcListError::Empty));
    assert_eq!(parse_process_list(&[0xFF, 0xFE]), Err(ProcListError::Empty));
    assert!(matches!(
        parse_process_list(b"hello,world\n1,2\n"),
        Err(ProcListError::UnknownFormat { first_line }) if first_line == "hello,world"
    ));
    let big = vec![b'x'; MAX_INPUT_BYTES + 1];
    assert!(matches!(
        parse_process_list(&big),
        Err(ProcListError::TooLarge { .. })
    ));
}

#[test]
fn process_and_problem_limits() {
    let mut s = String::from("\"Name\",\"ProcessId\"\n");
    for i in 0..(MAX_PROCESSES + 5) {
        s.push_str(&format!("\"p.exe\",\"{i}\"\n"));
    }
    let l = parse_process_list(s.as_bytes()).unwrap();
    assert_eq!(l.processes.len(), MAX_PROCESSES);
    assert_eq!(
        l.problems,
        [ProcListError::TooManyProcesses { max: MAX_PROCESSES }]
    );

    let mut s = String::from("[");
    for i in 0..(MAX_PROCESSES + 5) {
        s.push_str(&format!("{{\"Name\":\"p\",\"ProcessId\":{i}}},"));
    }
    s.push_str("{}]");
    let l = parse_process_list(s.as_bytes()).unwrap();
    assert_eq!(l.processes.len(), MAX_PROCESSES);
    assert_eq!(
        l.problems,
        [ProcListError::TooManyProcesses { max: MAX_PROCESSES }]
    );

    let mut s = String::from("\"Name\",\"ProcessId\"\n");
    for _ in 0..(MAX_PROBLEMS + 5) {
        s.push_str("\"p.exe\",\"x\"\n");
    }
    let l = parse_process_list(s.as_bytes()).unwrap();
    assert_eq!(l.problems.len(), MAX_PROBLEMS + 1);
    assert_eq!(
        l.problems.last(),
        Some(&ProcListError::TooManyProblems { max: MAX_PROBLEMS })
    );
}

#[test]
fn mutated_lists_never_panic_and_stay_bounded() {
    let seeds = vec![
        tasklist_en_verbose(),
        tasklist_ja(),
        powershell51_csv(),
        powershell7_csv(),
        powershell51_json(),
        powershell7_single(),
        wmic(),
        kensa_jsonl(),
    ];
    let mut ok = 0;
    for_each_variant(&seeds, 6000, |data| {
        let Ok(l) = parse_process_list(data) else {
            return;
        };
        ok += 1;
        assert!(l.processes.len() <= data.len() / 2 + 1);
        assert!(l.problems.len() <= MAX_PROBLEMS + 1);
        for p in &l.processes {
            let len = p.name.len()
                + p.image_path.as_ref().map_or(0, String::len)
                + p.command_line.as_ref().map_or(0, String::len);
            assert!(len <= data.len() * 3);
        }
    });
    assert!(ok > 2000, "most variants still parse ({ok})");
}
