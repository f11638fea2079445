//! Plan text can never add a line or a directive to an exported file.
//!
//! Every name and address field of a plan is replaced by arbitrary text. Either validation
//! refuses the plan (with a message naming the field), the export refuses a layout clash, or
//! every exported file has exactly the line count and the directive of each line that the
//! same plan has with a benign value in that field.

use mastoplan_core::export::{export, Export, ExportError};
use mastoplan_core::plan::{Host, Plan, Replica};
use mastoplan_core::presets;
use proptest::prelude::*;

/// A field of a plan holding text that ends up in files.
#[derive(Debug, Clone, Copy)]
enum Slot {
    PlanName,
    /// Renamed everywhere it is referenced, so the plan stays coherent.
    HostName(usize),
    HostAddress(usize),
    WebName(usize),
    StreamingName(usize),
    SidekiqName(usize),
    /// Renamed everywhere it is referenced.
    BouncerName(usize),
    RedisName(usize),
    TrustedProxy(usize),
}

fn plans() -> Vec<Plan> {
    let mut large = presets::get("large-split").unwrap();
    large.hosts.push(Host { name: "db-2".into(), cores: 16, ram_gb: 64, address: Some("10.0.1.41".into()) });
    large.replica = Some(Replica { host: "db-2".into(), max_connections: 200, superuser_reserved_connections: 3 });
    vec![large, presets::get("compendium-example").unwrap(), presets::get("single-server").unwrap()]
}

fn slots(plan: &Plan) -> Vec<Slot> {
    let mut s = vec![Slot::PlanName];
    s.extend((0..plan.hosts.len()).map(Slot::HostName));
    s.extend((0..plan.hosts.len()).map(Slot::HostAddress));
    s.extend((0..plan.web.len()).map(Slot::WebName));
    s.extend((0..plan.web.len()).map(Slot::TrustedProxy));
    s.extend((0..plan.streaming.len()).map(Slot::StreamingName));
    s.extend((0..plan.sidekiq.len()).map(Slot::SidekiqName));
    s.extend((0..plan.pgbouncers.len()).map(Slot::BouncerName));
    s.extend((0..plan.redis.len()).map(Slot::RedisName));
    s
}

fn rename(refs: &mut String, old: &str, new: &str) {
    if refs == old {
        *refs = new.to_string();
    }
}

fn set(plan: &Plan, slot: Slot, value: &str) -> Plan {
    let mut p = plan.clone();
    match slot {
        Slot::PlanName => p.name = value.into(),
        Slot::HostName(i) => {
            let old = p.hosts[i].name.clone();
            p.hosts[i].name = value.into();
            for w in &mut p.web {
                rename(&mut w.host, &old, value);
            }
            for s in &mut p.streaming {
                rename(&mut s.host, &old, value);
            }
            for s in &mut p.sidekiq {
                rename(&mut s.host, &old, value);
            }
            for b in &mut p.pgbouncers {
                rename(&mut b.host, &old, value);
            }
            for r in &mut p.redis {
                rename(&mut r.host, &old, value);
            }
            rename(&mut p.postgres.host, &old, value);
            if let Some(r) = &mut p.replica {
                rename(&mut r.host, &old, value);
            }
            if let Some(n) = &mut p.nginx {
                rename(&mut n.host, &old, value);
            }
        }
        Slot::HostAddress(i) => p.hosts[i].address = Some(value.into()),
        Slot::WebName(i) => p.web[i].name = value.into(),
        Slot::TrustedProxy(i) => p.web[i].trusted_proxy_ip = Some(value.into()),
        Slot::StreamingName(i) => p.streaming[i].name = value.into(),
        Slot::SidekiqName(i) => p.sidekiq[i].name = value.into(),
        Slot::BouncerName(i) => {
            let old = p.pgbouncers[i].name.clone();
            p.pgbouncers[i].name = value.into();
            let units = p.web.iter_mut().map(|u| &mut u.pgbouncer);
            let units = units.chain(p.streaming.iter_mut().map(|u| &mut u.pgbouncer));
            for b in units.chain(p.sidekiq.iter_mut().map(|u| &mut u.pgbouncer)).flatten() {
                rename(b, &old, value);
            }
        }
        Slot::RedisName(i) => p.redis[i].name = value.into(),
    }
    p
}

fn benign(slot: Slot) -> &'static str {
    match slot {
        Slot::HostAddress(_) | Slot::TrustedProxy(_) => "192.0.2.7",
        _ => "benign-name",
    }
}

/// Per line: blank, comment, or the directive or key the line sets.
fn shape(path: &str, text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.is_empty() {
                String::new()
            } else if t.starts_with('#') || t.starts_with(';') {
                "#".into()
            } else if path.ends_with("ROLLOUT.txt") {
                // Prose: names may start a line there; only the line count is compared.
                "text".into()
            } else {
                let end = t.find([' ', '=', '\t', ':']).unwrap_or(t.len());
                t[..end].to_string()
            }
        })
        .collect()
}

fn compare(benign: &Export, hostile: &Export) -> Result<(), String> {
    if benign.files.len() != hostile.files.len() {
        return Err(format!("{} files instead of {}", hostile.files.len(), benign.files.len()));
    }
    for (b, h) in benign.files.iter().zip(&hostile.files) {
        if b.content.lines().count() != h.content.lines().count() {
            return Err(format!("{} has {} lines instead of {}", h.relative_path(), h.content.lines().count(), b.content.lines().count()));
        }
        let (sb, sh) = (shape(&b.path, &b.content), shape(&h.path, &h.content));
        if sb != sh {
            let i = sb.iter().zip(&sh).position(|(x, y)| x != y).unwrap_or(0);
            return Err(format!(
                "{} line {}: {:?} instead of {:?}",
                h.relative_path(),
                i + 1,
                h.content.lines().nth(i),
                b.content.lines().nth(i)
            ));
        }
    }
    Ok(())
}

const BREAKERS: [char; 5] = ['\n', '"', '=', '[', '$'];

fn check(plan: &Plan, slot: Slot, value: &str) -> Result<(), TestCaseError> {
    let hostile = set(plan, slot, value);
    if let Err(e) = hostile.validate() {
        prop_assert!(!e.path.is_empty() && !e.message.is_empty(), "unclear refusal: {e}");
        return Ok(());
    }
    prop_assert!(!value.contains(BREAKERS), "{slot:?} accepted {value:?}");
    let benign_export = export(&set(plan, slot, benign(slot))).expect("the benign plan exports");
    match export(&hostile) {
        Err(ExportError::Conflict(_)) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!("validated plan refused: {e}"))),
        Ok(hostile_export) => compare(&benign_export, &hostile_export)
            .map_err(|m| TestCaseError::fail(format!("{slot:?} = {value:?}: {m}"))),
    }
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Anything at all.
        ".{0,24}",
        // The characters that break config files, among valid ones.
        "[a-z0-9._\\-\n\r\"'=\\[\\]$ :/#;{}\\\\%@,*]{1,16}",
        // Valid names and addresses, so that accepted plans are exercised too.
        "[a-zA-Z0-9][a-zA-Z0-9._-]{0,20}",
        "[0-9a-f:.]{1,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_plan_text_adds_a_line_or_a_directive(which in 0usize..3, slot in any::<prop::sample::Index>(), value in text()) {
        let plan = &plans()[which];
        let all = slots(plan);
        check(plan, all[slot.index(all.len())], &value)?;
    }
}

#[test]
fn every_field_refuses_newline_quote_equals_bracket_and_dollar() {
    for plan in plans() {
        for slot in slots(&plan) {
            for c in BREAKERS {
                let value = format!("ok{c}x");
                let err = set(&plan, slot, &value).validate().expect_err(&format!("{slot:?} accepted {value:?}"));
                assert!(
                    err.message.contains("not a valid name") || err.message.contains("not a host"),
                    "{slot:?}: {err}"
                );
                assert!(matches!(export(&set(&plan, slot, &value)), Err(ExportError::Invalid(_))));
            }
        }
    }
}

#[test]
fn the_benign_values_export_like_the_presets() {
    for plan in plans() {
        let base = export(&plan).unwrap();
        for slot in slots(&plan) {
            // Setting a proxy where the plan has none adds lines: a different plan, not text.
            if matches!(slot, Slot::TrustedProxy(i) if plan.web[i].trusted_proxy_ip.is_none()) {
                continue;
            }
            let other = export(&set(&plan, slot, benign(slot))).unwrap_or_else(|e| panic!("{slot:?}: {e}"));
            compare(&base, &other).unwrap_or_else(|m| panic!("{slot:?}: {m}"));
        }
    }
}
