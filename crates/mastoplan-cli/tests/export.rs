//! `mastoplan export PLAN --out DIR`.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

fn mastoplan() -> Command {
    Command::cargo_bin("mastoplan").unwrap()
}

fn plan_file(dir: &Path, name: &str) -> std::path::PathBuf {
    let plan = mastoplan_core::presets::get(name).unwrap();
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, plan.to_json()).unwrap();
    path
}

/// Every file under `dir`, relative, sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[test]
fn every_preset_is_written_in_a_folder_per_host() {
    let tmp = tempfile::tempdir().unwrap();
    for name in mastoplan_core::presets::names() {
        let plan = plan_file(tmp.path(), name);
        let out = tmp.path().join(format!("out-{name}"));
        mastoplan()
            .arg("export")
            .arg(&plan)
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
            .stdout(predicate::str::contains("ROLLOUT.txt"));
        let expected = mastoplan_core::export::export(&mastoplan_core::presets::get(name).unwrap()).unwrap();
        let mut paths: Vec<String> = expected.files.iter().map(|f| f.relative_path()).collect();
        paths.sort();
        assert_eq!(listing(&out), paths, "{name}");
        for f in &expected.files {
            assert_eq!(fs::read_to_string(out.join(f.relative_path())).unwrap(), f.content, "{name}");
        }
    }
}

#[test]
fn existing_files_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_file(tmp.path(), "single-server");
    let out = tmp.path().join("out");
    let existing = out.join("mastodon/etc/mastodon/web.env");
    fs::create_dir_all(existing.parent().unwrap()).unwrap();
    fs::write(&existing, "mine\n").unwrap();
    mastoplan()
        .arg("export")
        .arg(&plan)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exist"))
        .stderr(predicate::str::contains("web.env"))
        .stderr(predicate::str::contains("--force"))
        .stderr(predicate::str::contains("nothing was written"));
    assert_eq!(fs::read_to_string(&existing).unwrap(), "mine\n");
    assert_eq!(listing(&out), ["mastodon/etc/mastodon/web.env"]);
}

#[test]
fn a_second_export_needs_force_and_force_replaces() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_file(tmp.path(), "large-split");
    let out = tmp.path().join("out");
    mastoplan().arg("export").arg(&plan).arg("--out").arg(&out).assert().success();
    let env = out.join("web-1/etc/mastodon/web.env");
    let generated = fs::read_to_string(&env).unwrap();
    fs::write(&env, "edited by hand\n").unwrap();
    mastoplan().arg("export").arg(&plan).arg("--out").arg(&out).assert().code(2);
    assert_eq!(fs::read_to_string(&env).unwrap(), "edited by hand\n");
    mastoplan().arg("export").arg(&plan).arg("--out").arg(&out).arg("--force").assert().success();
    assert_eq!(fs::read_to_string(&env).unwrap(), generated);
}

#[cfg(unix)]
#[test]
fn force_replaces_a_symlink_instead_of_writing_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    let plan = plan_file(tmp.path(), "single-server");
    let out = tmp.path().join("out");
    let victim = tmp.path().join("victim");
    fs::write(&victim, "keep\n").unwrap();
    let link = out.join("mastodon/etc/mastodon/web.env");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    mastoplan().arg("export").arg(&plan).arg("--out").arg(&out).arg("--force").assert().success();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "keep\n");
    assert!(!fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[test]
fn an_invalid_plan_exits_2_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = mastoplan_core::presets::get("single-server").unwrap().to_json().replace("\"name\": \"web\"", "\"name\": \"web\\nRAILS_ENV=development\"");
    let plan = tmp.path().join("bad.json");
    fs::write(&plan, text).unwrap();
    let out = tmp.path().join("out");
    mastoplan()
        .arg("export")
        .arg(&plan)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a valid name"));
    assert!(!out.exists());
}

#[test]
fn a_plan_that_cannot_be_laid_out_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let mut plan = mastoplan_core::presets::get("single-server").unwrap();
    let mut second = plan.web[0].clone();
    second.name = "web-2".into();
    plan.web.push(second);
    let path = tmp.path().join("two-webs.json");
    fs::write(&path, plan.to_json()).unwrap();
    let out = tmp.path().join("out");
    mastoplan()
        .arg("export")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot export this plan"))
        .stderr(predicate::str::contains("web-2"));
    assert!(!out.exists());
}
