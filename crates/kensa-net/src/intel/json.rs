//! Feodo Tracker `ipblocklist.json`: an array of objects with `ip_address`, `port` (integer),
//! `status`, `hostname` (nullable), `as_number`, `as_name`, `country`, `first_seen`
//! (`YYYY-MM-DD HH:MM:SS`, sometimes missing), `last_online` (date) and `malware`.
//!
//! The array is walked one element at a time (each element becomes a `serde_json::Value` and is
//! dropped after use), so a bad element is reported by its position and the rest still read.
//! serde_json's recursion limit bounds nesting; syntax errors end the parse with line and column.

use std::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::formats::{date, parse_asn, status};
use super::text::{self, opt_text, parse_ip_port};
use super::{Builder, Indicator, IntelError, Ioc, Place, ProblemKind};

pub(crate) fn parse_feodo_json(data: &[u8], b: &mut Builder) -> Result<(), IntelError> {
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let mut de = serde_json::Deserializer::from_slice(data);
    let result = Entries { b }.deserialize(&mut de).and_then(|()| de.end());
    result.map_err(|e| {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
        IntelError::Json {
            line: e.line(),
            column: e.column(),
            message,
        }
    })
}

struct Entries<'b> {
    b: &'b mut Builder,
}

impl<'de> DeserializeSeed<'de> for Entries<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Entries<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Feodo Tracker entries")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut n = 0u64;
        while let Some(v) = seq.next_element::<Value>()? {
            n = n.saturating_add(1);
            self.b.stats.lines = n;
            entry(self.b, n, v);
        }
        Ok(())
    }
}

fn excerpt_of(v: &Value) -> String {
    let s = serde_json::to_string(v).unwrap_or_default();
    text::cut(&s, 80).to_string()
}

fn str_field(o: &Map<String, Value>, key: &str) -> Option<String> {
    match o.get(key) {
        Some(Value::String(s)) => opt_text(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn entry(b: &mut Builder, n: u64, v: Value) {
    let place = Place::Entry(n);
    let Value::Object(o) = &v else {
        b.bad(place, ProblemKind::NotAnObject, &excerpt_of(&v));
        return;
    };
    let Some(ip_text) = str_field(o, "ip_address").or_else(|| str_field(o, "ip")) else {
        let field = "ip_address".to_string();
        b.bad(place, ProblemKind::MissingField { field }, &excerpt_of(&v));
        return;
    };
    let Some((ip, inline_port)) = parse_ip_port(&ip_text) else {
        let (field, reason) = ("ip_address".to_string(), "not an IP address".to_string());
        b.bad(place, ProblemKind::BadValue { field, reason }, &ip_text);
        return;
    };
    let port = match o.get("port") {
        None | Some(Value::Null) => Ok(inline_port),
        Some(Value::Number(p)) => p
            .as_u64()
            .and_then(|p| u16::try_from(p).ok())
            .map(Some)
            .ok_or(()),
        Some(Value::String(p)) if p.trim().is_empty() => Ok(inline_port),
        Some(Value::String(p)) => text::parse_port(p).map(Some).ok_or(()),
        Some(_) => Err(()),
    };
    let Ok(port) = port else {
        let (field, reason) = ("port".to_string(), "not a port number".to_string());
        b.bad(
            place,
            ProblemKind::BadValue { field, reason },
            &excerpt_of(&v),
        );
        return;
    };
    let ioc = match port {
        Some(port) => Ioc::IpPort { ip, port },
        None => Ioc::Ip { ip },
    };
    let mut ind = Indicator::new(ioc, b.feed(), n);
    ind.first_seen = date(b, place, str_field(o, "first_seen"), "first_seen", &ip_text);
    ind.last_seen = date(
        b,
        place,
        str_field(o, "last_online"),
        "last_online",
        &ip_text,
    );
    if let Some(s) = str_field(o, "status") {
        ind.status = status(&s);
        if ind.status.is_none() {
            b.ignored(place, "status", &ip_text);
        }
    }
    ind.hostname = str_field(o, "hostname");
    if let Some(a) = str_field(o, "as_number") {
        ind.asn = parse_asn(&a);
        if ind.asn.is_none() {
            b.ignored(place, "as_number", &ip_text);
        }
    }
    ind.as_name = str_field(o, "as_name");
    ind.country = str_field(o, "country").map(|c| text::cut(&c, 8).to_ascii_uppercase());
    ind.malware = str_field(o, "malware");
    ind.threat_type = Some("botnet_cc".to_string());
    b.push(ind);
}
