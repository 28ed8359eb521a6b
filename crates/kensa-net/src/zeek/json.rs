//! Zeek JSON: one object per line.

use serde_json::{Map, Value};

use super::fields::{self, COUNT, F};
use super::source::JsonSource;
use super::value::excerpt;
use super::{Ctx, IssueKind, Target, ZeekKind, ZeekRecord};

/// Known field of a key at the top level, or of `key` inside a nested `id` object.
fn field_of(key: &str, nested_in_id: bool) -> Option<F> {
    if nested_in_id {
        match key {
            "orig_h" => Some(F::OrigH),
            "orig_p" => Some(F::OrigP),
            "resp_h" => Some(F::RespH),
            "resp_p" => Some(F::RespP),
            "vlan" => Some(F::VlanId),
            "inner_vlan" => Some(F::InnerVlan),
            _ => None,
        }
    } else {
        F::from_name(key)
    }
}

/// Every (field or `None` if unknown, key, value) of the object, `id.*` from a nested `id`
/// object too.
fn walk<'a>(obj: &'a Map<String, Value>, mut each: impl FnMut(Option<F>, &'a str, &'a Value)) {
    for (k, v) in obj {
        match (k.as_str(), v) {
            ("id", Value::Object(inner)) => {
                for (ik, iv) in inner {
                    each(field_of(ik, true), ik, iv);
                }
            }
            (k, v) => each(field_of(k, false), k, v),
        }
    }
}

pub(super) fn line(ctx: &mut Ctx<'_>, line_no: u64, line: &[u8]) -> Option<ZeekRecord> {
    let obj = match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(o)) => o,
        Ok(_) => {
            ctx.stats
                .issue(ctx.limits, line_no, true, IssueKind::NotObject);
            return None;
        }
        Err(e) => {
            let message = excerpt(e.to_string().as_bytes());
            ctx.stats
                .issue(ctx.limits, line_no, true, IssueKind::Json { message });
            return None;
        }
    };
    let mut slots: [Option<&Value>; COUNT] = [None; COUNT];
    walk(&obj, |f, _, v| {
        if let Some(f) = f
            && let Some(slot) = slots.get_mut(f as usize)
        {
            *slot = Some(v);
        }
    });
    let present = |f: F| {
        slots
            .get(f as usize)
            .copied()
            .flatten()
            .is_some_and(|v| !v.is_null())
    };
    let target = match obj.get("_path").and_then(Value::as_str) {
        Some(p) => match ZeekKind::from_path(p) {
            Some((k, open)) => Target::Kind(k, open),
            None => Target::Other(p.to_string()),
        },
        None => ctx.fallback_target(fields::guess(present)),
    };
    let (kind, open) = match target {
        Target::Other(p) => {
            ctx.stats.other_path(ctx.limits, &p);
            return None;
        }
        Target::Kind(k, open) => (k, open),
    };
    walk(&obj, |f, name, _| {
        if !f.is_some_and(|f| fields::belongs(kind, f)) {
            ctx.stats.unknown_field(ctx.limits, name);
        }
    });
    let src = JsonSource { slots: &slots };
    ctx.build(&src, kind, open, line_no)
}
