//! Small safe wrappers over the Win32 calls the live source shares: owned handles, string-
//! returning system queries, the environment.

use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_INSUFFICIENT_BUFFER, GetLastError, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::Storage::FileSystem::GetVolumeInformationW;
use windows_sys::Win32::System::SystemInformation::{GetSystemDirectoryW, GetWindowsDirectoryW};
use windows_sys::Win32::System::WindowsProgramming::GetComputerNameW;

use super::pure;

/// Longest path the `W` APIs accept (with `\\?\`), in UTF-16 units.
pub(super) const MAX_WIDE_PATH: usize = 32_768;

/// The calling thread's last Win32 error.
pub(super) fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { GetLastError() }
}

/// A kernel handle closed on drop (null and `INVALID_HANDLE_VALUE` are never closed).
pub(super) struct OwnedHandle(pub(super) HANDLE);

impl OwnedHandle {
    /// `None` for null and `INVALID_HANDLE_VALUE`.
    pub(super) fn new(h: HANDLE) -> Option<Self> {
        (!h.is_null() && h != INVALID_HANDLE_VALUE).then_some(OwnedHandle(h))
    }
}

impl Drop for OwnedHandle {
    fn drop(&mut self) {
        // SAFETY: the handle is valid (checked in `new`) and owned by this value only.
        unsafe { CloseHandle(self.0) };
    }
}

/// Calls a `GetXxxDirectoryW`-style function (returns the length without NUL on success, the
/// needed size with NUL when the buffer is too small, 0 on failure) until the buffer fits.
fn dir_query(f: unsafe extern "system" fn(*mut u16, u32) -> u32) -> Result<String, u32> {
    let mut cap = 260usize;
    loop {
        let mut buf = vec![0u16; cap];
        let cap32 = u32::try_from(cap).unwrap_or(u32::MAX);
        // SAFETY: `buf` holds `cap` writable units, as announced.
        let n = unsafe { f(buf.as_mut_ptr(), cap32) } as usize;
        if n == 0 {
            return Err(last_error());
        }
        if n < cap {
            return Ok(pure::wide_to_string(buf.get(..n).unwrap_or(&buf)));
        }
        if n > MAX_WIDE_PATH || cap >= MAX_WIDE_PATH {
            return Err(ERROR_INSUFFICIENT_BUFFER);
        }
        cap = n.max(cap + 1);
    }
}

/// `GetWindowsDirectoryW`.
pub(super) fn windows_directory() -> Result<String, u32> {
    dir_query(GetWindowsDirectoryW)
}

/// `GetSystemDirectoryW` (System32 for this 64-bit process).
pub(super) fn system_directory() -> Result<String, u32> {
    dir_query(GetSystemDirectoryW)
}

/// `GetComputerNameW` (the NetBIOS name, as EmoCheck).
pub(super) fn computer_name() -> Result<String, u32> {
    let mut buf = vec![0u16; 256];
    let mut len = 256u32;
    // SAFETY: `buf` holds `len` writable units.
    let ok = unsafe { GetComputerNameW(buf.as_mut_ptr(), &mut len) };
    if ok == 0 {
        return Err(last_error());
    }
    let n = (len as usize).min(buf.len());
    Ok(pure::wide_to_string(&buf[..n]))
}

/// The 32-bit serial of the volume whose root is `root` (e.g. `C:\`).
pub(super) fn volume_serial(root: &str) -> Result<u32, u32> {
    let w = pure::to_wide_nul(root);
    let mut serial = 0u32;
    // SAFETY: `w` is NUL-terminated; every optional output is null except `serial`.
    let ok = unsafe {
        GetVolumeInformationW(
            w.as_ptr(),
            std::ptr::null_mut(),
            0,
            &mut serial,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        )
    };
    if ok == 0 {
        Err(last_error())
    } else {
        Ok(serial)
    }
}

/// An environment variable of this process, `None` when unset or empty.
pub(super) fn env(name: &str) -> Option<String> {
    std::env::var_os(name)
        .map(|v| v.to_string_lossy().into_owned())
        .filter(|v| !v.is_empty())
}

/// `%NAME%` expansion with this process's environment.
pub(super) fn expand(s: &str) -> String {
    pure::expand_env(s, env)
}
