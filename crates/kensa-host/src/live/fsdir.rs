//! One directory listing with `FindFirstFileExW`/`FindNextFileW` (`FindExInfoBasic`, no short
//! names; `FIND_FIRST_EX_LARGE_FETCH`): name, attributes, size and last-write FILETIME of every
//! entry, as the directory itself records them — no file is opened.

use std::ffi::c_void;

use windows_sys::Win32::Foundation::{
    ERROR_FILE_NOT_FOUND, ERROR_INVALID_PARAMETER, ERROR_NO_MORE_FILES, HANDLE,
    INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::{
    FILE_ATTRIBUTE_DIRECTORY, FILE_ATTRIBUTE_OFFLINE, FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS,
    FILE_ATTRIBUTE_RECALL_ON_OPEN, FILE_ATTRIBUTE_REPARSE_POINT, FIND_FIRST_EX_LARGE_FETCH,
    FindClose, FindExInfoBasic, FindExSearchNameMatch, FindFirstFileExW, FindNextFileW,
    WIN32_FIND_DATAW,
};

use super::pure;
use super::win;

/// One directory entry.
pub(super) struct Entry {
    pub name: String,
    pub attrs: u32,
    pub size: u64,
    /// Last-write FILETIME.
    pub mtime: u64,
}

impl Entry {
    pub fn is_dir(&self) -> bool {
        self.attrs & FILE_ATTRIBUTE_DIRECTORY != 0
    }

    /// Junctions, symbolic links, cloud placeholders…: never descended into, never opened.
    pub fn is_reparse(&self) -> bool {
        self.attrs & FILE_ATTRIBUTE_REPARSE_POINT != 0
    }

    /// Opening would recall the data from elsewhere (offline storage, cloud files).
    pub fn is_remote(&self) -> bool {
        self.attrs
            & (FILE_ATTRIBUTE_OFFLINE
                | FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS
                | FILE_ATTRIBUTE_RECALL_ON_OPEN)
            != 0
    }
}

/// A find handle, closed on drop.
struct Find(HANDLE);

impl Drop for Find {
    fn drop(&mut self) {
        // SAFETY: a valid handle from FindFirstFileExW, owned by this value only.
        unsafe { FindClose(self.0) };
    }
}

/// The entries of `dir` (without `.` and `..`), at most `limit`; the flag says whether more were
/// left. `Err` carries the Win32 error of the first call (an empty directory is `Ok`).
pub(super) fn read_dir(dir: &str, limit: usize) -> Result<(Vec<Entry>, bool), u32> {
    let pattern = pure::to_wide_nul(&pure::long_path(&pure::join(dir, "*")));
    let mut data = WIN32_FIND_DATAW::default();
    let mut h = first(&pattern, &mut data, FIND_FIRST_EX_LARGE_FETCH);
    if h.is_none() && win::last_error() == ERROR_INVALID_PARAMETER {
        // Systems without large-fetch support.
        h = first(&pattern, &mut data, 0);
    }
    let Some(h) = h else {
        let code = win::last_error();
        return if code == ERROR_FILE_NOT_FOUND {
            Ok((Vec::new(), false))
        } else {
            Err(code)
        };
    };
    let mut out = Vec::new();
    loop {
        let name = pure::wide_to_string(&data.cFileName);
        if name != "." && name != ".." {
            if out.len() >= limit {
                return Ok((out, true));
            }
            out.push(Entry {
                name,
                attrs: data.dwFileAttributes,
                size: pure::filetime(data.nFileSizeHigh, data.nFileSizeLow),
                mtime: pure::filetime(
                    data.ftLastWriteTime.dwHighDateTime,
                    data.ftLastWriteTime.dwLowDateTime,
                ),
            });
        }
        // SAFETY: `h` is a live find handle and `data` a valid WIN32_FIND_DATAW.
        if unsafe { FindNextFileW(h.0, &mut data) } == 0 {
            let code = win::last_error();
            return if code == ERROR_NO_MORE_FILES {
                Ok((out, false))
            } else {
                Err(code)
            };
        }
    }
}

fn first(pattern: &[u16], data: &mut WIN32_FIND_DATAW, flags: u32) -> Option<Find> {
    // SAFETY: `pattern` is NUL-terminated; `data` is a WIN32_FIND_DATAW as FindExInfoBasic needs.
    let h = unsafe {
        FindFirstFileExW(
            pattern.as_ptr(),
            FindExInfoBasic,
            (data as *mut WIN32_FIND_DATAW).cast::<c_void>(),
            FindExSearchNameMatch,
            std::ptr::null(),
            flags,
        )
    };
    (!h.is_null() && h != INVALID_HANDLE_VALUE).then_some(Find(h))
}
