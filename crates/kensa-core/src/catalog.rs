use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::SymbolTable;

/// The language of human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ja,
}

impl Lang {
    /// From a locale string such as `ja_JP.UTF-8` or `en_US`: Japanese for `ja*`, else English.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("ja") {
            Lang::Ja
        } else {
            Lang::En
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    en: String,
    ja: String,
}

/// Human text by key, in English and Japanese (`defaults/messages.toml`), plus symbol descriptions.
#[derive(Debug)]
pub struct Catalog {
    entries: BTreeMap<String, Entry>,
}

const SHIPPED: &str = include_str!("../defaults/messages.toml");

static CATALOG: LazyLock<Catalog> = LazyLock::new(|| Catalog {
    entries: parse(SHIPPED).unwrap_or_default(),
});

/// The file nests keys by their dots (`[verdict.clean]`): flatten them back to `verdict.clean`.
fn parse(text: &str) -> Result<BTreeMap<String, Entry>, toml::de::Error> {
    fn walk(prefix: &str, table: toml::Table, out: &mut BTreeMap<String, Entry>) {
        for (k, v) in table {
            let key = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            if let toml::Value::Table(t) = v {
                if t.contains_key("en") {
                    if let Ok(e) = toml::Value::Table(t).try_into::<Entry>() {
                        out.insert(key, e);
                    }
                } else {
                    walk(&key, t, out);
                }
            }
        }
    }
    let table: toml::Table = toml::from_str(text)?;
    let mut out = BTreeMap::new();
    walk("", table, &mut out);
    Ok(out)
}

impl Catalog {
    pub fn shipped() -> &'static Catalog {
        &CATALOG
    }

    /// The text for `key`; `"?"` when it is missing (a test keeps that from happening).
    pub fn text(&self, key: &str, lang: Lang) -> &str {
        match self.entries.get(key) {
            Some(e) => match lang {
                Lang::En => &e.en,
                Lang::Ja => &e.ja,
            },
            None => "?",
        }
    }

    /// The text with `{name}` placeholders filled.
    pub fn fill(&self, key: &str, lang: Lang, args: &[(&str, &str)]) -> String {
        let mut s = self.text(key, lang).to_string();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    /// A symbol's description.
    pub fn symbol<'a>(&self, table: &'a SymbolTable, symbol: &'a str, lang: Lang) -> &'a str {
        match table.get(symbol) {
            Some(info) => match lang {
                Lang::En => &info.en,
                Lang::Ja => &info.ja,
            },
            None => symbol,
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(s: &str) -> Vec<String> {
        let mut out: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name.to_string()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn every_key_has_both_languages_with_the_same_placeholders() {
        let entries = parse(SHIPPED).expect("messages.toml");
        assert!(entries.len() >= 15);
        for (key, e) in &entries {
            assert!(!e.en.is_empty() && !e.ja.is_empty(), "{key}");
            assert_eq!(placeholders(&e.en), placeholders(&e.ja), "{key}");
        }
    }

    #[test]
    fn fill_and_lookup() {
        let c = Catalog::shipped();
        assert_eq!(c.text("verdict.malicious", Lang::Ja), "悪性");
        assert_eq!(
            c.fill(
                "error.item",
                Lang::En,
                &[("path", "a.doc"), ("error", "boom")]
            ),
            "[x] a.doc: boom"
        );
        assert_eq!(c.text("no.such.key", Lang::En), "?");
        assert_eq!(Lang::from_locale("ja_JP.UTF-8"), Lang::Ja);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
    }
}
