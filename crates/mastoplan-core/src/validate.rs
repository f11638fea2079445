//! Plans come from files, links and pasted text: untrusted. A plan is parsed and then checked
//! here before anything computes from it or writes it into a config file, so that names can
//! never carry a newline, quote or directive into a generated file, and every number is in a
//! range the servers accept.

use std::collections::HashSet;
use std::fmt;

use crate::plan::Plan;

/// Why a plan was refused, with where: a JSON pointer, and the line and column for text input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "/" } else { &self.path };
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{path} (line {l}, column {c}): {}", self.message),
            _ => write!(f, "{path}: {}", self.message),
        }
    }
}

impl std::error::Error for PlanError {}

impl PlanError {
    pub(crate) fn at(path: impl Into<String>, message: impl Into<String>) -> Self {
        PlanError { path: path.into(), line: None, column: None, message: message.into() }
    }
}

/// Parse JSON text into a plan and validate it.
pub fn parse_plan(text: &str) -> Result<Plan, PlanError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let plan: Plan = serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.inner();
        PlanError {
            path: pointer_from_serde_path(&e.path().to_string()),
            line: Some(inner.line()),
            column: Some(inner.column()),
            message: plain_serde_message(&inner.to_string()),
        }
    })?;
    plan.validate()?;
    Ok(plan)
}

/// serde_path_to_error writes `sidekiq[0].db_pool`; the rest of mastoplan speaks JSON pointers.
fn pointer_from_serde_path(path: &str) -> String {
    if path == "." {
        return String::new();
    }
    let mut out = String::new();
    for part in path.split('.') {
        let mut rest = part;
        if let Some(i) = rest.find('[') {
            out.push('/');
            out.push_str(&rest[..i]);
            rest = &rest[i..];
            for idx in rest.split('[').filter(|s| !s.is_empty()) {
                out.push('/');
                out.push_str(idx.trim_end_matches(']'));
            }
        } else {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

/// serde_json appends " at line L column C", which PlanError already carries.
fn plain_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// Names end up in file names, unit names, ini sections and env values: keep them to a
/// character set that needs no quoting anywhere.
pub fn check_name(path: &str, name: &str) -> Result<(), PlanError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(())
    } else {
        Err(PlanError::at(
            path,
            format!(
                "{:?} is not a valid name: use 1 to 63 letters, digits, '-', '_' or '.', starting with a letter or digit",
                truncate(name, 80)
            ),
        ))
    }
}

/// A host name or IP address as it may appear in TRUSTED_PROXY_IP or DB_HOST.
pub fn check_address(path: &str, address: &str) -> Result<(), PlanError> {
    let ok = !address.is_empty()
        && address.len() <= 253
        && address.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '/'));
    if ok {
        Ok(())
    } else {
        Err(PlanError::at(
            path,
            format!(
                "{:?} is not a host name or IP address (letters, digits, '.', '-', ':' and '/' only)",
                truncate(address, 80)
            ),
        ))
    }
}

/// A host's own address, as it lands in DB_HOST, listen and bind lines and nginx upstreams: a
/// host name or an IP address, never a network (`/`) nor anything starting with `-`, which
/// some servers read as an option (Redis's `bind -ADDR` means "optional").
pub fn check_host_address(path: &str, address: &str) -> Result<(), PlanError> {
    check_address(path, address)?;
    let ok = !address.contains('/') && address.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == ':');
    if ok {
        Ok(())
    } else {
        Err(PlanError::at(
            path,
            format!("{:?} is not a host's address: give one host name or IP address, not a network", truncate(address, 80)),
        ))
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

pub(crate) fn check_range(path: &str, value: u64, min: u64, max: u64) -> Result<(), PlanError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(PlanError::at(path, format!("{value} is out of range: expected {min} to {max}")))
    }
}

struct Checker<'p> {
    plan: &'p Plan,
    hosts: HashSet<&'p str>,
}

impl Checker<'_> {
    fn host_ref(&self, path: &str, host: &str) -> Result<(), PlanError> {
        check_name(path, host)?;
        if self.hosts.contains(host) {
            Ok(())
        } else {
            Err(PlanError::at(path, format!("no host is named {host:?}")))
        }
    }

    fn bouncer_ref(&self, path: &str, bouncer: &Option<String>) -> Result<(), PlanError> {
        match bouncer {
            None => Ok(()),
            Some(name) => {
                check_name(path, name)?;
                if self.plan.pgbouncer(name).is_some() {
                    Ok(())
                } else {
                    Err(PlanError::at(path, format!("no PgBouncer is named {name:?}")))
                }
            }
        }
    }
}

fn unique<'a>(kind: &str, names: impl Iterator<Item = (String, &'a str)>) -> Result<(), PlanError> {
    let mut seen = HashSet::new();
    for (path, name) in names {
        check_name(&path, name)?;
        if !seen.insert(name) {
            return Err(PlanError::at(path, format!("two {kind} are named {name:?}")));
        }
    }
    Ok(())
}

impl Plan {
    /// Check names, references and ranges; the first problem found is returned.
    pub fn validate(&self) -> Result<(), PlanError> {
        check_name("/name", &self.name)?;
        if self.hosts.is_empty() {
            return Err(PlanError::at("/hosts", "a plan needs at least one host"));
        }
        check_range("/hosts", self.hosts.len() as u64, 1, 1000)?;
        unique("hosts", self.hosts.iter().enumerate().map(|(i, h)| (format!("/hosts/{i}/name"), h.name.as_str())))?;
        let units = self.web.len() + self.streaming.len() + self.sidekiq.len();
        check_range("/", units as u64, 0, 5000)?;
        unique(
            "units",
            self.web
                .iter()
                .enumerate()
                .map(|(i, u)| (format!("/web/{i}/name"), u.name.as_str()))
                .chain(self.streaming.iter().enumerate().map(|(i, u)| (format!("/streaming/{i}/name"), u.name.as_str())))
                .chain(self.sidekiq.iter().enumerate().map(|(i, u)| (format!("/sidekiq/{i}/name"), u.name.as_str()))),
        )?;
        unique("PgBouncers", self.pgbouncers.iter().enumerate().map(|(i, b)| (format!("/pgbouncers/{i}/name"), b.name.as_str())))?;
        unique("Redis instances", self.redis.iter().enumerate().map(|(i, r)| (format!("/redis/{i}/name"), r.name.as_str())))?;

        let c = Checker { plan: self, hosts: self.hosts.iter().map(|h| h.name.as_str()).collect() };

        check_range("/expected_active_users", self.expected_active_users as u64, 0, 100_000_000)?;
        for (i, h) in self.hosts.iter().enumerate() {
            check_range(&format!("/hosts/{i}/cores"), h.cores as u64, 1, 1024)?;
            check_range(&format!("/hosts/{i}/ram_gb"), h.ram_gb as u64, 1, 65_536)?;
            if let Some(a) = &h.address {
                check_host_address(&format!("/hosts/{i}/address"), a)?;
            }
        }
        for (i, w) in self.web.iter().enumerate() {
            let p = format!("/web/{i}");
            c.host_ref(&format!("{p}/host"), &w.host)?;
            check_range(&format!("{p}/web_concurrency"), w.web_concurrency as u64, 0, 1024)?;
            check_range(&format!("{p}/max_threads"), w.max_threads as u64, 1, 1024)?;
            if let Some(pool) = w.db_pool {
                check_range(&format!("{p}/db_pool"), pool as u64, 1, 10_000)?;
            }
            c.bouncer_ref(&format!("{p}/pgbouncer"), &w.pgbouncer)?;
            if let Some(a) = &w.trusted_proxy_ip {
                check_address(&format!("{p}/trusted_proxy_ip"), a)?;
            }
        }
        for (i, s) in self.streaming.iter().enumerate() {
            let p = format!("/streaming/{i}");
            c.host_ref(&format!("{p}/host"), &s.host)?;
            check_range(&format!("{p}/instances"), s.instances as u64, 0, 1024)?;
            if let Some(pool) = s.db_pool {
                check_range(&format!("{p}/db_pool"), pool as u64, 1, 10_000)?;
            }
            c.bouncer_ref(&format!("{p}/pgbouncer"), &s.pgbouncer)?;
        }
        for (i, s) in self.sidekiq.iter().enumerate() {
            let p = format!("/sidekiq/{i}");
            c.host_ref(&format!("{p}/host"), &s.host)?;
            if s.queues.is_empty() {
                return Err(PlanError::at(format!("{p}/queues"), "a sidekiq unit serves at least one queue"));
            }
            let mut seen = HashSet::new();
            for (q, queue) in s.queues.iter().enumerate() {
                if !seen.insert(queue) {
                    return Err(PlanError::at(format!("{p}/queues/{q}"), format!("queue {} is listed twice", queue.name())));
                }
            }
            check_range(&format!("{p}/instances"), s.instances as u64, 0, 10_000)?;
            check_range(&format!("{p}/concurrency"), s.concurrency as u64, 1, 1000)?;
            if let Some(pool) = s.db_pool {
                check_range(&format!("{p}/db_pool"), pool as u64, 1, 10_000)?;
            }
            c.bouncer_ref(&format!("{p}/pgbouncer"), &s.pgbouncer)?;
        }
        for (i, b) in self.pgbouncers.iter().enumerate() {
            let p = format!("/pgbouncers/{i}");
            c.host_ref(&format!("{p}/host"), &b.host)?;
            check_range(&format!("{p}/max_client_conn"), b.max_client_conn as u64, 1, 1_000_000)?;
            check_range(&format!("{p}/default_pool_size"), b.default_pool_size as u64, 1, 100_000)?;
            check_range(&format!("{p}/reserve_pool_size"), b.reserve_pool_size as u64, 0, 100_000)?;
            check_range(&format!("{p}/max_db_connections"), b.max_db_connections as u64, 0, 100_000)?;
            check_range(&format!("{p}/databases"), b.databases as u64, 1, 1000)?;
            check_range(&format!("{p}/limit_nofile"), b.limit_nofile as u64, 16, 1 << 30)?;
            check_range(&format!("{p}/listen_port"), b.listen_port as u64, 1, 65_535)?;
        }
        let pg = &self.postgres;
        c.host_ref("/postgres/host", &pg.host)?;
        check_range("/postgres/version", pg.version as u64, 12, 30)?;
        // 262143 is Postgres's own upper bound for max_connections.
        check_range("/postgres/max_connections", pg.max_connections as u64, 1, 262_143)?;
        check_range("/postgres/superuser_reserved_connections", pg.superuser_reserved_connections as u64, 0, 262_143)?;
        check_range("/postgres/reserved_connections", pg.reserved_connections as u64, 0, 262_143)?;
        crate::resources::check_settings(&pg.settings, pg.version)?;
        if let Some(r) = &self.replica {
            c.host_ref("/replica/host", &r.host)?;
            check_range("/replica/max_connections", r.max_connections as u64, 1, 262_143)?;
            check_range("/replica/superuser_reserved_connections", r.superuser_reserved_connections as u64, 0, 262_143)?;
        }
        for (i, r) in self.redis.iter().enumerate() {
            let p = format!("/redis/{i}");
            c.host_ref(&format!("{p}/host"), &r.host)?;
            check_range(&format!("{p}/port"), r.port as u64, 1, 65_535)?;
            check_range(&format!("{p}/maxmemory_mb"), r.maxmemory_mb as u64, 0, 64 * 1024 * 1024)?;
        }
        if let Some(n) = &self.nginx {
            c.host_ref("/nginx/host", &n.host)?;
        }
        let a = &self.assumptions;
        if !(a.streaming_connections_per_user.is_finite()
            && (0.0..=10.0).contains(&a.streaming_connections_per_user))
        {
            return Err(PlanError::at(
                "/assumptions/streaming_connections_per_user",
                "expected a number from 0 to 10",
            ));
        }
        check_range(
            "/assumptions/streaming_connections_per_process",
            a.streaming_connections_per_process as u64,
            1,
            1_000_000,
        )?;
        self.estimates.check()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets;

    #[test]
    fn every_preset_is_valid() {
        for p in presets::all() {
            p.validate().unwrap_or_else(|e| panic!("{}: {e}", p.name));
        }
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = parse_plan("{\n  \"name\": \"x\",\n  \"hosts\": [,]\n}").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.path.starts_with("/hosts"), "{err}");
    }

    #[test]
    fn type_error_names_json_pointer() {
        let mut v: serde_json::Value = serde_json::from_str(&presets::get("single-server").unwrap().to_json()).unwrap();
        v["sidekiq"][0]["concurrency"] = serde_json::json!("lots");
        let err = parse_plan(&serde_json::to_string_pretty(&v).unwrap()).unwrap_err();
        assert_eq!(err.path, "/sidekiq/0/concurrency");
        assert!(err.line.is_some());
        assert!(err.message.contains("invalid type"), "{}", err.message);
    }

    #[test]
    fn names_with_file_breaking_characters_are_refused() {
        for bad in ["a\nb", "a\"b", "a=b", "[a]", "$a", "a b", "", "-a", "ä"] {
            let mut plan = presets::get("single-server").unwrap();
            plan.hosts[0].name = bad.to_string();
            assert!(plan.validate().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn dangling_host_reference_is_refused() {
        let mut plan = presets::get("single-server").unwrap();
        plan.web[0].host = "elsewhere".into();
        let err = plan.validate().unwrap_err();
        assert_eq!(err.path, "/web/0/host");
    }

    #[test]
    fn dangling_bouncer_reference_is_refused() {
        let mut plan = presets::get("single-server").unwrap();
        plan.sidekiq[0].pgbouncer = Some("nope".into());
        assert_eq!(plan.validate().unwrap_err().path, "/sidekiq/0/pgbouncer");
    }

    #[test]
    fn out_of_range_numbers_are_refused() {
        let mut plan = presets::get("single-server").unwrap();
        plan.postgres.max_connections = 0;
        assert_eq!(plan.validate().unwrap_err().path, "/postgres/max_connections");
        let mut plan = presets::get("single-server").unwrap();
        plan.sidekiq[0].concurrency = 5000;
        assert_eq!(plan.validate().unwrap_err().path, "/sidekiq/0/concurrency");
    }

    #[test]
    fn duplicate_unit_names_are_refused() {
        let mut plan = presets::get("single-server").unwrap();
        plan.streaming[0].name = "web".into();
        assert!(plan.validate().unwrap_err().message.contains("two units"));
    }

    #[test]
    fn unknown_queue_is_refused_with_its_path() {
        let text = presets::get("single-server").unwrap().to_json().replace("\"mailers\"", "\"mail\\nbox\"");
        let err = parse_plan(&text).unwrap_err();
        assert_eq!(err.path, "/sidekiq/0/queues/3");
    }

    #[test]
    fn a_host_address_is_one_host_not_a_network_or_an_option() {
        for bad in ["10.0.0.0/8", "-10.0.0.1", ".example", "a b", "a\nb"] {
            let mut plan = presets::get("single-server").unwrap();
            plan.hosts[0].address = Some(bad.into());
            assert_eq!(plan.validate().unwrap_err().path, "/hosts/0/address", "{bad:?}");
        }
        for good in ["10.0.0.1", "::1", "fe80::1", "db.example.org"] {
            let mut plan = presets::get("single-server").unwrap();
            plan.hosts[0].address = Some(good.into());
            plan.validate().unwrap_or_else(|e| panic!("{good:?}: {e}"));
        }
    }

    #[test]
    fn addresses_cannot_carry_newlines() {
        let mut plan = presets::get("single-server").unwrap();
        plan.web[0].trusted_proxy_ip = Some("10.0.0.1\nRAILS_ENV=development".into());
        assert_eq!(plan.validate().unwrap_err().path, "/web/0/trusted_proxy_ip");
    }
}
