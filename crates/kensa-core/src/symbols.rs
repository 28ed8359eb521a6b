use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::LazyLock;

/// One row of the symbol table (`defaults/symbols.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolInfo {
    pub group: String,
    #[serde(default)]
    pub flag: String,
    #[serde(default)]
    pub strong: bool,
    #[serde(default)]
    pub incomplete: bool,
    pub en: String,
    pub ja: String,
    /// What to do about it (host findings: isolate, remove, change passwords), when the symbol
    /// calls for an action of the user's.
    #[serde(default)]
    pub todo_en: String,
    #[serde(default)]
    pub todo_ja: String,
}

/// Every symbol kensa can raise, with its group, triage flag and descriptions.
#[derive(Debug)]
pub struct SymbolTable {
    rows: BTreeMap<String, SymbolInfo>,
}

const SHIPPED: &str = include_str!("../defaults/symbols.toml");

static TABLE: LazyLock<SymbolTable> = LazyLock::new(|| SymbolTable {
    // The shipped table is part of the build; a test parses it, so this cannot fail at run time.
    rows: toml::from_str(SHIPPED).unwrap_or_default(),
});

impl SymbolTable {
    pub fn shipped() -> &'static SymbolTable {
        &TABLE
    }

    pub fn get(&self, symbol: &str) -> Option<&SymbolInfo> {
        self.rows.get(symbol)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &SymbolInfo)> {
        self.rows.iter().map(|(k, v)| (k.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_table_parses_and_is_well_formed() {
        let rows: BTreeMap<String, SymbolInfo> = toml::from_str(SHIPPED).expect("symbols.toml");
        assert!(rows.len() >= 20);
        for (name, info) in &rows {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{name} is not UPPER_SNAKE"
            );
            assert!(
                !info.en.trim().is_empty() && !info.ja.trim().is_empty(),
                "{name}"
            );
            assert!(info.flag.len() <= 1, "{name}: one flag letter");
            // The Japanese text must actually be Japanese, not a copy of the English one.
            assert!(info.ja.chars().any(|c| c > '\u{3000}'), "{name}: ja text");
        }
        assert_eq!(SymbolTable::shipped().len(), rows.len());
    }
}
