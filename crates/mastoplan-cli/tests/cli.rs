use assert_cmd::Command;
use predicates::prelude::*;
use std::io::Write;

fn mastoplan() -> Command {
    Command::cargo_bin("mastoplan").unwrap()
}

fn preset_file(name: &str) -> tempfile::NamedTempFile {
    let out = mastoplan().args(["preset", name]).output().unwrap();
    assert!(out.status.success());
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(&out.stdout).unwrap();
    f
}

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

fn preset_names() -> Vec<String> {
    let out = mastoplan().arg("presets").output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect()
}

#[test]
fn presets_lists_every_preset() {
    let names = preset_names();
    for expected in ["single-server", "compendium-example", "large-split", "stock-systemd"] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
}

#[test]
fn unknown_preset_exits_2() {
    mastoplan().args(["preset", "nope"]).assert().code(2).stderr(predicate::str::contains("single-server"));
}

#[test]
fn check_json_of_the_worked_example() {
    let f = preset_file("compendium-example");
    let out = mastoplan().args(["check", "--format", "json"]).arg(f.path()).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["connections"]["clients"], 185);
    assert_eq!(report["connections"]["total"], 185);
    assert_eq!(report["connections"]["available"], 200);
    let findings = report["findings"].as_array().unwrap();
    for f in findings {
        assert!(f["id"].as_str().unwrap().starts_with("MP"));
        assert!(f["name"].is_string());
        assert!(["error", "warning", "advice"].contains(&f["severity"].as_str().unwrap()));
    }
    let has_error = findings.iter().any(|f| f["severity"] == "error");
    assert_eq!(out.status.code(), Some(if has_error { 1 } else { 0 }));
}

#[test]
fn check_text_prints_the_ledger() {
    let f = preset_file("compendium-example");
    mastoplan()
        .arg("check")
        .arg(f.path())
        .assert()
        .stdout(predicate::str::contains("sidekiq-push-scheduler"))
        .stdout(predicate::str::contains("postgres sees 185 of 200 available"))
        .stdout(predicate::str::contains("3 processes x DB_POOL 15 = 45"));
}

#[test]
fn every_preset_checks_in_both_formats_with_a_meaningful_exit_code() {
    for name in preset_names() {
        let f = preset_file(&name);
        let json = mastoplan().args(["check", "--format", "json"]).arg(f.path()).output().unwrap();
        let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        let has_error = report["findings"].as_array().unwrap().iter().any(|f| f["severity"] == "error");
        assert_eq!(json.status.code(), Some(if has_error { 1 } else { 0 }), "{name}");
        let text = mastoplan().arg("check").arg(f.path()).output().unwrap();
        assert_eq!(text.status.code(), json.status.code(), "{name}");
        assert!(String::from_utf8(text.stdout).unwrap().contains("postgres sees"), "{name}");
    }
}

#[test]
fn an_error_finding_exits_1() {
    let mut plan: serde_json::Value =
        serde_json::from_slice(&mastoplan().args(["preset", "compendium-example"]).output().unwrap().stdout).unwrap();
    plan["web"][0]["max_threads"] = 40.into();
    let f = file_with(&plan.to_string());
    mastoplan().arg("check").arg(f.path()).assert().code(1).stdout(predicate::str::contains("connections-over-budget"));
}

#[test]
fn syntax_error_exits_2_with_line() {
    let f = file_with("{\n  \"name\": \"x\",\n  \"hosts\": [\n");
    mastoplan()
        .arg("check")
        .arg(f.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("line 4"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn wrong_type_exits_2_with_json_path() {
    let text = String::from_utf8(mastoplan().args(["preset", "single-server"]).output().unwrap().stdout).unwrap();
    let broken = text.replacen("\"concurrency\": 25", "\"concurrency\": \"twenty\"", 1);
    assert_ne!(text, broken);
    let f = file_with(&broken);
    mastoplan()
        .arg("check")
        .arg(f.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/sidekiq/0/concurrency"))
        .stderr(predicate::str::contains("line "));
}

#[test]
fn dangling_reference_exits_2() {
    let text = String::from_utf8(mastoplan().args(["preset", "single-server"]).output().unwrap().stdout).unwrap();
    let broken = text.replacen("\"host\": \"mastodon\"", "\"host\": \"nowhere\"", 1);
    let f = file_with(&broken);
    mastoplan().arg("check").arg(f.path()).assert().code(2).stderr(predicate::str::contains("no host is named \"nowhere\""));
}

#[test]
fn hostile_bytes_exit_2_without_panicking() {
    for junk in ["", "null", "[]", "\u{0}\u{1}", "{\"name\": 1e999}", "{\"hosts\": {}}", &"[".repeat(10_000)] {
        let f = file_with(junk);
        mastoplan()
            .arg("check")
            .arg(f.path())
            .assert()
            .code(2)
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn missing_file_exits_2() {
    mastoplan().args(["check", "/nonexistent/plan.json"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
}

#[test]
fn link_then_check_url_gives_the_same_report() {
    let f = preset_file("compendium-example");
    let out = mastoplan().args(["link", "--base", "https://example.org/mastoplan/"]).arg(f.path()).output().unwrap();
    assert!(out.status.success());
    let url = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(url.starts_with("https://example.org/mastoplan/#v1."), "{url}");
    let from_url = mastoplan().args(["check", "--format", "json", "--url", &url]).output().unwrap();
    let from_file = mastoplan().args(["check", "--format", "json"]).arg(f.path()).output().unwrap();
    assert_eq!(from_url.stdout, from_file.stdout);
    assert_eq!(from_url.status.code(), from_file.status.code());

    let bare = mastoplan().arg("link").arg(f.path()).output().unwrap();
    let fragment = String::from_utf8(bare.stdout).unwrap().trim().to_string();
    assert!(fragment.starts_with("#v1."));
    let from_fragment = mastoplan().args(["check", "--format", "json", "--url", &fragment]).output().unwrap();
    assert_eq!(from_fragment.stdout, from_file.stdout);
}

#[test]
fn check_url_refuses_a_damaged_link() {
    for bad in ["https://example.org/#v1.AAAA", "#v7.abc", "#v1.@@", "", "#preset=nope"] {
        mastoplan()
            .args(["check", "--url", bad])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("cannot open the link"))
            .stderr(predicate::str::contains("panicked").not());
    }
}

#[test]
fn check_url_opens_a_preset_deep_link() {
    mastoplan()
        .args(["check", "--url", "https://example.org/#preset=compendium-example"])
        .assert()
        .stdout(predicate::str::contains("postgres sees 185 of 200 available"));
}

#[test]
fn check_needs_a_plan_or_a_url() {
    mastoplan().arg("check").assert().code(2);
}

fn new_plan(args: &[&str]) -> (serde_json::Value, String) {
    let out = mastoplan().arg("new").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is plan JSON only");
    (plan, String::from_utf8(out.stderr).unwrap())
}

#[test]
fn new_prints_a_plan_that_check_accepts_and_its_assumptions_on_stderr() {
    let (plan, stderr) = new_plan(&["--users", "500", "--hosts", "1", "--ram", "8", "--cores", "4"]);
    assert_eq!(plan["expected_active_users"], 500);
    assert!(stderr.contains("assumptions"), "{stderr}");
    assert!(stderr.contains("busy_queue_threads"), "{stderr}");
    assert!(stderr.contains("estimates.sidekiq_process_mb"), "{stderr}");
    assert!(stderr.contains("0 errors"), "{stderr}");
    let f = file_with(&plan.to_string());
    mastoplan().arg("check").arg(f.path()).assert().code(0);
}

#[test]
fn new_plans_for_each_size_check_without_errors() {
    for (users, hosts, ram, cores) in [("500", "1", "8", "4"), ("5000", "2", "16", "8"), ("50000", "6", "32", "8"), ("250000", "12", "64", "16")] {
        let (plan, _) = new_plan(&["--users", users, "--hosts", hosts, "--ram", ram, "--cores", cores]);
        assert_eq!(plan["hosts"].as_array().unwrap().len(), hosts.parse::<usize>().unwrap());
        let f = file_with(&plan.to_string());
        let out = mastoplan().args(["check", "--format", "json"]).arg(f.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{users} users: {}", String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn new_on_too_few_hosts_warns_on_stderr() {
    let (plan, stderr) = new_plan(&["--users", "250000", "--hosts", "2", "--ram", "64", "--cores", "16"]);
    assert!(stderr.contains("cannot carry the estimated load"), "{stderr}");
    let f = file_with(&plan.to_string());
    mastoplan().arg("check").arg(f.path()).assert().code(0);
}

#[test]
fn new_takes_assumptions_by_name() {
    let (plan, _) = new_plan(&[
        "--users", "50000", "--hosts", "6", "--ram", "32", "--cores", "8",
        "--assume", "busy_queue_threads=15",
        "--assume", "estimates.puma_worker_mb=500",
        "--mastodon", "4.3",
        "--name", "mine",
    ]);
    assert_eq!(plan["name"], "mine");
    assert_eq!(plan["mastodon_version"], "4.3");
    assert_eq!(plan["estimates"]["puma_worker_mb"], 500);
    let default = plan["sidekiq"].as_array().unwrap().iter().find(|s| s["queues"] == serde_json::json!(["default"])).unwrap();
    assert_eq!(default["concurrency"], 15);
    assert!(plan["sidekiq"].as_array().unwrap().iter().all(|s| !s["queues"].as_array().unwrap().contains(&"fasp".into())));
}

#[test]
fn new_refuses_bad_input_with_exit_2() {
    let base = ["new", "--users", "500", "--ram", "8", "--cores", "4"];
    mastoplan().args(base).args(["--assume", "nonsense=1"]).assert().code(2).stderr(predicate::str::contains("no assumption is named"));
    mastoplan().args(base).args(["--assume", "busy_queue_threads"]).assert().code(2).stderr(predicate::str::contains("NAME=VALUE"));
    mastoplan().args(base).args(["--assume", "puma_threads=0"]).assert().code(2);
    mastoplan().args(["new", "--users", "0", "--ram", "8", "--cores", "4"]).assert().code(2).stdout(predicate::str::is_empty());
    mastoplan().args(base).args(["--name", "bad name"]).assert().code(2);
}

#[test]
fn check_json_carries_hosts_and_postgres_settings() {
    let f = preset_file("compendium-example");
    let out = mastoplan().args(["check", "--format", "json"]).arg(f.path()).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hosts = report["hosts"].as_array().unwrap();
    assert_eq!(hosts.iter().map(|h| h["host"].as_str().unwrap()).collect::<Vec<_>>(), ["app", "db"]);
    let db = &hosts[1];
    assert_eq!(db["ram_mb"], 32768);
    assert!(db["claims"].as_array().unwrap().iter().any(|c| c["kind"] == "postgres"));
    let pg = &report["postgres_settings"];
    assert_eq!(pg["host"], "db");
    assert_eq!(pg["max_connections"], 203);
    let settings = pg["settings"].as_array().unwrap();
    for name in ["shared_buffers", "effective_cache_size", "work_mem", "random_page_cost", "huge_pages"] {
        assert!(settings.iter().any(|s| s["name"] == name), "{name} missing");
    }
    assert_eq!(pg["ceiling"]["num_cores"], 8);
    assert_eq!(report["connections"]["total"], 185, "the connection budget is unchanged");
}

#[test]
fn check_text_prints_hosts_and_postgres_settings() {
    let f = preset_file("large-split");
    mastoplan()
        .arg("check")
        .arg(f.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains("worker-2  sidekiq-ingress"))
        .stdout(predicate::str::contains("shared_buffers = 16GB"))
        .stdout(predicate::str::contains("work_mem = 77672kB"))
        .stdout(predicate::str::contains("max_connections ceiling (CYBERTEC)"));
}

#[test]
fn a_plan_saved_before_estimates_existed_still_checks() {
    let text = String::from_utf8(mastoplan().args(["preset", "single-server"]).output().unwrap().stdout).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("estimates");
    let f = file_with(&v.to_string());
    mastoplan().arg("check").arg(f.path()).assert().code(0).stdout(predicate::str::contains("os_reserve_mb 1024"));
}

fn core_fixture(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../mastoplan-core/tests/fixtures").join(path)
}

#[test]
fn import_prints_the_plan_and_a_line_numbered_summary() {
    let stock = ["env.production", "mastodon-web.service", "mastodon-sidekiq.service", "mastodon-streaming.service", "mastodon-streaming@.service"];
    let out = mastoplan()
        .arg("import")
        .args(stock.iter().map(|f| core_fixture(&format!("import/stock/{f}"))))
        .args(["--base", "stock-systemd"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["name"], "stock-systemd");
    assert_eq!(plan["web"][0]["name"], "mastodon-web");
    assert_eq!(plan["sidekiq"][0]["concurrency"], 25);
    assert_eq!(plan["sidekiq"][0]["db_pool"], 25);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("env.production:16: taken DB_PORT"), "{stderr}");
    assert!(stderr.contains("mastodon-sidekiq.service:10: taken DB_POOL: /sidekiq/0/db_pool = 25"), "{stderr}");
    assert!(!stderr.contains("0123456789abcdef"), "a secret reached the summary");

    // The printed plan is a plan `check` accepts.
    let f = file_with(&String::from_utf8(out.stdout).unwrap());
    let check = mastoplan().arg("check").arg(f.path()).output().unwrap();
    assert!(matches!(check.status.code(), Some(0 | 1)));
}

#[test]
fn import_from_stdin_onto_a_plan_file() {
    let base = preset_file("large-split");
    mastoplan()
        .args(["import", "-", "--base"])
        .arg(base.path())
        .write_stdin("[pgbouncer]\npool_mode = transaction\nmax_client_conn = 300\n")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"max_client_conn\": 300"))
        .stdout(predicate::str::contains("\"name\": \"large-split\""))
        .stderr(predicate::str::contains("pasted text:3: taken max_client_conn"));
}

#[test]
fn import_reports_malformed_lines_and_still_reads_the_rest() {
    mastoplan()
        .arg("import")
        .arg(core_fixture("import/broken/env.production"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"web_concurrency\": 4"))
        .stderr(predicate::str::contains("env.production:7: malformed"))
        .stderr(predicate::str::contains("env.production:12: malformed"));
}

#[test]
fn import_exits_2_on_a_missing_file_unreadable_input_or_unknown_base() {
    mastoplan().args(["import", "/nonexistent/.env.production"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
    let junk = file_with("just some words\nnothing to see\n");
    mastoplan()
        .arg("import")
        .arg(junk.path())
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("nothing could be read"));
    let env = file_with("DB_POOL=5\n");
    mastoplan().arg("import").arg(env.path()).args(["--base", "no-such-preset"]).assert().code(2).stderr(predicate::str::contains("neither a preset"));
    mastoplan().arg("import").assert().code(2);
}

#[test]
fn diagnose_prints_findings_and_exits_like_check() {
    for file in ["busy-aligned.txt", "busy-expanded.txt", "busy.csv"] {
        mastoplan()
            .arg("diagnose")
            .arg(core_fixture(&format!("diagnose/{file}")))
            .arg("--behind-bouncer")
            .assert()
            .code(0)
            .stdout(predicate::str::contains("MP081 [bouncer-bottleneck] 3 of 88 server connections are idle"))
            .stdout(predicate::str::contains("MP083 [wal-write-waits] 15 sessions wait on WAL writes"));
    }
    mastoplan()
        .arg("diagnose")
        .arg(core_fixture("diagnose/over-limit.csv"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains("error    MP085 [connections-near-limit] 97 client connections of 97 available"));
}

#[test]
fn diagnose_json_and_line_numbered_notes() {
    let out = mastoplan().args(["diagnose", "--format", "json"]).arg(core_fixture("diagnose/mangled.txt")).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = d["notes"].as_array().unwrap().iter().map(|n| n["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [4, 5, 7, 9, 12]);
    assert_eq!(d["findings"][0]["name"], "idle-connections-high");
    assert!(d["findings"][0]["fix"].as_str().unwrap().len() > 20);
}

#[test]
fn diagnose_exits_2_without_a_result_and_prints_the_queries() {
    let junk = file_with("nothing here\n");
    mastoplan().arg("diagnose").arg(junk.path()).assert().code(2).stderr(predicate::str::contains("--queries"));
    mastoplan().args(["diagnose", "/nonexistent/out.txt"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
    mastoplan()
        .args(["diagnose", "--queries"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("res_for_super"))
        .stdout(predicate::str::contains("wait_event_type IS DISTINCT FROM 'Activity'"))
        .stdout(predicate::str::contains("backend_type = 'client backend'"));
}
