//! Reader for Task Scheduler task definitions: the XML files under `C:\Windows\System32\Tasks\**`
//! (one file per task, no extension; the path below `Tasks` is the task's name).
//!
//! # Format facts used
//! - Files are UTF-16LE with a BOM (`FF FE`) and declare `encoding="UTF-16"`; tasks registered from
//!   UTF-8 XML (`schtasks /create /xml`) may be UTF-8. The text is decoded first
//!   (BOM, NUL-byte guess, UTF-8; see `regexport::text`) and quick-xml then reads the decoded text, so
//!   the declared encoding is ignored.
//! - Root element `Task` in the namespace `http://schemas.microsoft.com/windows/2004/02/mit/task`.
//!   Elements are matched by local name (prefixes ignored); the namespace itself is not checked.
//! - Read: `RegistrationInfo/{URI,Author,Description,Date}`; `Settings/{Enabled,Hidden}` (booleans
//!   `true`/`false`/`1`/`0`; `Enabled` defaults to true, `Hidden` to false);
//!   `Principals/Principal/{UserId,GroupId,LogonType,RunLevel}` of the *first* principal;
//!   every child of `Triggers` (its element name is the trigger kind, e.g. `TimeTrigger`,
//!   `LogonTrigger`, `WnfStateChangeTrigger`) with its `Enabled` and `Repetition/Interval`;
//!   every child of `Actions`: `Exec/{Command,Arguments,WorkingDirectory}`,
//!   `ComHandler/{ClassId,Data}`, any other action kind by name (`SendEmail`, `ShowMessage`).
//! - Text is unescaped: the five predefined entities, character references (`&#x41;`) and CDATA
//!   sections (`ComHandler/Data` uses CDATA); leading and trailing XML whitespace is trimmed.
//!
//! # Errors and limits
//! `Err` when the input is larger than [`MAX_TASK_BYTES`], or when no `Task` root element is found
//! (not XML, another root, or an XML error before the root). After the root, problems (XML errors —
//! reading stops there —, unknown entities, bad booleans, nesting deeper than [`MAX_DEPTH`], more than
//! [`MAX_TRIGGERS`]/[`MAX_ACTIONS`]) go to [`Task::problems`] and what was read so far is returned.

use quick_xml::Reader;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::regexport::text;

/// Largest task file accepted (real ones are a few KiB).
pub const MAX_TASK_BYTES: usize = 4 << 20;
/// Deepest element nesting accepted (real files nest 5 levels).
pub const MAX_DEPTH: usize = 32;
/// Most triggers kept (Task Scheduler allows 48).
pub const MAX_TRIGGERS: usize = 256;
/// Most actions kept (Task Scheduler allows 32).
pub const MAX_ACTIONS: usize = 256;
/// Most problems kept; one more entry says that others were dropped.
pub const MAX_PROBLEMS: usize = 1_000;

/// What is wrong with a task file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TaskError {
    /// The input is larger than [`MAX_TASK_BYTES`].
    #[error("task file is {size} bytes, more than the {max}-byte limit")]
    TooLarge {
        /// Input size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The document's root element is not `Task`.
    #[error("not a task definition: root element is {found:?}")]
    NotTask {
        /// Local name of the root element found, or empty if there was none.
        found: String,
    },
    /// Malformed XML. Offsets are byte offsets into the decoded (UTF-8) text.
    #[error("XML error at offset {offset} of the decoded text: {message}")]
    Xml {
        /// Byte offset in the decoded text.
        offset: u64,
        /// quick-xml's description.
        message: String,
    },
    /// Elements nested deeper than [`MAX_DEPTH`]; reading stopped.
    #[error("elements nested deeper than {max} at offset {offset}; reading stopped")]
    TooDeep {
        /// Byte offset in the decoded text.
        offset: u64,
        /// The limit.
        max: usize,
    },
    /// More triggers or actions than the limit; the rest were skipped.
    #[error("more than {max} {what}; the rest were skipped")]
    TooMany {
        /// `triggers` or `actions`.
        what: &'static str,
        /// The limit.
        max: usize,
    },
    /// An entity reference that is neither predefined nor a character reference; kept as written.
    #[error("unknown entity &{name}; at offset {offset}")]
    UnknownEntity {
        /// The entity name.
        name: String,
        /// Byte offset in the decoded text.
        offset: u64,
    },
    /// A boolean element that is not `true`, `false`, `1` or `0`; the default was kept.
    #[error("{element} is {value:?}, not a boolean; default kept")]
    BadBoolean {
        /// Element path, e.g. `Settings/Hidden`.
        element: &'static str,
        /// The text found.
        value: String,
    },
    /// The text was not valid in its encoding; invalid sequences were replaced with U+FFFD.
    #[error("text is not valid {encoding}; invalid sequences replaced with U+FFFD")]
    Undecodable {
        /// The encoding the file was read as.
        encoding: &'static str,
    },
    /// More than [`MAX_PROBLEMS`] problems; the others were not kept.
    #[error("more than {max} problems; the others were not kept")]
    TooManyProblems {
        /// The limit.
        max: usize,
    },
}

/// Adds a problem unless the list is full; the first one over the limit becomes
/// [`TaskError::TooManyProblems`].
fn push_problem(problems: &mut Vec<TaskError>, p: TaskError) {
    if problems.len() < MAX_PROBLEMS {
        problems.push(p);
    } else if problems.len() == MAX_PROBLEMS {
        problems.push(TaskError::TooManyProblems { max: MAX_PROBLEMS });
    }
}

/// A scheduled task as defined by its XML file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// `RegistrationInfo/URI`, the task's path, e.g. `\GameOver`.
    pub uri: Option<String>,
    /// `RegistrationInfo/Author`.
    pub author: Option<String>,
    /// `RegistrationInfo/Description`.
    pub description: Option<String>,
    /// `RegistrationInfo/Date` (registration time as written, local time without zone).
    pub date: Option<String>,
    /// `Settings/Hidden` (default false).
    pub hidden: bool,
    /// `Settings/Enabled` (default true).
    pub enabled: bool,
    /// `Principals/Principal/UserId` of the first principal (a name or a SID such as `S-1-5-18`).
    pub user_id: Option<String>,
    /// `Principals/Principal/GroupId` of the first principal.
    pub group_id: Option<String>,
    /// `Principals/Principal/LogonType` of the first principal.
    pub logon_type: Option<String>,
    /// `Principals/Principal/RunLevel` of the first principal (`LeastPrivilege`, `HighestAvailable`).
    pub run_level: Option<String>,
    /// Triggers in file order.
    pub triggers: Vec<Trigger>,
    /// Actions in file order.
    pub actions: Vec<Action>,
    /// What could not be read (see the module doc); empty for a well-formed file.
    pub problems: Vec<TaskError>,
}

/// One trigger of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The element name: `TimeTrigger`, `LogonTrigger`, `CalendarTrigger`, `BootTrigger`, …
    pub kind: String,
    /// `Repetition/Interval`, an ISO 8601 duration such as `PT5M`.
    pub interval: Option<String>,
    /// The trigger's `Enabled` (default true).
    pub enabled: bool,
}

/// One action of a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Run a program.
    Exec {
        /// `Command` (may contain `%environment%` variables and `$(Arg0)` placeholders).
        command: String,
        /// `Arguments`.
        arguments: Option<String>,
        /// `WorkingDirectory`.
        working_directory: Option<String>,
    },
    /// Start a COM handler.
    ComHandler {
        /// `ClassId`, a CLSID such as `{47E30D54-DAC1-473A-AFF7-2355BF78881F}`.
        class_id: String,
        /// `Data` passed to the handler.
        data: Option<String>,
    },
    /// Any other action element (`SendEmail`, `ShowMessage`, …), by name.
    Other(String),
}

impl Task {
    fn new() -> Self {
        Task {
            uri: None,
            author: None,
            description: None,
            date: None,
            hidden: false,
            enabled: true,
            user_id: None,
            group_id: None,
            logon_type: None,
            run_level: None,
            triggers: Vec::new(),
            actions: Vec::new(),
            problems: Vec::new(),
        }
    }
}

/// Parses one task XML file.
pub fn parse_task(data: &[u8]) -> Result<Task, TaskError> {
    if data.len() > MAX_TASK_BYTES {
        return Err(TaskError::TooLarge {
            size: data.len(),
            max: MAX_TASK_BYTES,
        });
    }
    let decoded = text::decode(data);
    let mut walker = Walker {
        task: Task::new(),
        stack: Vec::new(),
        text: String::new(),
        root_seen: false,
        principals: 0,
        trigger: None,
        action: None,
        triggers_full: false,
        actions_full: false,
    };
    if decoded.lossy {
        push_problem(
            &mut walker.task.problems,
            TaskError::Undecodable {
                encoding: decoded.encoding,
            },
        );
    }
    let mut reader = Reader::from_str(&decoded.text);
    loop {
        let offset = reader.buffer_position();
        let event = match reader.read_event() {
            Ok(ev) => ev,
            Err(e) => {
                let err = TaskError::Xml {
                    offset: reader.error_position(),
                    message: e.to_string(),
                };
                return walker.fail(err);
            }
        };
        let step = match event {
            Event::Start(e) => walker.start(&e, offset),
            Event::Empty(e) => walker.start(&e, offset).and_then(|()| walker.end()),
            Event::End(_) => walker.end(),
            Event::Text(t) => {
                walker.push_text(&t.xml10_content().unwrap_or_default());
                Ok(())
            }
            Event::CData(t) => {
                walker.push_text(&t.xml10_content().unwrap_or_default());
                Ok(())
            }
            Event::GeneralRef(r) => {
                walker.entity(&r, offset);
                Ok(())
            }
            Event::Eof => break,
            _ => Ok(()),
        };
        if let Err(e) = step {
            return walker.fail(e);
        }
    }
    if !walker.root_seen {
        return Err(TaskError::NotTask {
            found: String::new(),
        });
    }
    Ok(walker.task)
}

/// Event-driven state: the element path and the text of the element being read.
struct Walker {
    task: Task,
    /// Local names of the open elements, outermost first.
    stack: Vec<String>,
    /// Text collected since the last start or end tag.
    text: String,
    root_seen: bool,
    principals: usize,
    /// Index of the trigger being read (`None` outside triggers or past the limit).
    trigger: Option<usize>,
    /// Index of the action being read.
    action: Option<usize>,
    /// The trigger / action limit was reported.
    triggers_full: bool,
    actions_full: bool,
}

impl Walker {
    /// Ends reading with `err`: fatal before the root element, a problem after it.
    fn fail(mut self, err: TaskError) -> Result<Task, TaskError> {
        if self.root_seen {
            push_problem(&mut self.task.problems, err);
            Ok(self.task)
        } else {
            Err(err)
        }
    }

    fn push_text(&mut self, s: &str) {
        self.text.push_str(s);
    }

    fn entity(&mut self, r: &BytesRef<'_>, offset: u64) {
        if let Ok(Some(c)) = r.resolve_char_ref() {
            self.text.push(c);
            return;
        }
        let name = String::from_utf8_lossy(r).into_owned();
        let c = match name.as_str() {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "apos" => '\'',
            "quot" => '"',
            _ => {
                self.text.push('&');
                self.text.push_str(&name);
                self.text.push(';');
                push_problem(
                    &mut self.task.problems,
                    TaskError::UnknownEntity { name, offset },
                );
                return;
            }
        };
        self.text.push(c);
    }

    fn start(&mut self, e: &BytesStart<'_>, offset: u64) -> Result<(), TaskError> {
        let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        if !self.root_seen {
            if name != "Task" {
                return Err(TaskError::NotTask { found: name });
            }
            self.root_seen = true;
        } else if self.stack.is_empty() {
            // A second top-level element: not part of the task.
            return Err(TaskError::Xml {
                offset,
                message: format!("element <{name}> after the Task root element"),
            });
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(TaskError::TooDeep {
                offset,
                max: MAX_DEPTH,
            });
        }
        self.stack.push(name);
        self.text.clear();
        self.opened();
        Ok(())
    }

    /// Reacts to the element just pushed on the stack.
    fn opened(&mut self) {
        let path: Vec<&str> = self.stack.iter().map(String::as_str).collect();
        match path.as_slice() {
            ["Task", "Triggers", kind] => {
                let kind = (*kind).to_owned();
                self.trigger = self.add_trigger(kind);
            }
            ["Task", "Actions", kind] => {
                let action = match *kind {
                    "Exec" => Action::Exec {
                        command: String::new(),
                        arguments: None,
                        working_directory: None,
                    },
                    "ComHandler" => Action::ComHandler {
                        class_id: String::new(),
                        data: None,
                    },
                    other => Action::Other(other.to_owned()),
                };
                self.action = self.add_action(action);
            }
            ["Task", "Principals", "Principal"] => self.principals += 1,
            _ => {}
        }
    }

    fn add_trigger(&mut self, kind: String) -> Option<usize> {
        if self.task.triggers.len() >= MAX_TRIGGERS {
            self.too_many("triggers", MAX_TRIGGERS);
            return None;
        }
        self.task.triggers.push(Trigger {
            kind,
            interval: None,
            enabled: true,
        });
        Some(self.task.triggers.len() - 1)
    }

    fn add_action(&mut self, action: Action) -> Option<usize> {
        if self.task.actions.len() >= MAX_ACTIONS {
            self.too_many("actions", MAX_ACTIONS);
            return None;
        }
        self.task.actions.push(action);
        Some(self.task.actions.len() - 1)
    }

    /// Reports a full trigger or action list, once per list.
    fn too_many(&mut self, what: &'static str, max: usize) {
        let first = match what {
            "triggers" => !std::mem::replace(&mut self.triggers_full, true),
            _ => !std::mem::replace(&mut self.actions_full, true),
        };
        if first {
            push_problem(&mut self.task.problems, TaskError::TooMany { what, max });
        }
    }

    fn end(&mut self) -> Result<(), TaskError> {
        let value = self.text.trim_matches([' ', '\t', '\r', '\n']).to_owned();
        self.text.clear();
        self.closed(value);
        self.stack.pop();
        Ok(())
    }

    /// Stores the text of the element about to be popped from the stack.
    fn closed(&mut self, value: String) {
        let path: Vec<&str> = self.stack.iter().map(String::as_str).collect();
        let t = &mut self.task;
        match path.as_slice() {
            ["Task", "RegistrationInfo", "URI"] => t.uri = Some(value),
            ["Task", "RegistrationInfo", "Author"] => t.author = Some(value),
            ["Task", "RegistrationInfo", "Description"] => t.description = Some(value),
            ["Task", "RegistrationInfo", "Date"] => t.date = Some(value),
            ["Task", "Settings", "Hidden"] => {
                t.hidden = boolean(&mut t.problems, "Settings/Hidden", value, t.hidden)
            }
            ["Task", "Settings", "Enabled"] => {
                t.enabled = boolean(&mut t.problems, "Settings/Enabled", value, t.enabled)
            }
            ["Task", "Principals", "Principal", field] if self.principals == 1 => match *field {
                "UserId" => t.user_id = Some(value),
                "GroupId" => t.group_id = Some(value),
                "LogonType" => t.logon_type = Some(value),
                "RunLevel" => t.run_level = Some(value),
                _ => {}
            },
            ["Task", "Triggers", _] => self.trigger = None,
            ["Task", "Triggers", _, "Enabled"] => {
                if let Some(tr) = self.trigger.and_then(|i| t.triggers.get_mut(i)) {
                    tr.enabled = boolean(&mut t.problems, "Triggers/*/Enabled", value, tr.enabled);
                }
            }
            ["Task", "Triggers", _, "Repetition", "Interval"] => {
                if let Some(tr) = self.trigger.and_then(|i| t.triggers.get_mut(i)) {
                    tr.interval = Some(value);
                }
            }
            ["Task", "Actions", _] => self.action = None,
            ["Task", "Actions", _, field] => {
                if let Some(a) = self.action.and_then(|i| t.actions.get_mut(i)) {
                    set_action_field(a, field, value);
                }
            }
            _ => {}
        }
    }
}

fn set_action_field(action: &mut Action, field: &str, value: String) {
    match (action, field) {
        (Action::Exec { command, .. }, "Command") => *command = value,
        (Action::Exec { arguments, .. }, "Arguments") => *arguments = Some(value),
        (
            Action::Exec {
                working_directory, ..
            },
            "WorkingDirectory",
        ) => *working_directory = Some(value),
        (Action::ComHandler { class_id, .. }, "ClassId") => *class_id = value,
        (Action::ComHandler { data, .. }, "Data") => *data = Some(value),
        _ => {}
    }
}

/// An XML Schema boolean; a bad value is reported and `default` kept.
fn boolean(
    problems: &mut Vec<TaskError>,
    element: &'static str,
    value: String,
    default: bool,
) -> bool {
    match value.as_str() {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => {
            push_problem(problems, TaskError::BadBoolean { element, value });
            default
        }
    }
}

#[cfg(test)]
mod tests;
