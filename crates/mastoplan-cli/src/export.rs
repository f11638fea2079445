//! `mastoplan export PLAN --out DIR`: write every generated file under DIR/HOST/.

use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use mastoplan_core::export::export;

use crate::{read_plan, EXIT_INPUT};

pub fn run(plan_path: &Path, out: &Path, force: bool) -> ExitCode {
    match write(plan_path, out, force) {
        Ok(written) => {
            for p in &written {
                println!("{}", p.display());
            }
            println!("wrote {} files to {}; read ROLLOUT.txt there before deploying", written.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("mastoplan: {message}");
            ExitCode::from(EXIT_INPUT)
        }
    }
}

fn write(plan_path: &Path, out: &Path, force: bool) -> Result<Vec<PathBuf>, String> {
    let plan = read_plan(plan_path)?;
    let files = export(&plan).map_err(|e| e.to_string())?.files;

    let mut targets = Vec::with_capacity(files.len());
    for f in &files {
        let rel = PathBuf::from(f.relative_path());
        // Names are validated, so this cannot happen; refuse rather than write outside `out`.
        if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
            return Err(format!("refusing the generated path {}", rel.display()));
        }
        targets.push(out.join(rel));
    }

    // Check everything before writing anything: a refused export leaves the folder as it was.
    let existing: Vec<&PathBuf> = targets.iter().filter(|t| t.symlink_metadata().is_ok()).collect();
    if !existing.is_empty() && !force {
        let shown: Vec<String> = existing.iter().take(5).map(|p| p.display().to_string()).collect();
        let more = if existing.len() > 5 { format!(" and {} more", existing.len() - 5) } else { String::new() };
        return Err(format!(
            "{} file(s) already exist in {}: {}{more}; nothing was written. Pass --force to replace them.",
            existing.len(),
            out.display(),
            shown.join(", ")
        ));
    }
    for t in &existing {
        if t.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            return Err(format!("{} is a folder, not a file; nothing was written", t.display()));
        }
    }

    for (f, target) in files.iter().zip(&targets) {
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        // Replace rather than write through: an existing symlink must not redirect the write.
        if target.symlink_metadata().is_ok() {
            fs::remove_file(target).map_err(|e| format!("cannot replace {}: {e}", target.display()))?;
        }
        fs::write(target, &f.content).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(targets)
}
