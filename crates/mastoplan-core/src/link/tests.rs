use super::*;
use crate::plan::*;
use crate::presets;
use proptest::prelude::*;

#[test]
fn every_preset_round_trips() {
    for plan in presets::all() {
        let link = encode(&plan);
        assert_eq!(decode(&link).unwrap(), plan, "{}", plan.name);
        assert_eq!(decode(&format!("#{link}")).unwrap(), plan);
        assert_eq!(decode(&share_url("https://example.org/mastoplan/", &plan)).unwrap(), plan);
    }
}

#[test]
fn compendium_example_fits_in_200_characters() {
    let link = encode(&presets::get("compendium-example").unwrap());
    assert!(link.len() <= 200, "{} characters: {link}", link.len());
}

/// 50 hosts: a bouncer, web, streaming and two sidekiq units on each app host.
pub(crate) fn fifty_host_plan() -> Plan {
    let mut plan = presets::get("large-split").unwrap();
    plan.name = "fifty-hosts".into();
    plan.hosts.truncate(1);
    plan.web.clear();
    plan.streaming.clear();
    plan.sidekiq.clear();
    plan.pgbouncers.clear();
    for i in 1..=48 {
        let host = format!("app-{i:02}");
        plan.hosts.push(Host { name: host.clone(), cores: 8, ram_gb: 16, address: Some(format!("10.0.2.{i}")) });
        let bouncer = format!("pgbouncer-{host}");
        plan.pgbouncers.push(PgBouncer {
            name: bouncer.clone(),
            host: host.clone(),
            pool_mode: PoolMode::Transaction,
            max_client_conn: 200,
            default_pool_size: 3,
            reserve_pool_size: 1,
            max_db_connections: 0,
            databases: 1,
            limit_nofile: 4096,
            listen_port: 6432,
        });
        if i <= 16 {
            plan.web.push(WebUnit {
                name: format!("web-{i:02}"),
                host: host.clone(),
                web_concurrency: 4,
                max_threads: 5,
                db_pool: None,
                pgbouncer: Some(bouncer.clone()),
                trusted_proxy_ip: Some("10.0.1.10".into()),
                jemalloc: true,
            });
            plan.streaming.push(StreamingUnit {
                name: format!("streaming-{i:02}"),
                host: host.clone(),
                instances: 2,
                db_pool: Some(10),
                pgbouncer: Some(bouncer.clone()),
            });
        } else {
            for q in [Queue::Default, Queue::Push] {
                plan.sidekiq.push(SidekiqUnit {
                    name: format!("sidekiq-{}-{i:02}", q.name()),
                    host: host.clone(),
                    queues: vec![q],
                    instances: 2,
                    concurrency: 10,
                    db_pool: Some(10),
                    pgbouncer: Some(bouncer.clone()),
                    jemalloc: true,
                });
            }
        }
    }
    plan.hosts.push(Host { name: "db".into(), cores: 32, ram_gb: 128, address: Some("10.0.1.40".into()) });
    plan.postgres.host = "db".into();
    plan.redis.iter_mut().for_each(|r| r.host = "db".into());
    plan.hosts.len();
    plan
}

#[test]
fn a_fifty_host_plan_fits_in_2000_characters() {
    let plan = fifty_host_plan();
    assert_eq!(plan.hosts.len(), 50);
    let link = encode(&plan);
    assert!(link.len() <= 2000, "{} characters", link.len());
    assert_eq!(decode(&link).unwrap(), plan);
}

#[test]
fn deep_links_open_presets_and_rules() {
    assert_eq!(parse("#preset=large-split").unwrap(), Fragment::Preset("large-split".into()));
    assert_eq!(parse("rule=connections-over-budget").unwrap(), Fragment::Rule("connections-over-budget".into()));
    assert!(matches!(parse("#preset=nope"), Err(LinkError::UnknownPreset(_))));
    assert!(matches!(parse("#rule=<script>"), Err(LinkError::UnknownRule(_))));
}

fn some_link() -> String {
    encode(&presets::get("large-split").unwrap())
}

#[test]
fn truncated_links_are_refused() {
    let link = some_link();
    for cut in [3, 4, 5, link.len() / 2, link.len() - 1] {
        let err = decode(&link[..cut]).unwrap_err();
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn wrong_version_is_refused() {
    let link = some_link().replacen("v1.", "v9.", 1);
    assert_eq!(decode(&link).unwrap_err(), LinkError::UnknownVersion("v9".into()));
    assert!(matches!(decode("#hello"), Err(LinkError::UnknownVersion(_))));
}

#[test]
fn oversized_links_are_refused_before_decoding() {
    let link = format!("v1.{}", "A".repeat(MAX_FRAGMENT_LEN));
    assert!(matches!(decode(&link), Err(LinkError::TooLong { .. })));
}

#[test]
fn invalid_base64_is_refused() {
    assert_eq!(decode("v1.@@@@").unwrap_err(), LinkError::NotBase64);
    assert_eq!(decode("v1.ab+/").unwrap_err(), LinkError::NotBase64);
}

#[test]
fn a_decompression_bomb_stops_at_the_cap() {
    let bomb = miniz_oxide::deflate::compress_to_vec(&vec![0u8; MAX_DECODED_LEN * 8], 10);
    let mut framed = vec![FLAG_DEFLATE];
    framed.extend_from_slice(&bomb);
    let link = format!("v1.{}", URL_SAFE_NO_PAD.encode(framed));
    assert!(link.len() < MAX_FRAGMENT_LEN, "the bomb must get past the length cap to test the inflate cap");
    assert_eq!(decode(&link).unwrap_err(), LinkError::TooLarge);
}

#[test]
fn out_of_range_numbers_are_refused() {
    let mut plan = presets::get("single-server").unwrap();
    plan.postgres.max_connections = 5_000_000;
    let err = decode(&encode(&plan)).unwrap_err();
    assert!(matches!(&err, LinkError::InvalidPlan(e) if e.path == "/postgres/max_connections"), "{err}");
}

#[test]
fn names_with_control_characters_or_markup_are_refused() {
    for bad in ["web\u{7}", "<img src=x onerror=alert(1)>", "a\nb", "\u{202e}abc"] {
        let mut plan = presets::get("single-server").unwrap();
        plan.hosts[0].name = bad.into();
        let err = decode(&encode(&plan)).unwrap_err();
        assert!(matches!(err, LinkError::InvalidPlan(_)), "{bad:?}: {err}");
        assert!(!err.to_string().contains('\n'));
    }
}

#[test]
fn a_link_from_a_newer_planner_says_so() {
    let mut framed = vec![FLAG_RAW];
    let mut payload = v1::to_bytes(&presets::get("single-server").unwrap());
    // The last byte is the empty extensions list; give it one section.
    assert_eq!(payload.pop(), Some(0));
    payload.extend_from_slice(&[1, 7, 1, 0]);
    framed.extend_from_slice(&payload);
    let err = decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(framed))).unwrap_err();
    assert!(matches!(err, LinkError::UnknownVersion(_)), "{err}");
}

#[test]
fn hostile_bytes_never_panic() {
    let link = some_link();
    let data = URL_SAFE_NO_PAD.decode(&link[3..]).unwrap();
    // Flip every byte of a real link in turn: each result decodes or is refused, none panics.
    for i in 0..data.len() {
        for x in [0x01u8, 0x80, 0xff] {
            let mut d = data.clone();
            d[i] ^= x;
            let _ = decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(&d)));
        }
    }
}

fn name() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._-]{0,12}"
}

prop_compose! {
    fn arb_plan()(
        plan_name in name(),
        version in 0usize..3,
        users in 0u32..1_000_000,
        hosts in prop::collection::vec((1u32..256, 1u32..1024, prop::option::of("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}")), 1..6),
        bouncers in prop::collection::vec((0usize..6, 0usize..3, 1u32..5000, 1u32..200, 0u32..50, 0u32..100, 1u32..4, 16u32..100_000, 1u16..65535), 0..4),
        web in prop::collection::vec((0usize..6, 0u32..32, 1u32..64, prop::option::of(1u32..100), prop::option::of(0usize..4), prop::option::of("[0-9.]{1,15}"), any::<bool>(), any::<bool>()), 0..4),
        streaming in prop::collection::vec((0usize..6, 0u32..16, prop::option::of(1u32..100), prop::option::of(0usize..4), any::<bool>()), 0..3),
        sidekiq in prop::collection::vec((0usize..6, Just(Queue::ALL).prop_shuffle(), 1usize..8, 0u32..64, 1u32..100, prop::option::of(1u32..200), prop::option::of(0usize..4), any::<bool>(), any::<bool>()), 0..8),
        pg in (0usize..6, 12u32..18, 1u32..5000, 0u32..10, 0u32..10, 0usize..3, prop::option::of(1u32..100_000), prop::option::of(1u32..4096), any::<bool>()),
        replica in prop::option::of((0usize..6, 1u32..5000, 0u32..10)),
        redis in prop::collection::vec((0usize..6, 0usize..3, 1u16..65535, 0usize..4, 0u32..100_000, 0usize..8, any::<bool>()), 0..4),
        media in 0usize..3,
        nginx in prop::option::of(0usize..6),
        prepared in any::<bool>(),
        assumptions in prop::option::of((0.0f64..1.0, 1u32..100_000)),
        tuning in (prop::option::of(1u32..1_000_000), prop::option::of(1.0f64..4.0), prop::option::of(any::<bool>()), prop::option::of(64u32..4096), prop::option::of(0.001f64..0.5)),
    ) -> Plan {
        let host_names: Vec<String> = (0..hosts.len()).map(|i| format!("h{i}")).collect();
        let host = |i: usize| host_names[i % host_names.len()].clone();
        let bouncer_names: Vec<String> = bouncers.iter().enumerate().map(|(i, b)| {
            if i % 2 == 0 { format!("pgbouncer-{}", host(b.0)) } else { format!("b{i}") }
        }).collect::<Vec<_>>();
        // Derived names can collide when two bouncers share a host; keep them unique.
        let bouncer_names: Vec<String> = bouncer_names.iter().enumerate().map(|(i, n)| {
            if bouncer_names[..i].contains(n) { format!("b{i}") } else { n.clone() }
        }).collect();
        let bouncer = |i: Option<usize>| -> Option<String> {
            i.filter(|_| !bouncer_names.is_empty()).map(|i| bouncer_names[i % bouncer_names.len()].clone())
        };
        let modes = [PoolMode::Session, PoolMode::Transaction, PoolMode::Statement];
        let disks = [DiskKind::Ssd, DiskKind::Hdd, DiskKind::Network];
        let roles = [RedisRole::Persistent, RedisRole::Cache, RedisRole::SidekiqOnly];
        let persist = [RedisPersistence::None, RedisPersistence::Rdb, RedisPersistence::Aof, RedisPersistence::AofRdb];
        let evictions = [
            EvictionPolicy::Noeviction, EvictionPolicy::AllkeysLru, EvictionPolicy::AllkeysLfu, EvictionPolicy::AllkeysRandom,
            EvictionPolicy::VolatileLru, EvictionPolicy::VolatileLfu, EvictionPolicy::VolatileRandom, EvictionPolicy::VolatileTtl,
        ];
        let medias = [MediaStorage::LocalDisk, MediaStorage::Nfs, MediaStorage::S3Compatible];
        Plan {
            name: plan_name,
            mastodon_version: MastodonVersion::ALL[version],
            expected_active_users: users,
            hosts: hosts.iter().enumerate().map(|(i, h)| Host { name: host_names[i].clone(), cores: h.0, ram_gb: h.1, address: h.2.clone() }).collect(),
            pgbouncers: bouncers.iter().enumerate().map(|(i, b)| PgBouncer {
                name: bouncer_names[i].clone(), host: host(b.0), pool_mode: modes[b.1], max_client_conn: b.2,
                default_pool_size: b.3, reserve_pool_size: b.4, max_db_connections: b.5, databases: b.6,
                limit_nofile: b.7, listen_port: b.8,
            }).collect(),
            web: web.iter().enumerate().map(|(i, w)| WebUnit {
                name: if w.6 && i == 0 { "web".into() } else { format!("web{i}") }, host: host(w.0), web_concurrency: w.1, max_threads: w.2,
                db_pool: w.3, pgbouncer: bouncer(w.4), trusted_proxy_ip: w.5.clone(), jemalloc: w.7,
            }).collect(),
            streaming: streaming.iter().enumerate().map(|(i, s)| StreamingUnit {
                name: if s.4 && i == 0 { "streaming".into() } else { format!("streaming{i}") }, host: host(s.0), instances: s.1,
                db_pool: s.2, pgbouncer: bouncer(s.3),
            }).collect(),
            sidekiq: sidekiq.iter().enumerate().map(|(i, s)| {
                let queues: Vec<Queue> = s.1[..s.2].to_vec();
                let derived = std::iter::once("sidekiq".to_string()).chain(queues.iter().map(|q| q.name().to_string())).collect::<Vec<_>>().join("-");
                SidekiqUnit {
                    name: if s.7 && !sidekiq[..i].iter().any(|o| o.7) { derived } else { format!("sq{i}") },
                    host: host(s.0), queues, instances: s.3, concurrency: s.4, db_pool: s.5,
                    pgbouncer: bouncer(s.6), jemalloc: s.8,
                }
            }).collect(),
            postgres: Postgres {
                host: host(pg.0), version: pg.1, max_connections: pg.2, superuser_reserved_connections: pg.3,
                reserved_connections: pg.4, disk: disks[pg.5],
                settings: PostgresSettings {
                    shared_buffers_mb: pg.6,
                    work_mem_mb: pg.7,
                    ram_mb: tuning.0,
                    random_page_cost: tuning.1,
                    jit: tuning.2,
                    ..Default::default()
                },
                synchronous_commit_off: pg.8,
            },
            replica: replica.map(|r| Replica { host: host(r.0), max_connections: r.1, superuser_reserved_connections: r.2 }),
            redis: redis.iter().enumerate().map(|(i, r)| RedisInstance {
                name: if r.6 && !redis[..i].iter().any(|o| o.6 && o.1 == r.1) {
                    match roles[r.1] { RedisRole::Persistent => "redis".into(), RedisRole::Cache => "redis-cache".into(), RedisRole::SidekiqOnly => "redis-sidekiq".into() }
                } else { format!("r{i}") },
                host: host(r.0), role: roles[r.1], port: r.2, persistence: persist[r.3], maxmemory_mb: r.4,
                eviction_policy: evictions[r.5],
            }).collect(),
            media: medias[media],
            nginx: nginx.map(|n| Nginx { host: host(n) }),
            prepared_statements: prepared,
            assumptions: assumptions.map(|(a, b)| Assumptions { streaming_connections_per_user: a, streaming_connections_per_process: b }).unwrap_or_default(),
            estimates: crate::estimates::Estimates {
                puma_worker_mb: tuning.3.unwrap_or(crate::estimates::Estimates::default().puma_worker_mb),
                session_busy_ratio: tuning.4.unwrap_or(crate::estimates::Estimates::default().session_busy_ratio),
                ..Default::default()
            },
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_the_plan(plan in arb_plan()) {
        prop_assume!(plan.validate().is_ok());
        let link = encode(&plan);
        prop_assert_eq!(decode(&link).unwrap(), plan);
    }

    #[test]
    fn arbitrary_fragments_never_panic(s in ".{0,300}") {
        let _ = parse(&s);
        let _ = parse(&format!("v1.{s}"));
    }

    #[test]
    fn arbitrary_payloads_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(&bytes)));
        let _ = v1::from_bytes(&bytes);
    }
}

/// Golden links: every published link format decodes to the same plan forever. New fixtures
/// are written only where none exists (`MASTOPLAN_WRITE_GOLDEN=1`); existing ones are never
/// rewritten by a test.
#[test]
fn golden_links_decode_to_their_plans_forever() {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/links/v1"));
    if std::env::var_os("MASTOPLAN_WRITE_GOLDEN").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        for plan in presets::all().into_iter().chain([fifty_host_plan()]) {
            let link = dir.join(format!("{}.link", plan.name));
            if !link.exists() {
                std::fs::write(dir.join(format!("{}.json", plan.name)), plan.to_json() + "\n").unwrap();
            }
        }
        for entry in std::fs::read_dir(dir).unwrap() {
            let json = entry.unwrap().path();
            let link = json.with_extension("link");
            if json.extension().is_some_and(|e| e == "json") && !link.exists() {
                let plan = Plan::from_json(&std::fs::read_to_string(&json).unwrap()).unwrap();
                std::fs::write(link, encode(&plan) + "\n").unwrap();
            }
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("golden links are checked in") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "link") {
            let link = std::fs::read_to_string(&path).unwrap();
            let expected = Plan::from_json(&std::fs::read_to_string(path.with_extension("json")).unwrap()).unwrap();
            assert_eq!(decode(link.trim()).unwrap(), expected, "{}", path.display());
            // While v1 is the format links are written in, it is also written the same way.
            assert_eq!(encode(&expected), link.trim(), "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} golden links found");
}

/// The decoder's fuzz run: random payloads and random edits of real links. The test suite runs
/// 2,000 cases; the long run outside CI takes a million (about 10 s in release):
/// `MASTOPLAN_FUZZ_CASES=1000000 cargo test -p mastoplan-core --release fuzz_link_decoder -- --nocapture`.
#[test]
fn fuzz_link_decoder() {
    use proptest::test_runner::{Config, TestRunner};
    let cases: u32 = std::env::var("MASTOPLAN_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000);
    let real: Vec<Vec<u8>> = presets::all()
        .iter()
        .chain([fifty_host_plan()].iter())
        .flat_map(|p| {
            // Both packings: edits of deflated data mostly fail to inflate, edits of the raw
            // payload reach the wire decoder and validation.
            let mut raw = vec![FLAG_RAW];
            raw.extend(v1::to_bytes(p));
            [URL_SAFE_NO_PAD.decode(&encode(p)[3..]).unwrap(), raw]
        })
        .collect();
    let edits = prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..8);
    let strategy = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..600).prop_map(|b| (None, b, vec![])),
        (0..real.len(), edits).prop_map(|(i, e)| (Some(i), vec![], e)),
    ];
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let (decoded, refused) = (std::cell::Cell::new(0u64), std::cell::Cell::new(0u64));
    runner
        .run(&strategy, |(which, random, edits)| {
            let mut bytes = match which {
                Some(i) => real[i].clone(),
                None => random,
            };
            for (at, byte, kind) in edits {
                if bytes.is_empty() {
                    break;
                }
                let i = at.index(bytes.len());
                match kind {
                    0 => bytes[i] = byte,
                    1 => bytes.truncate(i),
                    _ => bytes.insert(i, byte),
                }
            }
            match decode(&format!("v1.{}", URL_SAFE_NO_PAD.encode(&bytes))) {
                Ok(plan) => {
                    prop_assert!(plan.validate().is_ok());
                    decoded.set(decoded.get() + 1);
                }
                Err(e) => {
                    prop_assert!(!e.to_string().is_empty());
                    refused.set(refused.get() + 1);
                }
            }
            Ok(())
        })
        .unwrap();
    println!(
        "fuzz_link_decoder: {cases} cases, {} decoded to valid plans, {} refused, no panic",
        decoded.get(),
        refused.get()
    );
}
