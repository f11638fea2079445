//! systemd units: one file, or several as `systemctl cat` prints them (each after a
//! `# /etc/systemd/system/NAME.service` line, drop-ins after their unit). Lines from
//! `systemctl list-units` tell how many instances of a template run.

use std::collections::BTreeMap;

use super::text::{self, lines, quoted, split_words};
use super::{Collector, NoteAction, UnitDef, UnitKind, Val};

struct UnitFile {
    /// The path from the `# /path` header, or the input's name.
    path: String,
    /// The header's line, or the first line of the file.
    line: usize,
    /// (line, section, key, value)
    entries: Vec<(usize, String, String, String)>,
    /// Drop-in files merged into it.
    dropins: usize,
}

fn basename(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// `# /etc/systemd/system/mastodon-web.service` as systemctl cat prints it.
fn header_path(line: &str) -> Option<&str> {
    let p = line.trim().strip_prefix("# ")?;
    if !p.starts_with('/') || p.contains(char::is_whitespace) {
        return None;
    }
    let b = basename(p);
    [".service", ".conf", ".socket", ".target", ".timer"].iter().any(|s| b.ends_with(s)).then_some(p)
}

/// `mastodon-sidekiq-default@2.service loaded active running …` from systemctl list-units.
pub(crate) fn list_units_line(line: &str) -> Option<(String, String)> {
    let t = line.trim_start_matches(|c: char| c.is_whitespace() || c == '●' || c == '*' || c == '○' || c == '×');
    let mut words = t.split_whitespace();
    let unit = words.next()?;
    let rest: Vec<&str> = words.take(3).collect();
    if rest.first().is_none_or(|w| *w != "loaded") {
        return None;
    }
    let stem = unit.strip_suffix(".service")?;
    let (template, instance) = stem.split_once('@')?;
    (!instance.is_empty()).then(|| (template.to_string(), instance.to_string()))
}

pub(crate) fn read(c: &mut Collector, name_hint: &str, input: &str) {
    let mut files: Vec<UnitFile> = Vec::new();
    let mut current: Option<UnitFile> = None;
    let mut section = String::new();
    let all: Vec<(usize, &str)> = lines(input).collect();
    let has_list_units = all.iter().any(|(_, l)| list_units_line(l).is_some());
    let mut i = 0;
    while i < all.len() {
        let (n, raw) = all[i];
        i += 1;
        if let Some(path) = header_path(raw) {
            if let Some(f) = current.take() {
                files.push(f);
            }
            current = Some(UnitFile { path: path.to_string(), line: n, entries: Vec::new(), dropins: 0 });
            section.clear();
            continue;
        }
        if let Some((template, instance)) = list_units_line(raw) {
            c.recognised += 1;
            let at = c.at(Some(n), &format!("{template}@{instance}"));
            let entry = c.instances_seen.entry(template).or_insert_with(|| (Default::default(), at));
            entry.0.insert(instance);
            continue;
        }
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        // Around list-units output: its header, legend and the command line.
        if current.is_none() && has_list_units && !t.starts_with('[') {
            continue;
        }
        let file = current.get_or_insert_with(|| UnitFile {
            path: name_hint.to_string(),
            line: n,
            entries: Vec::new(),
            dropins: 0,
        });
        if let Some(rest) = t.strip_prefix('[') {
            match rest.strip_suffix(']') {
                Some(name) if !name.trim().is_empty() => section = name.trim().to_string(),
                _ => {
                    // `[Service` is most likely [Service]: read on under that name.
                    section = rest.trim_end_matches(']').trim().to_string();
                    c.malformed(n, raw, &format!("not a [Section] line; read as [{}]", super::text::clean(&section, 30)));
                }
            }
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            c.malformed(n, raw, "not a Key=Value line");
            continue;
        };
        let key = k.trim();
        if key.is_empty() || !key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            c.malformed(n, raw, "not a setting name");
            continue;
        }
        // A trailing backslash continues the value on the next line.
        let mut value = v.trim().to_string();
        while value.ends_with('\\') && i < all.len() {
            value.pop();
            value.push(' ');
            value.push_str(all[i].1.trim());
            i += 1;
        }
        if section.is_empty() {
            c.malformed(n, raw, "setting before any [Section]");
            continue;
        }
        file.entries.push((n, section.clone(), key.to_string(), value));
    }
    if let Some(f) = current.take() {
        files.push(f);
    }

    // Drop-ins (`NAME.service.d/override.conf`) go after their unit, so their settings win.
    let mut units: Vec<UnitFile> = Vec::new();
    for f in files {
        let dir_unit = f
            .path
            .rsplit_once(['/', '\\'])
            .and_then(|(dir, _)| basename(dir).strip_suffix(".d"))
            .filter(|u| u.ends_with(".service"))
            .map(str::to_string);
        match dir_unit {
            Some(unit) => match units.iter_mut().find(|u| basename(&u.path) == unit) {
                Some(u) => {
                    u.entries.extend(f.entries);
                    u.dropins += 1;
                }
                None => units.push(UnitFile { path: unit, ..f }),
            },
            None => units.push(f),
        }
    }
    for u in units {
        interpret(c, u);
    }
}

/// What one unit's settings say, after drop-ins.
#[derive(Default)]
struct Service {
    env: BTreeMap<String, Val<String>>,
    exec_start: Option<Val<String>>,
    limit_nofile: Option<Val<String>>,
    wants: Vec<(usize, String)>,
    description: Option<String>,
    other: usize,
}

fn interpret(c: &mut Collector, u: UnitFile) {
    let mut s = Service::default();
    let file_name = basename(&u.path).to_string();
    let source_key = if file_name.is_empty() { "unit".to_string() } else { file_name.clone() };
    for (n, section, key, value) in &u.entries {
        match (section.as_str(), key.as_str()) {
            ("Service", "Environment") => {
                if value.is_empty() {
                    s.env.clear();
                    continue;
                }
                match split_words(value) {
                    Some(words) => {
                        for w in words {
                            match w.split_once('=') {
                                Some((k, v)) if super::env::is_env_key(k) => {
                                    let at = c.at(Some(*n), k);
                                    let mut slot = s.env.remove(k);
                                    Collector::set(&mut c.notes, &mut slot, Val { v: v.to_string(), at });
                                    s.env.insert(k.to_string(), slot.expect("just set"));
                                }
                                _ => c.malformed(*n, &w, "not a VAR=value assignment"),
                            }
                        }
                    }
                    None => c.malformed(*n, value, "unbalanced quotes in Environment="),
                }
            }
            ("Service", "EnvironmentFile") => {
                let file = value.trim_start_matches('-');
                c.note_line(
                    *n,
                    "EnvironmentFile",
                    NoteAction::Ignored,
                    format!("{} is not read from here: add it as another input", quoted(file)),
                );
            }
            ("Service", "ExecStart") => {
                if value.is_empty() {
                    s.exec_start = None;
                } else {
                    s.exec_start = Some(Val { v: value.clone(), at: c.at(Some(*n), "ExecStart") });
                }
            }
            ("Service", "LimitNOFILE") => s.limit_nofile = Some(Val { v: value.clone(), at: c.at(Some(*n), "LimitNOFILE") }),
            ("Unit", "Wants" | "Requires" | "BindsTo") => s.wants.push((*n, value.clone())),
            ("Unit", "Description") => s.description = Some(value.clone()),
            _ => s.other += 1,
        }
    }

    let stem = file_name.strip_suffix(".service").unwrap_or(&file_name).to_string();
    let (unit_name, instance) = match stem.split_once('@') {
        Some((t, inst)) => (t.to_string(), Some(inst.to_string())),
        None => (stem.clone(), None),
    };
    let exec = s.exec_start.as_ref().map(|e| exec_words(&e.v)).unwrap_or_default();
    let lower = unit_name.to_ascii_lowercase();
    let runs = |name: &str| exec.iter().any(|w| basename(w) == name);
    let kind = if lower.contains("pgbouncer") || runs("pgbouncer") {
        None
    } else if lower.contains("sidekiq") || runs("sidekiq") {
        Some(UnitKind::Sidekiq)
    } else if lower.contains("streaming")
        || (runs("node") && exec.iter().any(|w| w.contains("streaming")))
        || (runs("npm") && exec.iter().any(|w| w == "start"))
    {
        Some(UnitKind::Streaming)
    } else if lower.contains("mastodon-web") || lower == "web" || lower.contains("puma") || runs("puma") {
        Some(UnitKind::Web)
    } else {
        None
    };
    let header_at = c.at(Some(u.line), &source_key);

    if lower.contains("pgbouncer") || runs("pgbouncer") {
        c.recognised += 1;
        if c.bouncer.seen.is_none() {
            c.bouncer.seen = Some(header_at.clone());
        }
        if let Some(l) = s.limit_nofile {
            match text::parse_u32(&l.v) {
                Some(v) => {
                    let val = Val { v, at: l.at };
                    Collector::set(&mut c.notes, &mut c.bouncer.limit_nofile, val);
                }
                None => {
                    let msg = format!("{} is not a number of files the plan can hold", quoted(&l.v));
                    c.note(&l.at, NoteAction::Ignored, msg);
                }
            }
        }
        return;
    }

    let Some(kind) = kind else {
        if !u.entries.is_empty() || !file_name.is_empty() {
            c.note(&header_at, NoteAction::Ignored, "not a Mastodon web, streaming or sidekiq unit, nor PgBouncer's: not part of the plan");
        }
        return;
    };

    // Since 4.2, mastodon-streaming.service only starts the mastodon-streaming@PORT instances.
    let is_process = match kind {
        UnitKind::Streaming => runs("node") || runs("npm") || runs("streaming"),
        _ => s.exec_start.is_some(),
    };
    if kind == UnitKind::Streaming && instance.is_none() && !is_process {
        let mut ports = 0;
        for (n, value) in &s.wants {
            for w in value.split_whitespace() {
                if let Some((t, inst)) = w.strip_suffix(".service").and_then(|w| w.split_once('@')) {
                    if !inst.is_empty() && t.contains("streaming") {
                        let at = c.at(Some(*n), w);
                        let e = c.instances_seen.entry(t.to_string()).or_insert_with(|| (Default::default(), at));
                        e.0.insert(inst.to_string());
                        ports += 1;
                    }
                }
            }
        }
        c.recognised += 1;
        c.note(
            &header_at,
            NoteAction::Ignored,
            if ports > 0 {
                format!("only starts the mastodon-streaming@ instances it wants ({ports} counted); not a process itself")
            } else {
                "only starts the mastodon-streaming@ instances (since 4.2); not a process itself".to_string()
            },
        );
        return;
    }

    if s.exec_start.is_none() {
        c.note(&header_at, NoteAction::Ignored, format!("a {} unit without ExecStart= runs nothing: skipped", kind.name()));
        return;
    }

    let mut concurrency = None;
    let mut queues = None;
    if kind == UnitKind::Sidekiq {
        let exec_at = s.exec_start.as_ref().map(|e| e.at.clone()).expect("checked above");
        let (conc, qs, problems) = sidekiq_args(&exec);
        for p in problems {
            c.note(&exec_at, NoteAction::Malformed, p);
        }
        concurrency = conc.map(|v| Val { v, at: exec_at.clone() });
        queues = (!qs.is_empty()).then(|| Val { v: qs, at: exec_at.clone() });
    }

    // Unit names come from file names; without one, from the kind and queues.
    let name = if unit_name.is_empty() {
        match (&kind, &queues) {
            (UnitKind::Sidekiq, Some(q)) => {
                let names: Vec<&str> = q.v.iter().map(|a| a.split(',').next().unwrap_or("")).collect();
                format!("sidekiq-{}", names.join("-"))
            }
            _ => kind.name().to_string(),
        }
    } else {
        unit_name.clone()
    };
    if let Err(e) = crate::validate::check_name("", &name) {
        c.note(&header_at, NoteAction::Ignored, format!("the unit cannot be named after its file: {}", e.message));
        return;
    }

    if let Some(inst) = &instance {
        if !inst.is_empty() {
            let e = c.instances_seen.entry(name.clone()).or_insert_with(|| (Default::default(), header_at.clone()));
            e.0.insert(inst.clone());
        }
    }
    if s.other > 0 || u.dropins > 0 {
        let mut msg = format!("{} other settings (sandboxing, restart policy…) do not change capacity", s.other);
        if u.dropins > 0 {
            msg.push_str(&format!("; {} drop-in file(s) merged", u.dropins));
        }
        c.note(&header_at, NoteAction::Ignored, msg);
    }
    let template = instance.is_some();
    c.add_unit(UnitDef {
        instances: (!template).then(|| Val { v: 1, at: header_at.clone() }),
        name,
        kind,
        at: header_at,
        env: s.env,
        concurrency,
        queues,
        template,
    });
}

/// ExecStart's command as words, with `bash -c '…'` strings opened up and systemd's
/// `-@+!:` prefixes dropped.
fn exec_words(value: &str) -> Vec<String> {
    let v = value.trim_start_matches(['-', '@', '+', '!', ':']);
    let words = split_words(v).unwrap_or_else(|| v.split_whitespace().map(str::to_string).collect());
    let mut out = Vec::new();
    for w in words {
        if w.contains(char::is_whitespace) {
            out.extend(split_words(&w).unwrap_or_else(|| w.split_whitespace().map(str::to_string).collect()));
        } else {
            out.push(w);
        }
    }
    out
}

/// sidekiq's `-c N` and `-q QUEUE[,WEIGHT]` from its command line; other words are skipped.
fn sidekiq_args(words: &[String]) -> (Option<String>, Vec<String>, Vec<String>) {
    let mut problems = Vec::new();
    let Some(start) = words.iter().position(|w| basename(w) == "sidekiq") else {
        return (None, Vec::new(), vec!["ExecStart= does not run sidekiq".into()]);
    };
    let mut conc = None;
    let mut queues = Vec::new();
    let mut i = start + 1;
    while i < words.len() {
        let w = words[i].as_str();
        if matches!(w, "&&" | ";" | "|" | "||") {
            break;
        }
        let mut take = |flag_short: &str, flag_long: &str| -> Option<Option<String>> {
            if w == flag_short || w == flag_long {
                i += 1;
                return Some(words.get(i).cloned());
            }
            if let Some(v) = w.strip_prefix(&format!("{flag_long}=")) {
                return Some(Some(v.to_string()));
            }
            if w.len() > 2 && w.starts_with(flag_short) && !w.starts_with("--") {
                return Some(Some(w[2..].to_string()));
            }
            None
        };
        if let Some(v) = take("-c", "--concurrency") {
            match v {
                Some(v) => conc = Some(v),
                None => problems.push("-c without a number".into()),
            }
        } else if let Some(v) = take("-q", "--queue") {
            match v {
                Some(v) => queues.push(v),
                None => problems.push("-q without a queue".into()),
            }
        }
        i += 1;
    }
    (conc, queues, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        exec_words(s)
    }

    #[test]
    fn sidekiq_arguments_in_their_spellings() {
        let (c, q, p) = sidekiq_args(&words("/home/mastodon/.rbenv/shims/bundle exec sidekiq -c 25 -q default,8 -q push"));
        assert_eq!((c.as_deref(), q, p.len()), (Some("25"), vec!["default,8".to_string(), "push".into()], 0));
        let (c, q, _) = sidekiq_args(&words("/bin/bash -lc 'cd /srv && exec bundle exec sidekiq --concurrency=$DB_POOL --queue=pull'"));
        assert_eq!((c.as_deref(), q), (Some("$DB_POOL"), vec!["pull".to_string()]));
        let (c, _, _) = sidekiq_args(&words("bundle exec sidekiq -c10"));
        assert_eq!(c.as_deref(), Some("10"));
        let (_, _, p) = sidekiq_args(&words("bundle exec sidekiq -c"));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn headers_and_list_units() {
        assert_eq!(header_path("# /etc/systemd/system/mastodon-web.service"), Some("/etc/systemd/system/mastodon-web.service"));
        assert_eq!(header_path("# /etc/systemd/system/x.service.d/override.conf"), Some("/etc/systemd/system/x.service.d/override.conf"));
        assert_eq!(header_path("# Proc filesystem"), None);
        assert_eq!(
            list_units_line("  mastodon-sidekiq-push@2.service   loaded active running mastodon-sidekiq-push"),
            Some(("mastodon-sidekiq-push".into(), "2".into()))
        );
        assert_eq!(list_units_line("● mastodon-streaming@4001.service loaded failed failed x"), Some(("mastodon-streaming".into(), "4001".into())));
        assert_eq!(list_units_line("mastodon-web.service loaded active running"), None);
    }
}
