//! Whatever is pasted, import and diagnose neither panic nor produce an invalid plan, and
//! their messages stay printable and short.

use mastoplan_core::diagnose::diagnose;
use mastoplan_core::import::{apply, detect, Format, ImportInput, ImportOutcome};
use mastoplan_core::presets;
use proptest::prelude::*;

/// Characters configuration files are made of, so random text reaches deep into the parsers.
const CONFIG_CHARS: &str = "[\\[\\]=#;:'\" a-zA-Z0-9_\\-@./$|,{}()*~%\\\\\t\r\n]{0,600}";

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn import_fixtures() -> Vec<(&'static str, String)> {
    [
        "import/stock/env.production",
        "import/stock/mastodon-sidekiq.service",
        "import/hachyderm/systemctl-cat.txt",
        "import/hachyderm/list-units.txt",
        "import/hachyderm/pgbouncer.ini",
        "import/hachyderm/postgresql.conf",
        "import/hachyderm/redis-cache-config-get.txt",
        "import/tuning/show-all.txt",
        "import/tuning/pg-settings.csv",
        "import/tuning/redis-config-get-raw.txt",
        "import/helm/values.yaml",
        "import/broken/env.production",
    ]
    .into_iter()
    .map(|p| (p.rsplit('/').next().unwrap(), fixture(p)))
    .collect()
}

fn diagnose_fixtures() -> Vec<String> {
    ["busy-aligned.txt", "busy-expanded.txt", "busy.csv", "compendium-waits.txt", "mangled.txt"]
        .into_iter()
        .map(|f| fixture(&format!("diagnose/{f}")))
        .collect()
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, String),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Truncate(usize),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let edit = prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (any::<usize>(), prop_oneof![Just("\r\n".to_string()), Just("\u{feff}".to_string()), Just("\"".to_string()), Just("\t".to_string()), Just("=".to_string()), Just("[".to_string()), "\\PC{0,12}"]).prop_map(|(a, s)| Edit::Insert(a, s)),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        any::<usize>().prop_map(Edit::Truncate),
    ];
    prop::collection::vec(edit, 1..8)
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn mutate(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_string();
    for e in edits {
        match e {
            Edit::Delete(at, n) => {
                let a = floor_char(&s, at % (s.len() + 1));
                let b = floor_char(&s, a + n);
                s.replace_range(a..b, "");
            }
            Edit::Insert(at, t) => {
                let a = floor_char(&s, at % (s.len() + 1));
                s.insert_str(a, t);
            }
            Edit::DuplicateLine(i) | Edit::SwapLines(i, _) if s.lines().count() == 0 => {
                let _ = i;
            }
            Edit::DuplicateLine(i) => {
                let mut lines: Vec<&str> = s.lines().collect();
                let i = i % lines.len();
                lines.insert(i, lines[i]);
                s = lines.join("\n");
            }
            Edit::SwapLines(a, b) => {
                let mut lines: Vec<&str> = s.lines().collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                s = lines.join("\n");
            }
            Edit::Truncate(at) => {
                let a = floor_char(&s, at % (s.len() + 1));
                s.truncate(a);
            }
        }
    }
    s
}

fn check_outcome(out: &ImportOutcome) {
    out.plan.validate().expect("an import always yields a valid plan");
    for n in &out.summary {
        for field in [&n.source, &n.key, &n.message] {
            assert!(!field.chars().any(char::is_control), "control character in {field:?}");
            assert!(field.chars().count() <= 600, "over-long note: {field}");
        }
        assert!(n.line.is_none_or(|l| l >= 1));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_text_in_any_format(text in "\\PC{0,400}", format in prop::option::of(prop::sample::select(Format::ALL.to_vec()))) {
        let base = presets::default_plan();
        let mut input = ImportInput::new("pasted", text);
        input.format = format;
        check_outcome(&apply(&base, &[input]));
    }

    #[test]
    fn config_shaped_noise_in_any_format(text in CONFIG_CHARS, format in prop::sample::select(Format::ALL.to_vec()), name in "[a-z.@\\-]{0,20}") {
        let _ = detect(&name, &text);
        let base = presets::get("large-split").unwrap();
        check_outcome(&apply(&base, &[ImportInput::new(name, text).with_format(format)]));
    }

    #[test]
    fn realistic_files_with_random_edits(which in any::<prop::sample::Index>(), edits in edits(), base in prop::sample::select(vec!["single-server", "large-split", "stock-systemd"])) {
        let files = import_fixtures();
        let (name, text) = &files[which.index(files.len())];
        let mangled = mutate(text, &edits);
        let base = presets::get(base).unwrap();
        // Once under its own name (the format hint), once as anonymous pasted text.
        check_outcome(&apply(&base, &[ImportInput::new(*name, mangled.clone()), ImportInput::new("", mangled)]));
    }

    #[test]
    fn diagnose_any_text(text in "\\PC{0,600}", bouncer in any::<bool>()) {
        let d = diagnose(&text, bouncer);
        let lines = text.split('\n').count();
        for n in &d.notes {
            prop_assert!(n.line >= 1 && n.line <= lines.max(1));
            prop_assert!(!n.message.chars().any(char::is_control));
        }
    }

    #[test]
    fn diagnose_realistic_output_with_random_edits(which in any::<prop::sample::Index>(), edits in edits(), bouncer in any::<bool>()) {
        let files = diagnose_fixtures();
        let text = mutate(&files[which.index(files.len())], &edits);
        let d = diagnose(&text, bouncer);
        for f in &d.findings {
            prop_assert!(!f.message.chars().any(char::is_control));
        }
        for n in &d.notes {
            prop_assert!(!n.message.chars().any(char::is_control));
        }
    }
}

#[test]
fn huge_and_deep_inputs_are_bounded() {
    let base = presets::default_plan();
    let deep = "a:\n".to_string() + &"[".repeat(200_000);
    let wide = "DB_POOL=5\n".repeat(100_000);
    for (name, text) in [("values.yaml", deep), (".env.production", wide)] {
        check_outcome(&apply(&base, &[ImportInput::new(name, text)]));
    }
    let _ = diagnose(&" a | b\n".repeat(140_000), false);
}
