//! Running processes: one Toolhelp snapshot (name, PID, parent PID), then per process a
//! `PROCESS_QUERY_LIMITED_INFORMATION` handle for the image path (`QueryFullProcessImageNameW`)
//! and the command line (`NtQueryInformationProcess`, class 60 = ProcessCommandLineInformation,
//! Windows 8.1+, which needs only that access right; older systems and Wine answer
//! `STATUS_INVALID_INFO_CLASS` and command lines stay unknown — no other process's memory is
//! read). What could not be opened or read is counted into one problem per kind.
//!
//! Limits: [`MAX_PROCESSES`] snapshot entries, [`MAX_CMDLINE_BUF`] bytes of command-line buffer
//! (the `UNICODE_STRING` header plus at most 65,534 bytes of text), [`super::win::MAX_WIDE_PATH`]
//! units of image path.

use std::ffi::c_void;

use windows_sys::Wdk::System::Threading::NtQueryInformationProcess;
use windows_sys::Win32::Foundation::ERROR_INSUFFICIENT_BUFFER;
use windows_sys::Win32::System::Diagnostics::ToolHelp::{
    CreateToolhelp32Snapshot, PROCESSENTRY32W, Process32FirstW, Process32NextW, TH32CS_SNAPPROCESS,
};
use windows_sys::Win32::System::Threading::{
    OpenProcess, PROCESS_NAME_WIN32, PROCESS_QUERY_LIMITED_INFORMATION, QueryFullProcessImageNameW,
};

use super::pure::{self, Tally};
use super::win::{self, OwnedHandle};
use crate::model::{HostData, Problem};
use crate::proclist::Process;

/// Snapshot entries read at most.
pub const MAX_PROCESSES: usize = 65_536;
/// Largest command-line buffer (64 KiB of text plus the header).
pub const MAX_CMDLINE_BUF: usize = 64 * 1024 + 16;
/// First command-line buffer tried; most command lines fit.
const FIRST_CMDLINE_BUF: usize = 4096;
/// `PROCESSINFOCLASS` ProcessCommandLineInformation (not in windows-sys's list).
const PROCESS_COMMAND_LINE_INFORMATION: i32 = 60;

const STATUS_INVALID_INFO_CLASS: i32 = 0xC000_0003_u32 as i32;
const STATUS_INFO_LENGTH_MISMATCH: i32 = 0xC000_0004_u32 as i32;
const STATUS_BUFFER_TOO_SMALL: i32 = 0xC000_0023_u32 as i32;
const STATUS_BUFFER_OVERFLOW: i32 = 0x8000_0005_u32 as i32;

/// What went wrong per kind, for the aggregated problems.
#[derive(Default)]
struct Failures {
    open: Tally,
    image: Tally,
    cmdline: Tally,
    /// Class 60 is not supported: no command line can be read on this system.
    cmdline_unsupported: bool,
}

/// Fills `data.processes` (and problems).
pub(super) fn collect(data: &mut HostData) {
    let entries = match snapshot() {
        Ok(e) => e,
        Err(code) => {
            data.problems.push(Problem {
                what: "processes (CreateToolhelp32Snapshot)".into(),
                why: pure::describe_win32(code),
            });
            return;
        }
    };
    let mut fails = Failures::default();
    let mut list = Vec::with_capacity(entries.len());
    for (pid, ppid, name) in entries {
        list.push(describe(pid, ppid, name, &mut fails));
    }
    if let Some(s) = fails.open.summary("processes could not be opened") {
        data.problems.push(Problem {
            what: "processes".into(),
            why: format!(
                "{s}: their image paths and command lines are unknown (run as administrator to read them)"
            ),
        });
    }
    if let Some(s) = fails.image.summary("image paths could not be read") {
        data.problems.push(Problem {
            what: "process image paths".into(),
            why: s,
        });
    }
    if fails.cmdline_unsupported {
        data.problems.push(Problem {
            what: "process command lines".into(),
            why: "NtQueryInformationProcess(ProcessCommandLineInformation) is not supported here \
                  (Windows before 8.1, or Wine): no command line was read"
                .into(),
        });
    }
    if let Some(s) = fails.cmdline.summary("command lines could not be read") {
        data.problems.push(Problem {
            what: "process command lines".into(),
            why: s,
        });
    }
    data.processes = Some(list);
}

/// (pid, parent pid, exe name) of every process in one snapshot.
fn snapshot() -> Result<Vec<(u32, u32, String)>, u32> {
    // SAFETY: plain call; the handle is checked and owned below.
    let snap = unsafe { CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0) };
    let snap = OwnedHandle::new(snap).ok_or_else(win::last_error)?;
    let mut entry = PROCESSENTRY32W {
        dwSize: std::mem::size_of::<PROCESSENTRY32W>() as u32,
        ..Default::default()
    };
    let mut out = Vec::new();
    // SAFETY: `entry` is a valid PROCESSENTRY32W with dwSize set.
    let mut ok = unsafe { Process32FirstW(snap.0, &mut entry) };
    if ok == 0 {
        return Err(win::last_error());
    }
    while ok != 0 && out.len() < MAX_PROCESSES {
        out.push((
            entry.th32ProcessID,
            entry.th32ParentProcessID,
            pure::wide_to_string(&entry.szExeFile),
        ));
        // SAFETY: as above.
        ok = unsafe { Process32NextW(snap.0, &mut entry) };
    }
    Ok(out)
}

/// The idle and System pseudo-processes and the minimal processes System starts (Registry,
/// Secure System, MemCompression) have no image or command line: their failures are expected.
fn kernel_owned(pid: u32, ppid: u32) -> bool {
    pid == 0 || pid == 4 || ppid == 4
}

/// One process with what its limited handle gives.
fn describe(pid: u32, ppid: u32, name: String, fails: &mut Failures) -> Process {
    let mut p = Process {
        name,
        pid,
        ppid: Some(ppid),
        image_path: None,
        command_line: None,
    };
    if pid == 0 {
        return p;
    }
    let label = format!("{} ({pid})", p.name);
    // SAFETY: plain call; the handle is checked and owned below.
    let h = unsafe { OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid) };
    let Some(h) = OwnedHandle::new(h) else {
        let code = win::last_error();
        // A process that exited since the snapshot answers "invalid parameter".
        if !kernel_owned(pid, ppid) && code != 87 {
            fails
                .open
                .add(format!("{label}: {}", pure::describe_win32(code)));
        }
        return p;
    };
    match image_path(&h) {
        Ok(path) => p.image_path = Some(path),
        Err(code) if !kernel_owned(pid, ppid) => {
            fails
                .image
                .add(format!("{label}: {}", pure::describe_win32(code)));
        }
        Err(_) => {}
    }
    if !fails.cmdline_unsupported {
        match command_line(&h) {
            Ok(cl) => p.command_line = Some(cl),
            Err(STATUS_INVALID_INFO_CLASS) => fails.cmdline_unsupported = true,
            Err(_) if kernel_owned(pid, ppid) => {}
            Err(st) => fails
                .cmdline
                .add(format!("{label}: {}", pure::describe_ntstatus(st))),
        }
    }
    p
}

/// `QueryFullProcessImageNameW` (Win32 form, `C:\…`), growing the buffer when needed.
fn image_path(h: &OwnedHandle) -> Result<String, u32> {
    let mut cap = 1024usize;
    loop {
        let mut buf = vec![0u16; cap];
        let mut len = u32::try_from(cap).unwrap_or(u32::MAX);
        // SAFETY: `buf` holds `len` writable units; `h` is a live process handle.
        let ok = unsafe {
            QueryFullProcessImageNameW(h.0, PROCESS_NAME_WIN32, buf.as_mut_ptr(), &mut len)
        };
        if ok != 0 {
            let n = (len as usize).min(buf.len());
            return Ok(pure::wide_to_string(&buf[..n]));
        }
        let code = win::last_error();
        if code != ERROR_INSUFFICIENT_BUFFER || cap >= win::MAX_WIDE_PATH {
            return Err(code);
        }
        cap = (cap * 4).min(win::MAX_WIDE_PATH);
    }
}

/// The command line through class 60; `Err(NTSTATUS)` when it cannot be read.
fn command_line(h: &OwnedHandle) -> Result<String, i32> {
    let mut size = FIRST_CMDLINE_BUF;
    for _ in 0..3 {
        // u64 elements: the UNICODE_STRING at the start needs pointer alignment.
        let mut buf = vec![0u64; size.div_ceil(8)];
        let bytes = buf.len() * 8;
        let mut needed = 0u32;
        // SAFETY: `buf` has `bytes` writable bytes, 8-aligned; `needed` is a valid out pointer.
        let st = unsafe {
            NtQueryInformationProcess(
                h.0,
                PROCESS_COMMAND_LINE_INFORMATION,
                buf.as_mut_ptr().cast::<c_void>(),
                u32::try_from(bytes).unwrap_or(u32::MAX),
                &mut needed,
            )
        };
        match st {
            0 => {
                let base = buf.as_ptr() as u64;
                let raw: Vec<u8> = buf.iter().flat_map(|w| w.to_le_bytes()).collect();
                let len = (needed as usize).min(raw.len());
                let raw = if len >= 16 { &raw[..len] } else { &raw[..] };
                return pure::decode_unicode_string(raw, base, std::mem::size_of::<usize>())
                    .ok_or(STATUS_INFO_LENGTH_MISMATCH);
            }
            STATUS_INFO_LENGTH_MISMATCH | STATUS_BUFFER_TOO_SMALL | STATUS_BUFFER_OVERFLOW => {
                let want = needed as usize;
                if want <= bytes || want > MAX_CMDLINE_BUF {
                    return Err(st);
                }
                size = want;
            }
            other => return Err(other),
        }
    }
    Err(STATUS_INFO_LENGTH_MISMATCH)
}
