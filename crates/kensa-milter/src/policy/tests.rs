use super::*;

fn facts<'a>(verdict: Verdict, score: f64, rcpts: &'a [String], hashes: &'a [String]) -> Facts<'a> {
    Facts {
        verdict,
        score,
        sender: "invoice@partner.example",
        recipients: rcpts,
        hashes,
    }
}

fn policy(toml_text: &str) -> GatewayPolicy {
    let cfg = crate::config::Config::from_toml(toml_text, std::path::Path::new(".")).unwrap();
    cfg.policy
}

#[test]
fn shipped_actions_per_verdict() {
    let p = GatewayPolicy::default();
    let r = ["a@corp.example".to_string()];
    let d = |v| p.decide(&facts(v, 0.0, &r, &[]));
    assert_eq!(d(Verdict::Clean).action, Action::Accept);
    assert_eq!(d(Verdict::Suspicious).action, Action::Tag);
    assert_eq!(
        d(Verdict::Suspicious).subject_tag.as_deref(),
        Some("[SUSPICIOUS]")
    );
    assert_eq!(
        d(Verdict::Incomplete).subject_tag.as_deref(),
        Some("[UNCHECKED]")
    );
    assert_eq!(d(Verdict::Malicious).action, Action::Quarantine);
    assert_eq!(d(Verdict::Malicious).subject_tag, None);
}

#[test]
fn thresholds_raise_never_lower() {
    let p = policy("[policy]\nthresholds = { tag = 3.0, reject = 20.0 }\n");
    let r = ["a@corp.example".to_string()];
    let d = p.decide(&facts(Verdict::Clean, 3.5, &r, &[]));
    assert_eq!(
        (d.action, d.reason.as_str()),
        (Action::Tag, "score 3.50 >= 3.00")
    );
    assert_eq!(d.subject_tag.as_deref(), Some("[SUSPICIOUS]"));
    assert_eq!(
        p.decide(&facts(Verdict::Malicious, 25.0, &r, &[])).action,
        Action::Reject
    );
    // A low score does not undo the malicious verdict's quarantine.
    assert_eq!(
        p.decide(&facts(Verdict::Malicious, 1.0, &r, &[])).action,
        Action::Quarantine
    );
}

#[test]
fn rules_per_recipient_and_strictest_wins() {
    let p = policy(
        r#"
[[rule]]
recipients = ["@sales.example.jp"]
actions = { suspicious = "quarantine" }

[[rule]]
recipients = [".strict.example", "ceo@corp.example"]
actions = { suspicious = "reject" }
reject_reply = "550 5.7.1 Refused: suspicious attachment"
"#,
    );
    let one = |r: &str| vec![r.to_string()];
    let d = |rc: &[String]| p.decide(&facts(Verdict::Suspicious, 6.0, rc, &[]));
    assert_eq!(d(&one("x@sales.example.jp")).action, Action::Quarantine);
    assert_eq!(d(&one("x@other.example.jp")).action, Action::Tag);
    assert_eq!(d(&one("x@mx.strict.example")).action, Action::Reject);
    assert_eq!(d(&one("x@strict.example")).action, Action::Reject);
    assert_eq!(d(&one("CEO@Corp.Example")).action, Action::Reject);
    let both = vec![
        "x@sales.example.jp".to_string(),
        "ceo@corp.example".to_string(),
    ];
    let dec = d(&both);
    assert_eq!(dec.action, Action::Reject);
    assert_eq!(dec.reject_reply, "550 5.7.1 Refused: suspicious attachment");
}

#[test]
fn block_and_allow_lists() {
    let p = policy(
        r#"
[lists]
allow_senders = ["@partner.example"]
block_senders = ["spam@bad.example"]
block_hashes = ["AB12"]
"#,
    );
    let r = ["a@corp.example".to_string()];
    // Allow-listed partner: a suspicious mail is accepted, a malicious one is not.
    let d = p.decide(&facts(Verdict::Suspicious, 6.0, &r, &[]));
    assert_eq!(d.action, Action::Accept);
    assert!(d.reason.contains("allow list"));
    assert_eq!(
        p.decide(&facts(Verdict::Malicious, 30.0, &r, &[])).action,
        Action::Quarantine
    );
    // A blocked hash wins over everything.
    let h = ["ab12".to_string()];
    let d = p.decide(&facts(Verdict::Clean, 0.0, &r, &h));
    assert_eq!(d.action, Action::Reject);
    assert!(d.reason.contains("hash block list"));
}

#[test]
fn address_patterns() {
    assert!(address_matches("<A@B.example>", "@b.example"));
    assert!(address_matches("a@b.example", "b.example"));
    assert!(!address_matches("a@xb.example", ".b.example"));
    assert!(address_matches("a@x.b.example", ".b.example"));
    assert!(!address_matches("a@b.example", ""));
    assert!(!address_matches("", "@b.example"));
}

#[test]
fn bad_configs_are_refused_with_codes() {
    let err = |t: &str| {
        crate::config::Config::from_toml(t, std::path::Path::new("."))
            .unwrap_err()
            .to_string()
    };
    assert!(err("on_error = \"reject\"").starts_with("C104"));
    assert!(err("listen = \"tcp:1\"").starts_with("C103"));
    assert!(err("[policy]\nreject_reply = \"250 ok\"").starts_with("C105"));
    assert!(err("[policy]\nreject_reply = \"550 5.7.1 a\\r\\nb\"").starts_with("C105"));
    assert!(err("scan_timeout = 0.1").starts_with("C106"));
    assert!(err("colour = 1").starts_with("C102"));
    assert!(err("[policy]\nactions = { malicious = \"explode\" }").starts_with("C102"));
}
