//! systemd units in the compendium's style: one template per sidekiq queue, each instance a
//! process (`mastodon-sidekiq-pull@1`, `@2`, ...), its numbers in an EnvironmentFile and
//! `-c $DB_POOL` on the command line; `mastodon-web.service`; `mastodon-streaming@PORT`.
//!
//! The hardening options follow the stock units in mastodon/mastodon `dist/`. jemalloc is
//! preloaded and MALLOC_ARENA_MAX=2 set for the Ruby processes against glibc malloc
//! fragmentation (the compendium's sidekiq memory story).
//!
//! A sidekiq unit serving several queues is named after the unit (see
//! [`super::SidekiqLayout`]) and passes each queue with Mastodon's weight, as the stock unit
//! does through `config/sidekiq.yml`.

use super::env::{STREAMING_ENV, WEB_ENV};
use super::{header, Ctx, ExportFile, MASTODON_HOME, WEB_PORT};
use crate::budget::UnitKind;

/// The stock install's Ruby launcher (rbenv shim) and Node.
pub const BUNDLE: &str = "/home/mastodon/.rbenv/shims/bundle";
pub const NODE: &str = "/usr/bin/node";

/// jemalloc's runtime library as Debian and Ubuntu ship it (package libjemalloc2); the
/// unversioned `libjemalloc.so` of the stock units exists only with the -dev package, and a
/// preload that cannot be found is skipped with a warning, silently losing jemalloc.
pub const JEMALLOC: &str = "libjemalloc.so.2";

/// Open files for app processes, as the stock streaming unit sets.
pub const APP_NOFILE: u32 = 65536;

const UNIT_DIR: &str = "etc/systemd/system";

pub fn files(cx: &Ctx) -> Vec<ExportFile> {
    let plan = cx.plan;
    let mut out = Vec::new();
    for w in &plan.web {
        let mut u = Unit::new(cx, &format!("Puma for web unit {} on host {}.", w.name, w.host));
        u.line("[Unit]");
        u.line(&format!("Description=Mastodon web (Puma), plan {}", plan.name));
        u.line("After=network.target");
        u.blank();
        u.line("[Service]");
        u.common_service("RAILS_ENV=production");
        u.line(&format!("Environment=\"PORT={WEB_PORT}\""));
        u.line(&format!("EnvironmentFile={WEB_ENV}"));
        u.malloc(w.jemalloc);
        u.line(&format!("ExecStart={BUNDLE} exec puma -C config/puma.rb"));
        u.line("ExecReload=/bin/kill -SIGUSR1 $MAINPID");
        u.restart_and_limits();
        u.hardening(RUBY_SYSCALLS_WEB);
        u.install("multi-user.target");
        out.push(u.finish(&w.host, "mastodon-web.service"));
    }
    for (i, s) in plan.streaming.iter().enumerate() {
        let ports = &cx.streaming_ports[i];
        let mut u = Unit::new(cx, &format!("Streaming server for streaming unit {} on host {}, one instance per port.", s.name, s.host));
        u.line("[Unit]");
        u.line(&format!("Description=Mastodon streaming on port %i, plan {}", plan.name));
        u.line("After=network.target");
        u.comment("`systemctl restart mastodon-streaming` restarts every instance.");
        u.line("PartOf=mastodon-streaming.service");
        u.blank();
        u.line("[Service]");
        u.common_service("NODE_ENV=production");
        u.line("Environment=\"PORT=%i\"");
        u.line(&format!("EnvironmentFile={STREAMING_ENV}"));
        u.line(&format!("ExecStart={NODE} ./streaming"));
        u.restart_and_limits();
        u.hardening(NODE_SYSCALLS);
        u.line("SystemCallFilter=pipe");
        u.line("SystemCallFilter=pipe2");
        u.install("multi-user.target mastodon-streaming.service");
        out.push(u.finish(&s.host, "mastodon-streaming@.service"));

        let mut g = Unit::new(cx, &format!("Groups the streaming instances of host {} under one name.", s.host));
        g.line("[Unit]");
        g.line(&format!("Description=Mastodon streaming, every instance on this host, plan {}", plan.name));
        if !ports.is_empty() {
            let wants: Vec<String> = ports.iter().map(|p| format!("mastodon-streaming@{p}.service")).collect();
            g.line(&format!("Wants={}", wants.join(" ")));
        }
        g.blank();
        g.line("[Service]");
        g.line("Type=oneshot");
        g.line("RemainAfterExit=yes");
        g.line("ExecStart=/bin/true");
        g.install("multi-user.target");
        out.push(g.finish(&s.host, "mastodon-streaming.service"));
    }
    for (i, s) in plan.sidekiq.iter().enumerate() {
        let layout = &cx.sidekiq[i];
        let line = cx.line(UnitKind::Sidekiq, i);
        let queues: Vec<&str> = s.queues.iter().map(|q| q.name()).collect();
        let what = if queues.len() == 1 {
            format!("Sidekiq for queue {} (sidekiq unit {}) on host {}, one process per instance.", queues[0], s.name, s.host)
        } else {
            format!(
                "Sidekiq for sidekiq unit {} on host {}, queues {} by weight, one process per instance.",
                s.name,
                s.host,
                queues.join(", ")
            )
        };
        let mut u = Unit::new(cx, &what);
        u.line("[Unit]");
        u.line(&format!("Description=Mastodon sidekiq {} instance %i, plan {}", queues.join(" "), plan.name));
        u.line("After=network.target");
        u.blank();
        u.line("[Service]");
        u.common_service("RAILS_ENV=production");
        u.line(&format!("EnvironmentFile={}", layout.env_file));
        u.malloc(s.jemalloc);
        let threads = if line.pool == s.concurrency {
            "$DB_POOL".to_string()
        } else {
            u.comment(&format!("The plan's -c {} differs from its DB_POOL {}: both written as planned.", s.concurrency, line.pool));
            s.concurrency.to_string()
        };
        u.line(&format!("ExecStart={BUNDLE} exec sidekiq -c {threads} {}", layout.queue_args));
        u.restart_and_limits();
        u.hardening(RUBY_SYSCALLS_SIDEKIQ);
        u.install("multi-user.target");
        out.push(u.finish(&s.host, &format!("{}@.service", layout.template)));
    }
    out
}

/// The units to enable and start on a host, per kind in start order: sidekiq, web, streaming.
pub fn units_to_start(cx: &Ctx, host: &str) -> [Vec<String>; 3] {
    let plan = cx.plan;
    let mut sidekiq = Vec::new();
    let mut web = Vec::new();
    let mut streaming = Vec::new();
    for (i, s) in plan.sidekiq.iter().enumerate() {
        if s.host == host && s.instances > 0 {
            sidekiq.push(instances(&cx.sidekiq[i].template, 1, s.instances));
        }
    }
    for w in &plan.web {
        if w.host == host {
            web.push("mastodon-web.service".to_string());
        }
    }
    for (i, s) in plan.streaming.iter().enumerate() {
        let ports = &cx.streaming_ports[i];
        if s.host == host && !ports.is_empty() {
            let first = ports[0] as u32;
            streaming.push(format!(
                "mastodon-streaming.service {}",
                instances("mastodon-streaming", first, ports.len() as u32)
            ));
        }
    }
    [sidekiq, web, streaming]
}

/// `name@1 name@2`, or bash's `name@{1..8}` past four instances.
fn instances(template: &str, first: u32, count: u32) -> String {
    if count > 4 {
        format!("{template}@{{{first}..{}}}.service", first + count - 1)
    } else {
        (first..first + count).map(|n| format!("{template}@{n}.service")).collect::<Vec<_>>().join(" ")
    }
}

const RUBY_SYSCALLS_WEB: &str =
    "~@clock @cpu-emulation @debug @keyring @module @mount @obsolete @raw-io @reboot @resources @setuid @swap";
const RUBY_SYSCALLS_SIDEKIQ: &str =
    "~@clock @cpu-emulation @debug @keyring @module @mount @obsolete @raw-io @reboot @setuid @swap";
const NODE_SYSCALLS: &str =
    "~@cpu-emulation @debug @keyring @ipc @memlock @mount @obsolete @privileged @resources @setuid";

struct Unit {
    text: String,
}

impl Unit {
    fn new(cx: &Ctx, what: &str) -> Self {
        Unit { text: header("#", cx.plan, what) }
    }

    fn line(&mut self, l: &str) {
        self.text.push_str(l);
        self.text.push('\n');
    }

    fn comment(&mut self, c: &str) {
        self.line(&format!("# {c}"));
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    fn common_service(&mut self, env: &str) {
        self.line("Type=simple");
        self.line("User=mastodon");
        self.line(&format!("WorkingDirectory={MASTODON_HOME}"));
        self.line(&format!("Environment=\"{env}\""));
    }

    fn malloc(&mut self, jemalloc: bool) {
        if jemalloc {
            self.comment("jemalloc and two malloc arenas keep Ruby's memory from fragmenting (glibc malloc grows a");
            self.comment("process from 256 MB to 1 GB in a day). Needs the libjemalloc2 package.");
            self.line(&format!("Environment=\"LD_PRELOAD={JEMALLOC}\""));
        } else {
            self.comment("The plan turns jemalloc off for this unit; two malloc arenas still limit fragmentation.");
        }
        self.line("Environment=\"MALLOC_ARENA_MAX=2\"");
    }

    fn restart_and_limits(&mut self) {
        self.line("TimeoutSec=15");
        self.line("Restart=always");
        self.line(&format!("LimitNOFILE={APP_NOFILE}"));
    }

    fn hardening(&mut self, syscalls: &str) {
        for l in [
            "# Sandboxing as in the stock units",
            "ProcSubset=pid",
            "ProtectProc=invisible",
            "CapabilityBoundingSet=",
            "NoNewPrivileges=true",
            "ProtectSystem=strict",
            "PrivateTmp=true",
            "PrivateDevices=true",
            "PrivateUsers=true",
            "ProtectHostname=true",
            "ProtectKernelLogs=true",
            "ProtectKernelModules=true",
            "ProtectKernelTunables=true",
            "ProtectControlGroups=true",
            "RestrictAddressFamilies=AF_INET",
            "RestrictAddressFamilies=AF_INET6",
            "RestrictAddressFamilies=AF_NETLINK",
            "RestrictAddressFamilies=AF_UNIX",
            "RestrictNamespaces=true",
            "LockPersonality=true",
            "RestrictRealtime=true",
            "RestrictSUIDSGID=true",
            "RemoveIPC=true",
            "PrivateMounts=true",
            "ProtectClock=true",
            "SystemCallArchitectures=native",
        ] {
            self.line(l);
        }
        self.line(&format!("SystemCallFilter={syscalls}"));
        self.line(&format!("ReadWritePaths={MASTODON_HOME}"));
    }

    fn install(&mut self, wanted_by: &str) {
        self.blank();
        self.line("[Install]");
        self.line(&format!("WantedBy={wanted_by}"));
    }

    fn finish(self, host: &str, name: &str) -> ExportFile {
        ExportFile { host: Some(host.to_string()), path: format!("{UNIT_DIR}/{name}"), content: self.text }
    }
}
