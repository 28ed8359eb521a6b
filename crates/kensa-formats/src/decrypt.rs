//! Password-protected Office files (spec §2.5, MS-OFFCRYPTO), opened with the `msoffice-crypto`
//! crate: agile and standard encryption of OOXML packages, and RC4 CryptoAPI, Office 97 RC4 and
//! XOR obfuscation of the 97-2003 binaries. This module only chooses which passwords to try and
//! how many: every try costs the file's key-derivation work (agile: `spinCount` hash rounds,
//! 100,000 SHA-512 by default; standard: 50,000 SHA-1), and the spin count is the attacker's.

use msoffice_crypto::{Classification, Family, IntegrityPolicy};

/// Passwords that open a file without a prompt: Excel's built-in "VelvetSweatshop" (a workbook
/// encrypted with it opens silently, which is why droppers used it) and the PowerPoint
/// equivalent.
pub const DEFAULT_PASSWORDS: &[&str] = &["VelvetSweatshop", "/01Hannes Ruescher/01"];

/// Key-derivation rounds allowed per file, all tries together (≈ 0.2 s of SHA-512 on one core).
const MAX_ROUNDS: u64 = 2_500_000;

/// Most key-derivation rounds one password try may cost (the format allows 10,000,000: seconds).
const MAX_SPIN: u64 = 1_000_000;

/// What became of an encrypted file.
#[derive(Debug)]
pub enum Outcome {
    /// Not encrypted as far as the crate can prove, or not an Office container it knows.
    NotEncrypted,
    /// Opened: the decrypted package (OOXML ZIP) or container (97-2003 CFB), and the password.
    Decrypted { data: Vec<u8>, password: String },
    /// Encrypted, and none of the tried passwords opened it.
    WrongPassword { tried: usize },
    /// Encrypted with something that cannot be opened here (certificate, IRM, unknown scheme,
    /// damaged header): the reason.
    Unsupported(String),
}

/// The encryption scheme in words, for findings ("agile (AES, SHA512, 100000 rounds)").
pub fn describe(data: &[u8]) -> Option<String> {
    let c = classify(data).filter(Classification::is_encrypted)?;
    let scheme = match c.family {
        Family::Agile => "agile encryption (ECMA-376)",
        Family::Standard => "standard encryption (ECMA-376, Office 2007)",
        Family::Rc4CryptoApi => "RC4 CryptoAPI",
        Family::Rc4 => "Office 97 RC4",
        Family::XorObfuscation => "XOR obfuscation",
        Family::Irm => "rights management (IRM)",
        _ => "an unsupported encryption scheme",
    };
    Some(match c.password_key.as_ref().and_then(|p| p.spin_count) {
        Some(spin) => format!("{scheme}, {spin} key-derivation rounds"),
        None => scheme.to_string(),
    })
}

fn classify(data: &[u8]) -> Option<Classification> {
    std::panic::catch_unwind(|| msoffice_crypto::classify(data)).ok()
}

/// Try `passwords` (after [`DEFAULT_PASSWORDS`]) until one opens `data`, within the round budget
/// and at most `max_tries`. Never panics: a panic in the crate is reported as `Unsupported`.
pub fn open<'a>(
    data: &[u8],
    passwords: impl IntoIterator<Item = &'a str>,
    max_tries: usize,
) -> Outcome {
    let Some(class) = classify(data) else {
        return Outcome::Unsupported("the encryption header could not be read".into());
    };
    let binary = match class.family {
        Family::Unencrypted => return Outcome::NotEncrypted,
        Family::Agile | Family::Standard => false,
        Family::Rc4CryptoApi | Family::Rc4 | Family::XorObfuscation => true,
        other => return Outcome::Unsupported(format!("{other:?} encryption")),
    };
    let rounds = match class.family {
        Family::Agile => class
            .password_key
            .as_ref()
            .and_then(|p| p.spin_count)
            .unwrap_or(100_000),
        Family::Standard => 50_000,
        _ => 1,
    };
    if u64::from(rounds) > MAX_SPIN {
        // Office writes 100,000; a file asking for more makes every guess cost seconds.
        return Outcome::Unsupported(format!(
            "{rounds} key-derivation rounds declared, more than the {MAX_SPIN} kensa spends on one password"
        ));
    }
    let by_rounds = usize::try_from((MAX_ROUNDS / u64::from(rounds).max(1)).max(1)).unwrap_or(1);
    let limit = max_tries.min(by_rounds).max(1);
    let mut seen: Vec<&str> = Vec::new();
    let candidates = DEFAULT_PASSWORDS.iter().copied().chain(passwords);
    for pw in candidates {
        if seen.len() >= limit {
            break;
        }
        if pw.is_empty() || seen.contains(&pw) {
            continue;
        }
        seen.push(pw);
        let attempt = std::panic::catch_unwind(|| {
            if binary {
                msoffice_crypto::decrypt_binary_office(data, pw)
            } else {
                // A scanner reads what is there: a stripped or broken integrity tag must not
                // hide the content (an attacker would strip it to be refused).
                msoffice_crypto::decrypt_ooxml_with_policy(data, pw, IntegrityPolicy::Skip)
                    .map(|d| d.package)
            }
        });
        match attempt {
            Ok(Ok(data)) => {
                return Outcome::Decrypted {
                    data,
                    password: pw.to_string(),
                };
            }
            Ok(Err(msoffice_crypto::Error::WrongPassword)) => continue,
            Ok(Err(e)) => return Outcome::Unsupported(e.to_string()),
            Err(_) => return Outcome::Unsupported("the decryptor failed on this file".into()),
        }
    }
    Outcome::WrongPassword { tried: seen.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../../shared/corpus/office/oletools/encrypted/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn velvet_sweatshop_opens_the_standard_password_files() {
        for name in [
            "autostart-encrypt-standardpassword.xls",
            "autostart-encrypt-standardpassword.xlsm",
            "autostart-encrypt-standardpassword.xlsb",
            "dde-test-encrypt-standardpassword.xlsx",
        ] {
            match open(&corpus(name), [], 10) {
                Outcome::Decrypted { data, password } => {
                    assert_eq!(password, "VelvetSweatshop", "{name}");
                    let magic: &[u8] = if name.ends_with(".xls") {
                        b"\xD0\xCF\x11\xE0"
                    } else {
                        b"PK\x03\x04"
                    };
                    assert!(data.starts_with(magic), "{name}");
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_password_is_reported_as_such() {
        for name in [
            "encrypted.docx",
            "encrypted.xls",
            "encrypted.doc",
            "encrypted.ppt",
        ] {
            let data = corpus(name);
            assert!(describe(&data).is_some(), "{name}");
            match open(&data, ["wrong", "also wrong"], 10) {
                Outcome::WrongPassword { tried } => assert_eq!(tried, 4, "{name}"),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn plain_files_are_not_encrypted() {
        assert!(matches!(open(b"PK\x03\x04", [], 3), Outcome::NotEncrypted));
        assert!(describe(b"not office").is_none());
    }
}
