/// Make attacker-controlled text safe for a terminal: control characters (ESC among them), and the
/// invisible or direction-changing characters used to disguise names (U+202E and friends), are
/// shown as escapes such as `\u{1b}` and `\u{202e}`. Newlines and tabs become `\n` and `\t`.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_invisible_format(c) => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{061C}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_tricks() {
        assert_eq!(escape("invoice\u{202E}fdp.exe"), "invoice\\u{202e}fdp.exe");
        assert_eq!(escape("\x1b[31mred"), "\\u{1b}[31mred");
        assert_eq!(escape("a\nb"), "a\\nb");
        assert_eq!(escape("請求書.doc"), "請求書.doc");
    }
}
