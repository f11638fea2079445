use std::net::IpAddr;

use super::sources::{COMPENDIUM, MASTODON_CONFIG, RAILS_REMOTE_IP};
use crate::finding::{Context, Findings, Rule, Severity};

pub static RULE: Rule = Rule {
    id: "MP026",
    name: "trusted-proxy-missing",
    severity: Severity::Warning,
    summary: "A web unit runs on another machine than nginx without TRUSTED_PROXY_IP (advice when Rails trusts nginx's private address by default).",
    problem: "Rails only believes the X-Forwarded-For header from proxies it trusts: \
        TRUSTED_PROXY_IP when set, else its default of loopback and private-network addresses. \
        Once nginx is on another machine and reaches Puma from any other address, every request \
        seems to come from the balancer itself, so rate limits, IP blocks and the sessions list \
        apply to the balancer's address instead of the users'. A balancer on a private address \
        works through the default, which is why that case is only advice. The compendium: \
        \"once your Puma isn't on the same machine as your nginx, you will need to specify \
        TRUSTED_PROXY_IP with the internal IP of the load balancer so that Puma can correctly \
        parse users' IP addresses for stuff like rate limiting.\"",
    fix: "Set TRUSTED_PROXY_IP in the web unit's environment to the nginx machine's internal \
        address (a comma-separated list or CIDR range if there are several), and list the Pumas \
        in an nginx upstream block.",
    sources: &[COMPENDIUM, MASTODON_CONFIG, RAILS_REMOTE_IP],
    check,
};

fn check(cx: &Context, out: &mut Findings) {
    let plan = cx.plan;
    let Some(nginx) = &plan.nginx else { return };
    let address = plan.host(&nginx.host).and_then(|h| h.address.as_deref());
    let suggestion = match address {
        Some(address) => format!("set TRUSTED_PROXY_IP={address}"),
        None => format!("set TRUSTED_PROXY_IP to {}'s internal address", nginx.host),
    };
    let trusted_by_default = address.and_then(|a| a.parse::<IpAddr>().ok()).filter(|ip| rails_trusts_by_default(*ip));
    for (i, w) in plan.web.iter().enumerate() {
        if w.host == nginx.host || w.trusted_proxy_ip.is_some() {
            continue;
        }
        let prefix = format!("{} runs on {}, nginx on {}, without TRUSTED_PROXY_IP", w.name, w.host, nginx.host);
        match trusted_by_default {
            Some(ip) => {
                out.add(format!(
                    "{prefix}: Rails trusts {ip} only through its default private ranges; {suggestion} as the compendium advises"
                ))
                .at(format!("/web/{i}/trusted_proxy_ip"))
                .severity(Severity::Advice);
            }
            None => {
                out.add(format!(
                    "{prefix}: users' IPs read as the balancer's, for rate limits too; {suggestion}"
                ))
                .at(format!("/web/{i}/trusted_proxy_ip"));
            }
        }
    }
}

/// ActionDispatch::RemoteIp::TRUSTED_PROXIES: loopback, private and link-local networks.
fn rails_trusts_by_default(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::*;

    #[test]
    fn silent_with_trusted_proxy_set() {
        assert_silent(&RULE, &preset("large-split"));
    }

    #[test]
    fn warns_without_trusted_proxy_on_another_host_at_a_public_address() {
        let mut plan = preset("large-split");
        plan.web[1].trusted_proxy_ip = None;
        plan.hosts[0].address = Some("203.0.113.10".into()); // edge
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("web-2 runs on web-2, nginx on edge"), "{}", found[0].message);
        assert!(found[0].message.ends_with("set TRUSTED_PROXY_IP=203.0.113.10"), "{}", found[0].message);
        assert_eq!(found[0].at, ["/web/1/trusted_proxy_ip"]);
    }

    #[test]
    fn warns_when_the_nginx_address_is_unknown() {
        let mut plan = preset("large-split");
        plan.web[1].trusted_proxy_ip = None;
        plan.hosts[0].address = None;
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.ends_with("set TRUSTED_PROXY_IP to edge's internal address"), "{}", found[0].message);
    }

    #[test]
    fn advice_when_rails_trusts_the_private_address_by_default() {
        let mut plan = preset("large-split");
        plan.web[1].trusted_proxy_ip = None; // edge is 10.0.1.10
        let found = assert_fires(&RULE, &plan);
        assert_eq!(found[0].severity, Severity::Advice);
        assert!(found[0].message.contains("Rails trusts 10.0.1.10 only through its default private ranges"), "{}", found[0].message);
    }

    #[test]
    fn rails_default_ranges() {
        for trusted in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "::1", "fd00::1", "fe80::1"] {
            assert!(rails_trusts_by_default(trusted.parse().unwrap()), "{trusted}");
        }
        for public in ["203.0.113.10", "172.32.0.1", "2001:db8::1"] {
            assert!(!rails_trusts_by_default(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn silent_on_the_nginx_host() {
        assert_silent(&RULE, &preset("single-server"));
    }

    #[test]
    fn silent_without_nginx_in_the_plan() {
        let mut plan = preset("large-split");
        plan.web[1].trusted_proxy_ip = None;
        plan.nginx = None;
        assert_silent(&RULE, &plan);
    }
}
