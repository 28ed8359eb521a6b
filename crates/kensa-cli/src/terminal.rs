//! Terminal hygiene: language and colour choice, error lines, the panic hook.

use std::io::IsTerminal;

use kensa_core::Lang;

/// `--lang auto`: `LC_ALL`, then `LC_MESSAGES`, then `LANG`; Japanese for `ja*`, else English.
pub fn detect_lang() -> Lang {
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(v) = std::env::var(var)
            && !v.is_empty()
        {
            return Lang::from_locale(&v);
        }
    }
    Lang::En
}

/// `--color auto`: only when stdout is a terminal and `NO_COLOR` is not set.
pub fn auto_color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub fn stderr_is_terminal() -> bool {
    std::io::stderr().is_terminal()
}

/// `error: message: cause`, red only on a terminal.
pub fn error(e: &anyhow::Error) {
    let text = format!("{e:#}");
    if stderr_is_terminal() {
        eprintln!("\x1b[1;31merror:\x1b[0m {text}");
    } else {
        eprintln!("error: {text}");
    }
}

/// Panics inside analysers are caught and reported as UNSCANNABLE findings; this hook keeps their
/// message to one line on stderr instead of a backtrace per file.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let loc = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("[x] internal error{loc}: {}", panic_message(info));
    }));
}

fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    if let Some(s) = info.payload().downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = info.payload().downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}
