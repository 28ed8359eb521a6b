//! Where a store lives: a SQLite file or a PostgreSQL URL, and how it is shown.
//!
//! * `postgres://…` / `postgresql://…` (scheme in any case) → PostgreSQL. Every libpq-style URL
//!   form the sqlx driver reads is accepted (`?sslmode=`, `?host=/run/postgresql`, …).
//! * `sqlite:PATH` / `sqlite://PATH` → SQLite at PATH (so `sqlite:///var/lib/x.db` is absolute).
//!   Everything after the prefix is the file name, taken literally (no query parameters).
//! * anything else without `://` → a SQLite file path.
//!
//! In-memory SQLite (`:memory:`, `mode=memory`) is refused: a quarantine that vanishes with the
//! process would let the milter drop Postfix's copy of mail it cannot give back.
//!
//! The shown form never contains a password: the URL's password and any query parameter whose
//! name contains `password` are removed; an unparseable URL is shown by its scheme only.

use std::path::PathBuf;
use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;

use crate::StoreError;

/// A parsed [`Store::open`](crate::Store::open) argument.
pub(crate) enum Target {
    /// A SQLite database file (absolute path).
    Sqlite { path: PathBuf, shown: String },
    /// A PostgreSQL server.
    Postgres {
        options: Box<PgConnectOptions>,
        shown: String,
    },
}

impl Target {
    /// The form safe to show in logs and errors.
    pub(crate) fn shown(&self) -> &str {
        match self {
            Target::Sqlite { shown, .. } | Target::Postgres { shown, .. } => shown,
        }
    }
}

/// Parses a path or URL.
pub(crate) fn parse(s: &str) -> Result<Target, StoreError> {
    let lower = s.get(..14).unwrap_or(s).to_ascii_lowercase();
    if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
        return parse_postgres(s);
    }
    if lower.starts_with("sqlite:") {
        let rest = s.get(7..).unwrap_or("");
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        return sqlite_target(rest);
    }
    if let Some((scheme, _)) = s.split_once("://") {
        return Err(StoreError::BadAddress {
            store: format!("{scheme}://…"),
            reason:
                "unsupported scheme (expected postgres://, postgresql://, sqlite: or a file path)"
                    .into(),
        });
    }
    sqlite_target(s)
}

fn sqlite_target(path: &str) -> Result<Target, StoreError> {
    let bad = |reason: &str| StoreError::BadAddress {
        store: format!("sqlite:{path}"),
        reason: reason.into(),
    };
    if path.is_empty() {
        return Err(bad("empty SQLite path"));
    }
    if path.contains('\0') {
        return Err(bad("NUL character in the SQLite path"));
    }
    if path == ":memory:" || path.contains("mode=memory") {
        return Err(bad(
            "in-memory SQLite is refused: the quarantine must survive a restart",
        ));
    }
    let abs = std::path::absolute(path).map_err(|e| bad(&format!("cannot resolve path: {e}")))?;
    let shown = format!("sqlite:{}", abs.display());
    Ok(Target::Sqlite { path: abs, shown })
}

fn parse_postgres(s: &str) -> Result<Target, StoreError> {
    let shown = redact_url(s);
    let options = PgConnectOptions::from_str(s).map_err(|e| StoreError::BadAddress {
        store: shown.clone(),
        reason: format!("not a usable PostgreSQL URL: {e}"),
    })?;
    Ok(Target::Postgres {
        options: Box::new(options),
        shown,
    })
}

/// The URL without its password (userinfo password and `*password*` query parameters).
pub(crate) fn redact_url(s: &str) -> String {
    let Ok(mut url) = url::Url::parse(s) else {
        let scheme = s.split_once("://").map_or("postgres", |(sc, _)| sc);
        return format!("{scheme}://(unparseable URL)");
    };
    // Only fails for URLs that cannot have credentials, which then have no password to hide.
    let _ = url.set_password(None);
    let has_secret = url
        .query_pairs()
        .any(|(k, _)| k.to_ascii_lowercase().contains("password"));
    if has_secret {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !k.to_ascii_lowercase().contains("password"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic mutations of real addresses: no panic, the shown form stays bounded, and
    /// a password that survives in the input never reaches the shown form of a parsed URL.
    #[test]
    fn mutated_addresses_never_panic_or_leak() {
        let seeds = [
            "postgres://kensa:S3cret@db.example:5432/quarantine?sslmode=require",
            "postgresql://u:S3cret@[::1]/db?password=S3cret&application_name=x",
            "sqlite:///var/lib/kensa/quarantine.db",
            "/var/lib/kensa/quarantine.db",
        ];
        let alphabet = b":/@?&=%[]#\0\\ .pP_-aZ9\xff";
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..4_000usize {
            let mut b = seeds[i % seeds.len()].as_bytes().to_vec();
            for _ in 0..=(next() % 4) {
                let at = usize::try_from(next()).unwrap_or(0) % (b.len() + 1);
                match next() % 3 {
                    0 => b.truncate(at),
                    1 => b.insert(
                        at,
                        alphabet[usize::try_from(next()).unwrap_or(0) % alphabet.len()],
                    ),
                    _ => {
                        if at < b.len() {
                            b.remove(at);
                        }
                    }
                }
            }
            let s = String::from_utf8_lossy(&b);
            let shown = match parse(&s) {
                Ok(t) => t.shown().to_string(),
                Err(e) => e.to_string(),
            };
            assert!(shown.len() <= 3 * s.len() + 4096, "{s:?} -> {shown:?}");
            let password = url::Url::parse(&s)
                .ok()
                .and_then(|u| u.password().map(str::to_string))
                .filter(|p| p.len() >= 4);
            if let (Some(pw), Ok(Target::Postgres { shown, .. })) = (password, parse(&s)) {
                assert!(!shown.contains(&format!(":{pw}@")), "{s:?} -> {shown:?}");
            }
        }
    }

    #[test]
    fn redacts_userinfo_and_query_passwords() {
        assert_eq!(
            redact_url("postgres://kensa:s3cr%40t@db.example:5433/quarantine"),
            "postgres://kensa@db.example:5433/quarantine"
        );
        assert_eq!(
            redact_url("postgresql://u@h/db?password=zz&sslmode=require&sslpassword=yy"),
            "postgresql://u@h/db?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://u@h/db?PassWord=zz"),
            "postgres://u@h/db"
        );
        assert_eq!(
            redact_url("postgres://[::1]:5432/db"),
            "postgres://[::1]:5432/db"
        );
        let odd = redact_url("postgres://u:pw@ho st/db");
        assert!(!odd.contains("pw"), "{odd}");
    }

    #[test]
    fn classifies_addresses() {
        let t = parse("postgres://u:pw@127.0.0.1:1/db").unwrap();
        assert!(matches!(t, Target::Postgres { .. }));
        assert_eq!(t.shown(), "postgres://u@127.0.0.1:1/db");
        assert!(matches!(
            parse("POSTGRESQL://u@h/db").unwrap(),
            Target::Postgres { .. }
        ));

        let t = parse("sqlite:///var/lib/kensa/q.db").unwrap();
        assert_eq!(t.shown(), "sqlite:/var/lib/kensa/q.db");
        let t = parse("sqlite:/var/lib/kensa/q.db").unwrap();
        assert_eq!(t.shown(), "sqlite:/var/lib/kensa/q.db");
        let t = parse("/tmp/x/q.db").unwrap();
        assert_eq!(t.shown(), "sqlite:/tmp/x/q.db");
        let t = parse("rel/q.db").unwrap();
        assert!(t.shown().starts_with("sqlite:/"), "{}", t.shown());
        assert!(t.shown().ends_with("/rel/q.db"), "{}", t.shown());

        for bad in [
            "",
            "sqlite:",
            "sqlite::memory:",
            ":memory:",
            "sqlite:x.db?mode=memory",
        ] {
            assert!(
                matches!(parse(bad), Err(StoreError::BadAddress { .. })),
                "{bad}"
            );
        }
        let e = parse("mysql://root:pw@h/db").err().unwrap().to_string();
        assert!(e.contains("unsupported scheme") && !e.contains("pw"), "{e}");
    }
}
