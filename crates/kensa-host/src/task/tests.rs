use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;
use crate::regexport::text::mutate::for_each_variant;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/host/tasks-win10"
);

/// Every file under `dir`, sorted, with its path relative to `dir` using `\` like Windows.
fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('/', "\\");
                out.push((rel, p));
            }
        }
    }
    out.sort();
    out
}

fn corpus() -> Vec<(String, Vec<u8>, Task)> {
    files(Path::new(CORPUS))
        .into_iter()
        .map(|(name, path)| {
            let data = std::fs::read(&path).unwrap();
            let task = parse_task(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, data, task)
        })
        .collect()
}

fn by_name<'a>(all: &'a [(String, Vec<u8>, Task)], name: &str) -> &'a Task {
    &all.iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("{name}"))
        .2
}

#[test]
fn whole_win10_corpus_parses() {
    let all = corpus();
    assert_eq!(all.len(), 202);
    for (name, data, task) in &all {
        assert_eq!(&data[..2], &[0xFF, 0xFE], "{name} is UTF-16LE with BOM");
        assert_eq!(task.problems, vec![], "{name}");
        assert!(!task.actions.is_empty(), "{name} has actions");
        for a in &task.actions {
            match a {
                Action::Exec { command, .. } => assert!(!command.is_empty(), "{name}"),
                Action::ComHandler { class_id, .. } => {
                    assert!(
                        class_id.starts_with('{') && class_id.ends_with('}'),
                        "{name}: {class_id}"
                    )
                }
                Action::Other(kind) => panic!("{name}: unexpected action {kind}"),
            }
        }
    }
    let actions = all.iter().flat_map(|(_, _, t)| &t.actions);
    let exec = actions
        .clone()
        .filter(|a| matches!(a, Action::Exec { .. }))
        .count();
    let com = actions
        .filter(|a| matches!(a, Action::ComHandler { .. }))
        .count();
    assert_eq!((exec, com), (90, 112));
    let hidden = all.iter().filter(|(_, _, t)| t.hidden).count();
    assert_eq!(hidden, 54, "host.md §7: 54 tasks set <Hidden>true</Hidden>");

    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for tr in all.iter().flat_map(|(_, _, t)| &t.triggers) {
        *kinds.entry(tr.kind.as_str()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("BootTrigger", 12),
        ("CalendarTrigger", 11),
        ("EventTrigger", 15),
        ("IdleTrigger", 4),
        ("LogonTrigger", 28),
        ("RegistrationTrigger", 6),
        ("SessionStateChangeTrigger", 7),
        ("TimeTrigger", 29),
        ("WnfStateChangeTrigger", 110),
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, expected);

    let rundll = all
        .iter()
        .flat_map(|(_, _, t)| &t.actions)
        .filter(|a| matches!(a, Action::Exec { command, .. } if command.to_lowercase().ends_with(r"\system32\rundll32.exe")))
        .count();
    assert_eq!(rundll, 10, "host.md §7: 10 Microsoft tasks run rundll32");
    let disabled = all.iter().filter(|(_, _, t)| !t.enabled).count();
    assert!(disabled > 0 && disabled < 202);
}

#[test]
fn gameover_and_autochk_proxy() {
    let all = corpus();
    let t = by_name(&all, "GameOver");
    assert_eq!(t.uri.as_deref(), Some(r"\GameOver"));
    assert_eq!(t.author.as_deref(), Some(r"DESKTOP-TMKU40H\TestUser"));
    assert_eq!(t.user_id.as_deref(), Some(r"DESKTOP-TMKU40H\TestUser"));
    assert_eq!(t.logon_type.as_deref(), Some("InteractiveToken"));
    assert_eq!(t.run_level.as_deref(), Some("LeastPrivilege"));
    assert_eq!(t.date.as_deref(), Some("2022-03-10T15:59:03"));
    assert!(t.enabled && !t.hidden);
    assert_eq!(
        t.triggers,
        [Trigger {
            kind: "TimeTrigger".into(),
            interval: Some("PT5M".into()),
            enabled: true
        }]
    );
    assert_eq!(
        t.actions,
        [Action::Exec {
            command: r"C:\TMP\mim.exe".into(),
            arguments: Some(r"sekurlsa::LogonPasswords > C:\TMP\o.txt".into()),
            working_directory: None,
        }]
    );

    let p = by_name(&all, r"Microsoft\Windows\Autochk\Proxy");
    assert_eq!(
        p.actions,
        [Action::Exec {
            command: r"%windir%\system32\rundll32.exe".into(),
            arguments: Some("/d acproxy.dll,PerformAutochkOperations".into()),
            working_directory: None,
        }]
    );
    // A ComHandler whose Data is a CDATA section.
    let with_data = all
        .iter()
        .flat_map(|(_, _, t)| &t.actions)
        .find_map(|a| match a {
            Action::ComHandler { data: Some(d), .. } if d == "$(Arg0)" => Some(d),
            _ => None,
        });
    assert!(with_data.is_some());
}

const SYNTHETIC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<t:Task version="1.4" xmlns:t="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <t:RegistrationInfo>
    <t:URI>\{9A2B4C6D-1111-2222-3333-444455556666}</t:URI>
    <t:Description>Caf&#xE9; &amp; &lt;b&gt; &quot;q&quot; &apos;a&apos; &nbsp;</t:Description>
  </t:RegistrationInfo>
  <t:Triggers>
    <t:BootTrigger/>
    <t:LogonTrigger><t:Enabled>false</t:Enabled></t:LogonTrigger>
    <t:CalendarTrigger><t:Repetition><t:Interval>PT1M</t:Interval></t:Repetition><t:Enabled>maybe</t:Enabled></t:CalendarTrigger>
  </t:Triggers>
  <t:Settings><t:Enabled>0</t:Enabled><t:Hidden>1</t:Hidden></t:Settings>
  <t:Principals>
    <t:Principal id="a"><t:UserId>S-1-5-18</t:UserId><t:RunLevel>HighestAvailable</t:RunLevel></t:Principal>
    <t:Principal id="b"><t:UserId>ignored</t:UserId><t:GroupId>S-1-5-32-545</t:GroupId></t:Principal>
  </t:Principals>
  <t:Actions Context="a">
    <t:Exec>
      <t:Command>
        C:\Users\Public\regsvr32.exe
      </t:Command>
      <t:Arguments><![CDATA[/s "C:\ProgramData\x.tmp" <&>]]></t:Arguments>
      <t:WorkingDirectory>C:\ProgramData</t:WorkingDirectory>
    </t:Exec>
    <t:SendEmail><t:Server>smtp</t:Server></t:SendEmail>
    <t:ComHandler><t:ClassId>{0000-1}</t:ClassId></t:ComHandler>
    <t:Exec/>
  </t:Actions>
</t:Task>"#;

#[test]
fn synthetic_utf8_task_with_prefixes_entities_and_empty_elements() {
    let t = parse_task(SYNTHETIC.as_bytes()).unwrap();
    assert_eq!(
        t.uri.as_deref(),
        Some(r"\{9A2B4C6D-1111-2222-3333-444455556666}")
    );
    assert_eq!(
        t.description.as_deref(),
        Some("Café & <b> \"q\" 'a' &nbsp;")
    );
    assert!(!t.enabled && t.hidden);
    assert_eq!(
        t.user_id.as_deref(),
        Some("S-1-5-18"),
        "first principal only"
    );
    assert_eq!(t.group_id, None);
    assert_eq!(t.run_level.as_deref(), Some("HighestAvailable"));
    let kinds: Vec<(&str, bool, Option<&str>)> = t
        .triggers
        .iter()
        .map(|tr| (tr.kind.as_str(), tr.enabled, tr.interval.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("BootTrigger", true, None),
            ("LogonTrigger", false, None),
            ("CalendarTrigger", true, Some("PT1M"))
        ]
    );
    assert_eq!(
        t.actions,
        [
            Action::Exec {
                command: r"C:\Users\Public\regsvr32.exe".into(),
                arguments: Some(r#"/s "C:\ProgramData\x.tmp" <&>"#.into()),
                working_directory: Some(r"C:\ProgramData".into()),
            },
            Action::Other("SendEmail".into()),
            Action::ComHandler {
                class_id: "{0000-1}".into(),
                data: None
            },
            Action::Exec {
                command: String::new(),
                arguments: None,
                working_directory: None
            },
        ]
    );
    assert_eq!(
        t.problems,
        [
            TaskError::UnknownEntity {
                name: "nbsp".into(),
                offset: t
                    .problems
                    .iter()
                    .find_map(|p| match p {
                        TaskError::UnknownEntity { offset, .. } => Some(*offset),
                        _ => None,
                    })
                    .unwrap(),
            },
            TaskError::BadBoolean {
                element: "Triggers/*/Enabled",
                value: "maybe".into()
            },
        ]
    );
    // The same document as UTF-16LE with BOM (how Task Scheduler writes it) reads the same.
    let mut utf16 = vec![0xFF, 0xFE];
    utf16.extend(text::utf16le(SYNTHETIC));
    assert_eq!(parse_task(&utf16).unwrap(), t);
}

#[test]
fn fatal_and_partial_errors() {
    assert_eq!(
        parse_task(b""),
        Err(TaskError::NotTask {
            found: String::new()
        })
    );
    assert_eq!(
        parse_task(b"hello"),
        Err(TaskError::NotTask {
            found: String::new()
        })
    );
    assert_eq!(
        parse_task(b"<?xml version='1.0'?><Other/>"),
        Err(TaskError::NotTask {
            found: "Other".into()
        })
    );
    assert!(matches!(
        parse_task(b"<a></b>"),
        Err(TaskError::NotTask { .. })
    ));
    assert!(
        matches!(parse_task(b"<Task><a></b></Task>"), Ok(t) if matches!(t.problems[..], [TaskError::Xml { .. }]))
    );
    let big = vec![b' '; MAX_TASK_BYTES + 1];
    assert_eq!(
        parse_task(&big),
        Err(TaskError::TooLarge {
            size: MAX_TASK_BYTES + 1,
            max: MAX_TASK_BYTES
        })
    );
    // Truncated after the first action: partial result plus a problem.
    let cut = SYNTHETIC.find("<t:SendEmail>").unwrap();
    let t = parse_task(&SYNTHETIC.as_bytes()[..cut + 5]).unwrap();
    assert_eq!(t.actions.len(), 1);
    assert_eq!(t.triggers.len(), 3);
    assert!(matches!(t.problems.last(), Some(TaskError::Xml { .. })));
    // Nesting beyond the limit.
    let deep = format!("<Task>{}</Task>", "<a>".repeat(MAX_DEPTH + 5));
    let t = parse_task(deep.as_bytes()).unwrap();
    assert!(matches!(
        t.problems[..],
        [TaskError::TooDeep { max: MAX_DEPTH, .. }]
    ));
    // Too many actions: capped and reported once.
    let many = format!(
        "<Task><Actions>{}</Actions></Task>",
        "<Exec><Command>x</Command></Exec>".repeat(MAX_ACTIONS + 3)
    );
    let t = parse_task(many.as_bytes()).unwrap();
    assert_eq!(t.actions.len(), MAX_ACTIONS);
    assert_eq!(
        t.problems,
        [TaskError::TooMany {
            what: "actions",
            max: MAX_ACTIONS
        }]
    );
}

#[test]
fn problem_list_is_capped() {
    let body = "&bogus;".repeat(MAX_PROBLEMS + 10);
    let doc = format!(
        "<Task><RegistrationInfo><Description>{body}</Description></RegistrationInfo></Task>"
    );
    let t = parse_task(doc.as_bytes()).unwrap();
    assert_eq!(t.problems.len(), MAX_PROBLEMS + 1);
    assert!(matches!(
        t.problems.last(),
        Some(TaskError::TooManyProblems { max: MAX_PROBLEMS })
    ));
}

#[test]
fn mutated_tasks_never_panic_and_stay_bounded() {
    let all = corpus();
    let pick = |n: &str| all.iter().find(|(name, _, _)| name == n).unwrap().1.clone();
    let seeds = vec![
        pick("GameOver"),
        pick(r"Microsoft\Windows\Autochk\Proxy"),
        all.iter()
            .find(|(_, _, t)| {
                t.actions
                    .iter()
                    .any(|a| matches!(a, Action::ComHandler { data: Some(_), .. }))
            })
            .unwrap()
            .1
            .clone(),
        SYNTHETIC.as_bytes().to_vec(),
    ];
    let mut ok = 0;
    for_each_variant(&seeds, 4000, |data| {
        let Ok(t) = parse_task(data) else { return };
        ok += 1;
        assert!(t.triggers.len() <= MAX_TRIGGERS);
        assert!(t.actions.len() <= MAX_ACTIONS);
        assert!(t.problems.len() <= MAX_PROBLEMS + 1);
        let text_len: usize = t
            .uri
            .iter()
            .chain(&t.author)
            .chain(&t.description)
            .map(String::len)
            .sum();
        assert!(text_len <= data.len() * 3);
    });
    assert!(ok > 1000, "most variants keep a Task root ({ok})");
}
