//! Editing the whole plan: hosts as cards, everything placed on a host inside its card, each
//! with the controls that matter. Components only read the plan and call `Planner::edit`;
//! the shape-changing operations live on `Plan` in mastoplan-core (`edit.rs`).

use leptos::prelude::*;
use mastoplan_core::edit::Part;
use mastoplan_core::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::fields::{CheckField, NumField, SelectField, TextField};
use crate::state::{control_id, Planner};

/// The wire name of an enum value, as in the plan's JSON.
fn wire<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn from_wire<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

fn options<T: Serialize>(values: &[T], label: impl Fn(&T) -> String) -> Vec<(String, String)> {
    values.iter().map(|v| (wire(v), label(v))).collect()
}

/// A number of the plan at `pointer`, with a slider and a number input.
fn num(
    pointer: String,
    label: &'static str,
    unit: &'static str,
    range: (u32, u32, u32),
    get: impl Fn(&Plan) -> Option<u32> + Send + Sync + Copy + 'static,
    set: impl Fn(&mut Plan, u32) + Send + Sync + Copy + 'static,
    hint: &'static str,
) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let value = Signal::derive(move || planner.plan.with(|p| get(p).unwrap_or(range.0)));
    num_with(pointer, label, unit, range, value, set, hint)
}

/// The same, for a value that is not read straight from the plan (a default shown until set).
fn num_with(
    pointer: String,
    label: &'static str,
    unit: &'static str,
    (min, slider_max, max): (u32, u32, u32),
    value: Signal<u32>,
    set: impl Fn(&mut Plan, u32) + Send + Sync + Copy + 'static,
    hint: &'static str,
) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let key = pointer.clone();
    let on_set = Callback::new(move |v: u32| planner.edit(&key, |p| set(p, v)));
    view! { <NumField id=control_id(&pointer) label unit min slider_max max value on_set hint/> }
}

fn check(
    pointer: String,
    label: &'static str,
    get: impl Fn(&Plan) -> Option<bool> + Send + Sync + Copy + 'static,
    set: impl Fn(&mut Plan, bool) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let value = Signal::derive(move || planner.plan.with(|p| get(p).unwrap_or(false)));
    let key = pointer.clone();
    let on_set = Callback::new(move |v: bool| planner.edit(&key, |p| set(p, v)));
    view! { <CheckField id=control_id(&pointer) label value on_set/> }
}

fn choose<T: Serialize + DeserializeOwned + 'static>(
    pointer: String,
    label: &'static str,
    choices: Vec<(String, String)>,
    get: impl Fn(&Plan) -> Option<T> + Send + Sync + Copy + 'static,
    set: impl Fn(&mut Plan, T) + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let value = Signal::derive(move || planner.plan.with(|p| get(p).map(|v| wire(&v)).unwrap_or_default()));
    let key = pointer.clone();
    let on_set = Callback::new(move |v: String| {
        if let Some(v) = from_wire::<T>(&v) {
            planner.edit(&key, |p| set(p, v))
        }
    });
    view! { <SelectField id=control_id(&pointer) label options=choices value on_set/> }
}

/// The host a part runs on, as a select that moves it.
fn host_select(part: Part, index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let pointer = format!("/{}/{index}/host", part.plan_field());
    let hosts = host_choices(planner);
    let value = Signal::derive(move || planner.plan.with(|p| p.part_host(part, index).unwrap_or_default().to_string()));
    let key = pointer.clone();
    let on_set = Callback::new(move |host: String| planner.edit(&key, |p| p.move_part(part, index, &host)));
    view! { <SelectField id=control_id(&pointer) label="Runs on" options=hosts value on_set/> }
}

/// Every host as a choice; follows the host list only, not every change of the plan.
fn host_choices(planner: Planner) -> Signal<Vec<(String, String)>> {
    Signal::derive(move || planner.host_names.with(|names| names.iter().map(|h| (h.clone(), h.clone())).collect()))
}

/// The same, after a first choice meaning "none".
fn host_choices_or(planner: Planner, none: &'static str) -> Signal<Vec<(String, String)>> {
    Signal::derive(move || {
        planner.host_names.with(|names| {
            std::iter::once((String::new(), none.to_string())).chain(names.iter().map(|h| (h.clone(), h.clone()))).collect()
        })
    })
}

/// Which bouncer a unit's pools go through, or straight to Postgres.
fn route_select(part: Part, index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let pointer = format!("/{}/{index}/pgbouncer", part.plan_field());
    let choices = Signal::derive(move || {
        planner.bouncer_names.with(|bouncers| {
            std::iter::once((String::new(), "Postgres directly".to_string()))
                .chain(bouncers.iter().map(|(name, host)| (name.clone(), format!("{name} on {host}"))))
                .collect()
        })
    });
    let value = Signal::derive(move || {
        planner.plan.with(|p| {
            match part {
                Part::Web => p.web.get(index).and_then(|u| u.pgbouncer.clone()),
                Part::Streaming => p.streaming.get(index).and_then(|u| u.pgbouncer.clone()),
                Part::Sidekiq => p.sidekiq.get(index).and_then(|u| u.pgbouncer.clone()),
                _ => None,
            }
            .unwrap_or_default()
        })
    });
    let key = pointer.clone();
    let on_set = Callback::new(move |via: String| {
        planner.edit(&key, |p| p.route_through(part, index, (!via.is_empty()).then_some(via.as_str())))
    });
    view! { <SelectField id=control_id(&pointer) label="Connects through" options=choices value on_set/> }
}

/// The editor's root.
#[component]
pub fn Editor() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let hosts = planner.host_names;
    view! {
        <section class="editor" aria-labelledby="editor-heading">
            <h2 id="editor-heading">"The cluster"</h2>
            <ClusterSettings/>
            <div class="hosts">
                <For
                    each=move || hosts.get().into_iter().enumerate()
                    key=|(i, name)| (*i, name.clone())
                    children=move |(index, name)| view! { <HostCard index name/> }
                />
            </div>
            <button type="button" id="add-host" on:click=move |_| planner.edit("add-host", |p| {
                p.add_host();
            })>"Add a host"</button>
        </section>
    }
}

#[component]
fn ClusterSettings() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let versions = options(&MastodonVersion::ALL, |v| format!("Mastodon {}", v.label()));
    let media = options(&[MediaStorage::LocalDisk, MediaStorage::Nfs, MediaStorage::S3Compatible], |m| {
        match m {
            MediaStorage::LocalDisk => "Local disk",
            MediaStorage::Nfs => "NFS",
            MediaStorage::S3Compatible => "S3-compatible object storage",
        }
        .to_string()
    });
    let nginx_hosts = host_choices_or(planner, "not planned");
    let nginx_value = Signal::derive(move || planner.plan.with(|p| p.nginx.as_ref().map(|n| n.host.clone()).unwrap_or_default()));
    let nginx_set = Callback::new(move |host: String| {
        planner.edit("/nginx/host", |p| p.nginx = (!host.is_empty()).then_some(Nginx { host }))
    });
    let replica_hosts = host_choices_or(planner, "none");
    let replica_value = Signal::derive(move || planner.plan.with(|p| p.replica.as_ref().map(|r| r.host.clone()).unwrap_or_default()));
    let replica_set = Callback::new(move |host: String| {
        planner.edit("/replica/host", |p| {
            p.replica = match (host.is_empty(), p.replica.take()) {
                (true, _) => None,
                (false, Some(r)) => Some(Replica { host, ..r }),
                (false, None) => Some(Replica { host, max_connections: p.postgres.max_connections, superuser_reserved_connections: 3 }),
            }
        })
    });
    view! {
        <div class="cluster-settings">
            {choose("/mastodon_version".into(), "Mastodon version", versions, |p| Some(p.mastodon_version), |p, v| p.mastodon_version = v)}
            {num("/expected_active_users".into(), "Active users", "monthly", (0, 300_000, 100_000_000), |p| Some(p.expected_active_users), |p, v| p.expected_active_users = v, "")}
            {choose("/media".into(), "Media storage", media, |p| Some(p.media), |p, v| p.media = v)}
            <SelectField id=control_id("/nginx/host") label="nginx runs on" options=nginx_hosts value=nginx_value on_set=nginx_set/>
            <SelectField id=control_id("/replica/host") label="Read replica on" options=replica_hosts value=replica_value on_set=replica_set/>
            {check("/prepared_statements".into(), "PREPARED_STATEMENTS (must be false behind a transaction-mode PgBouncer)", |p| Some(p.prepared_statements), |p, v| p.prepared_statements = v)}
        </div>
    }
}

#[component]
fn HostCard(index: usize, name: String) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let parts = Memo::new(move |_| planner.placement.with(|p| p.get(index).cloned().unwrap_or_default()));
    let host = name.clone();
    let has_postgres = Memo::new(move |_| planner.plan.with(|p| p.postgres.host == host));
    let host = name.clone();
    let has_replica = Memo::new(move |_| planner.plan.with(|p| p.replica.as_ref().is_some_and(|r| r.host == host)));
    let host = name.clone();
    let rename = Callback::new(move |new: String| {
        let mut result = Ok(());
        planner.edit(&format!("/hosts/{index}/name"), |p| result = p.rename_host(&host, new.trim()));
        if let Err(e) = result {
            planner.refuse(format!("Not renamed: {}", e.message));
        }
    });
    let host = name.clone();
    let duplicate = move |_| {
        planner.edit("duplicate-host", |p| {
            p.duplicate_host(&host);
        })
    };
    let host = name.clone();
    let remove = move |_| {
        let mut result = Ok(());
        planner.edit("remove-host", |p| result = p.remove_host(&host));
        if let Err(e) = result {
            planner.refuse(format!("Not removed: {e}"));
        }
    };
    let host = name.clone();
    let add = Callback::new(move |what: String| {
        if let Some(part) = Part::ALL.iter().copied().find(|p| p.plan_field() == what) {
            planner.edit("add-part", |p| {
                p.add_part(part, &host);
            });
        }
    });
    let add_choices: Vec<(String, String)> = std::iter::once((String::new(), "Add to this host…".to_string()))
        .chain(Part::ALL.iter().map(|p| (p.plan_field().to_string(), p.label().to_string())))
        .collect();
    let name_value = Signal::derive(move || planner.plan.with(|p| p.hosts.get(index).map(|h| h.name.clone()).unwrap_or_default()));
    view! {
        <article class="host" id=control_id(&format!("/hosts/{index}"))>
            <header class="host-head">
                <TextField id=control_id(&format!("/hosts/{index}/name")) label="Host" value=name_value on_set=rename/>
                <div class="host-actions">
                    <button type="button" class="duplicate-host" on:click=duplicate>"Duplicate"</button>
                    <button type="button" class="remove-host" on:click=remove>"Remove"</button>
                </div>
            </header>
            <div class="host-size">
                {num(format!("/hosts/{index}/cores"), "Cores", "cores", (1, 64, 1024), move |p| p.hosts.get(index).map(|h| h.cores), move |p, v| if let Some(h) = p.hosts.get_mut(index) { h.cores = v }, "")}
                {num(format!("/hosts/{index}/ram_gb"), "RAM", "GB", (1, 256, 65_536), move |p| p.hosts.get(index).map(|h| h.ram_gb), move |p, v| if let Some(h) = p.hosts.get_mut(index) { h.ram_gb = v }, "")}
            </div>
            {move || has_postgres.get().then(|| view! { <PostgresCard/> })}
            {move || has_replica.get().then(|| view! { <ReplicaCard/> })}
            <For
                each=move || parts.get()
                key=|(part, i, name)| (part.plan_field(), *i, name.clone())
                children=move |(part, i, _)| part_card(part, i)
            />
            <SelectField
                id=format!("add-to-host-{index}")
                label="Add"
                options=add_choices
                value=Signal::derive(String::new)
                on_set=add
            />
        </article>
    }
}

fn part_card(part: Part, index: usize) -> AnyView {
    match part {
        Part::Web => view! { <WebCard index/> }.into_any(),
        Part::Streaming => view! { <StreamingCard index/> }.into_any(),
        Part::Sidekiq => view! { <SidekiqCard index/> }.into_any(),
        Part::PgBouncer => view! { <BouncerCard index/> }.into_any(),
        Part::Redis => view! { <RedisCard index/> }.into_any(),
    }
}

/// The head every part card shares: its name, where it runs, and removal.
fn part_head(part: Part, index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let name_pointer = format!("/{}/{index}/name", part.plan_field());
    let name = Signal::derive(move || planner.plan.with(|p| p.part_name(part, index).unwrap_or_default().to_string()));
    let key = name_pointer.clone();
    let rename = Callback::new(move |new: String| {
        let mut result = Ok(());
        planner.edit(&key, |p| result = p.rename_part(part, index, new.trim()));
        if let Err(e) = result {
            planner.refuse(format!("Not renamed: {}", e.message));
        }
    });
    let remove = move |_| planner.edit("remove-part", |p| p.remove_part(part, index));
    view! {
        <header class="part-head">
            <span class="part-kind">{part.label()}</span>
            <TextField id=control_id(&name_pointer) label="Name" value=name on_set=rename/>
            {host_select(part, index)}
            <button type="button" class="remove-part" aria-label=move || format!("Remove {}", name.get()) on:click=remove>"Remove"</button>
        </header>
    }
}

#[component]
fn WebCard(index: usize) -> impl IntoView {
    let p = |field: &str| format!("/web/{index}/{field}");
    view! {
        <div class="part web" id=control_id(&format!("/web/{index}"))>
            {part_head(Part::Web, index)}
            {num(p("web_concurrency"), "Puma workers", "WEB_CONCURRENCY", (0, 32, 1024), move |p| p.web.get(index).map(|u| u.web_concurrency), move |p, v| if let Some(u) = p.web.get_mut(index) { u.web_concurrency = v }, "")}
            {num(p("max_threads"), "Threads per worker", "MAX_THREADS", (1, 32, 1024), move |p| p.web.get(index).map(|u| u.max_threads), move |p, v| p.set_web_threads(index, v), "")}
            {pool_field(Part::Web, index)}
            {route_select(Part::Web, index)}
            <TrustedProxyField index/>
            {check(p("jemalloc"), "jemalloc", move |p| p.web.get(index).map(|u| u.jemalloc), move |p, v| if let Some(u) = p.web.get_mut(index) { u.jemalloc = v })}
        </div>
    }
}

#[component]
fn TrustedProxyField(index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let pointer = format!("/web/{index}/trusted_proxy_ip");
    let value = Signal::derive(move || planner.plan.with(|p| p.web.get(index).and_then(|u| u.trusted_proxy_ip.clone()).unwrap_or_default()));
    let key = pointer.clone();
    let on_set = Callback::new(move |v: String| {
        let v = v.trim().to_string();
        planner.edit(&key, |p| {
            if let Some(u) = p.web.get_mut(index) {
                u.trusted_proxy_ip = (!v.is_empty()).then_some(v);
            }
        })
    });
    view! { <TextField id=control_id(&pointer) label="TRUSTED_PROXY_IP" value on_set placeholder="the balancer's address"/> }
}

/// DB_POOL: unset takes the version's default (shown), or set explicitly.
fn pool_field(part: Part, index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let field = part.plan_field();
    let get_set = move |p: &Plan| -> Option<Option<u32>> {
        match part {
            Part::Web => p.web.get(index).map(|u| u.db_pool),
            Part::Streaming => p.streaming.get(index).map(|u| u.db_pool),
            Part::Sidekiq => p.sidekiq.get(index).map(|u| u.db_pool),
            _ => None,
        }
    };
    let put = move |p: &mut Plan, v: Option<u32>| match part {
        Part::Web => p.web.get_mut(index).map(|u| u.db_pool = v),
        Part::Streaming => p.streaming.get_mut(index).map(|u| u.db_pool = v),
        Part::Sidekiq => p.sidekiq.get_mut(index).map(|u| u.db_pool = v),
        _ => None,
    };
    // What the process pools now, from the engine's ledger.
    let kind = match part {
        Part::Web => UnitKind::Web,
        Part::Streaming => UnitKind::Streaming,
        _ => UnitKind::Sidekiq,
    };
    let effective = move |planner: Planner| {
        planner.report.with(|r| r.connections.lines.iter().find(|l| l.kind == kind && l.index == index).map(|l| l.pool))
    };
    let explicit = Signal::derive(move || planner.plan.with(|p| get_set(p).flatten().is_some()));
    let toggle_key = format!("/{field}/{index}/db_pool/set");
    let toggle = Callback::new(move |on: bool| {
        let pool = effective(planner);
        planner.edit(&toggle_key, |p| {
            put(p, if on { pool } else { None });
        })
    });
    let note = move || {
        planner.report.with(|r| {
            r.connections
                .lines
                .iter()
                .find(|l| l.kind == kind && l.index == index)
                .map(|l| match l.default_applied {
                    Some(why) => format!("Unset: {why}."),
                    None => String::new(),
                })
                .unwrap_or_default()
        })
    };
    view! {
        <div class="pool-field">
            <CheckField id=control_id(&format!("/{field}/{index}/db_pool_set")) label="Set DB_POOL" value=explicit on_set=toggle/>
            {num_with(
                format!("/{field}/{index}/db_pool"),
                "Pool per process",
                "DB_POOL",
                (1, 64, 10_000),
                Signal::derive(move || {
                    let set = planner.plan.with(|p| get_set(p).flatten());
                    set.or_else(|| effective(planner)).unwrap_or(1)
                }),
                move |p, v| {
                    put(p, Some(v));
                },
                "",
            )}
            <p class="hint">{note}</p>
        </div>
    }
}

#[component]
fn StreamingCard(index: usize) -> impl IntoView {
    view! {
        <div class="part streaming" id=control_id(&format!("/streaming/{index}"))>
            {part_head(Part::Streaming, index)}
            {num(format!("/streaming/{index}/instances"), "Processes", "mastodon-streaming@PORT units", (0, 16, 1024), move |p| p.streaming.get(index).map(|u| u.instances), move |p, v| if let Some(u) = p.streaming.get_mut(index) { u.instances = v }, "")}
            {pool_field(Part::Streaming, index)}
            {route_select(Part::Streaming, index)}
        </div>
    }
}

#[component]
fn SidekiqCard(index: usize) -> impl IntoView {
    let planner = expect_context::<Planner>();
    let queue_boxes = Queue::ALL
        .iter()
        .map(|&q| {
            let id = control_id(&format!("/sidekiq/{index}/queues/{}", q.name()));
            let checked = Signal::derive(move || planner.plan.with(|p| p.sidekiq.get(index).is_some_and(|s| s.queues.contains(&q))));
            let key = format!("/sidekiq/{index}/queues");
            let on_set = Callback::new(move |on: bool| {
                planner.edit(&key, |p| {
                    if let Some(s) = p.sidekiq.get_mut(index) {
                        s.queues.retain(|x| *x != q);
                        if on {
                            s.queues.push(q);
                        }
                    }
                })
            });
            view! { <CheckField id label=q.name() value=checked on_set/> }
        })
        .collect_view();
    view! {
        <div class="part sidekiq" id=control_id(&format!("/sidekiq/{index}"))>
            {part_head(Part::Sidekiq, index)}
            <fieldset class="queues" id=control_id(&format!("/sidekiq/{index}/queues"))>
                <legend>"Queues"</legend>
                {queue_boxes}
            </fieldset>
            {num(format!("/sidekiq/{index}/instances"), "Processes", "template instances @1..N", (0, 32, 10_000), move |p| p.sidekiq.get(index).map(|u| u.instances), move |p, v| if let Some(u) = p.sidekiq.get_mut(index) { u.instances = v }, "")}
            {num(format!("/sidekiq/{index}/concurrency"), "Threads", "sidekiq -c", (1, 100, 1000), move |p| p.sidekiq.get(index).map(|u| u.concurrency), move |p, v| p.set_sidekiq_concurrency(index, v), "")}
            {pool_field(Part::Sidekiq, index)}
            {route_select(Part::Sidekiq, index)}
            {check(format!("/sidekiq/{index}/jemalloc"), "jemalloc", move |p| p.sidekiq.get(index).map(|u| u.jemalloc), move |p, v| if let Some(u) = p.sidekiq.get_mut(index) { u.jemalloc = v })}
        </div>
    }
}

#[component]
fn BouncerCard(index: usize) -> impl IntoView {
    let modes = options(&[PoolMode::Transaction, PoolMode::Session, PoolMode::Statement], |m| m.name().to_string());
    let p = move |f: &str| format!("/pgbouncers/{index}/{f}");
    macro_rules! bouncer_num {
        ($field:ident, $label:expr, $unit:expr, $range:expr) => {
            num(p(stringify!($field)), $label, $unit, $range, move |p| p.pgbouncers.get(index).map(|b| b.$field), move |p, v| if let Some(b) = p.pgbouncers.get_mut(index) { b.$field = v }, "")
        };
    }
    view! {
        <div class="part pgbouncer" id=control_id(&format!("/pgbouncers/{index}"))>
            {part_head(Part::PgBouncer, index)}
            {choose(p("pool_mode"), "pool_mode", modes, move |p| p.pgbouncers.get(index).map(|b| b.pool_mode), move |p, v| if let Some(b) = p.pgbouncers.get_mut(index) { b.pool_mode = v })}
            {bouncer_num!(max_client_conn, "max_client_conn", "client connections", (1, 5_000, 1_000_000))}
            {bouncer_num!(default_pool_size, "default_pool_size", "server connections", (1, 200, 100_000))}
            {bouncer_num!(reserve_pool_size, "reserve_pool_size", "extra when waiting", (0, 50, 100_000))}
            {bouncer_num!(max_db_connections, "max_db_connections", "0 = unlimited", (0, 500, 100_000))}
            {bouncer_num!(limit_nofile, "LimitNOFILE", "file descriptors", (16, 65_536, 1 << 30))}
        </div>
    }
}

#[component]
fn RedisCard(index: usize) -> impl IntoView {
    let roles = options(&[RedisRole::Persistent, RedisRole::Cache, RedisRole::SidekiqOnly], |r| {
        match r {
            RedisRole::Persistent => "persistent (REDIS_URL)",
            RedisRole::Cache => "cache (CACHE_REDIS_URL)",
            RedisRole::SidekiqOnly => "sidekiq only (SIDEKIQ_REDIS_URL)",
        }
        .to_string()
    });
    let persistence = options(&[RedisPersistence::Aof, RedisPersistence::AofRdb, RedisPersistence::Rdb, RedisPersistence::None], |p| wire(p));
    let evictions = options(&EvictionPolicy::ALL, |e| e.name().to_string());
    let p = move |f: &str| format!("/redis/{index}/{f}");
    view! {
        <div class="part redis" id=control_id(&format!("/redis/{index}"))>
            {part_head(Part::Redis, index)}
            {choose(p("role"), "Role", roles, move |p| p.redis.get(index).map(|r| r.role), move |p, v| if let Some(r) = p.redis.get_mut(index) { r.role = v })}
            {choose(p("persistence"), "Persistence", persistence, move |p| p.redis.get(index).map(|r| r.persistence), move |p, v| if let Some(r) = p.redis.get_mut(index) { r.persistence = v })}
            {num(p("maxmemory_mb"), "maxmemory", "MB, 0 = no limit", (0, 65_536, 64 * 1024 * 1024), move |p| p.redis.get(index).map(|r| r.maxmemory_mb), move |p, v| if let Some(r) = p.redis.get_mut(index) { r.maxmemory_mb = v }, "")}
            {choose(p("eviction_policy"), "maxmemory-policy", evictions, move |p| p.redis.get(index).map(|r| r.eviction_policy), move |p, v| if let Some(r) = p.redis.get_mut(index) { r.eviction_policy = v })}
        </div>
    }
}

#[component]
fn PostgresCard() -> impl IntoView {
    let planner = expect_context::<Planner>();
    let versions: Vec<(String, String)> = (13..=18).map(|v| (v.to_string(), format!("PostgreSQL {v}"))).collect();
    let disks = options(&[DiskKind::Ssd, DiskKind::Nvme, DiskKind::Hdd, DiskKind::Network], |d| d.name().to_uppercase());
    let hosts = host_choices(planner);
    let host = Signal::derive(move || planner.plan.with(|p| p.postgres.host.clone()));
    let move_to = Callback::new(move |h: String| {
        planner.edit("/postgres/host", |p| {
            if p.host(&h).is_some() {
                p.postgres.host = h
            }
        })
    });
    let version = Signal::derive(move || planner.plan.with(|p| p.postgres.version.to_string()));
    let set_version = Callback::new(move |v: String| {
        if let Ok(v) = v.parse::<u32>() {
            planner.edit("/postgres/version", |p| p.postgres.version = v)
        }
    });
    let pg16 = Memo::new(move |_| planner.plan.with(|p| p.postgres.version >= 16));
    view! {
        <div class="part postgres" id=control_id("/postgres")>
            <header class="part-head">
                <span class="part-kind">"PostgreSQL primary"</span>
                <SelectField id=control_id("/postgres/host") label="Runs on" options=hosts value=host on_set=move_to/>
            </header>
            <SelectField id=control_id("/postgres/version") label="Version" options=versions value=version on_set=set_version/>
            {num("/postgres/max_connections".into(), "max_connections", "connections", (1, 1_000, 262_143), |p| Some(p.postgres.max_connections), |p, v| p.postgres.max_connections = v, "")}
            {num("/postgres/superuser_reserved_connections".into(), "superuser_reserved_connections", "reserved", (0, 20, 262_143), |p| Some(p.postgres.superuser_reserved_connections), |p, v| p.postgres.superuser_reserved_connections = v, "")}
            {move || pg16.get().then(|| num("/postgres/reserved_connections".into(), "reserved_connections", "reserved (16+)", (0, 20, 262_143), |p| Some(p.postgres.reserved_connections), |p, v| p.postgres.reserved_connections = v, ""))}
            {choose("/postgres/disk".into(), "Disk", disks, |p| Some(p.postgres.disk), |p, v| p.postgres.disk = v)}
            {num_with("/postgres/settings/work_mem_mb".into(), "work_mem", "MB (PGTune's until moved)", (1, 256, 64 * 1024 * 1024), memory_setting(planner, "work_mem"), |p, v| p.postgres.settings.work_mem_mb = Some(v), "")}
            {num_with("/postgres/settings/shared_buffers_mb".into(), "shared_buffers", "MB (PGTune's until moved)", (1, 65_536, 64 * 1024 * 1024), memory_setting(planner, "shared_buffers"), |p, v| p.postgres.settings.shared_buffers_mb = Some(v), "")}
            {check("/postgres/synchronous_commit_off".into(), "synchronous_commit = off (a crash can lose the last transactions)", |p| Some(p.postgres.synchronous_commit_off), |p, v| p.postgres.synchronous_commit_off = v)}
        </div>
    }
}

/// A Postgres memory setting in MB: the plan's override, else what the engine recommends.
fn memory_setting(planner: Planner, name: &'static str) -> Signal<u32> {
    Signal::derive(move || {
        let set = planner.plan.with(|p| match name {
            "work_mem" => p.postgres.settings.work_mem_mb,
            _ => p.postgres.settings.shared_buffers_mb,
        });
        set.unwrap_or_else(|| {
            planner.report.with(|r| {
                let m = &r.postgres_settings.memory;
                let kb = if name == "work_mem" { m.work_mem_kb } else { m.shared_buffers_kb };
                (kb / 1024).max(1) as u32
            })
        })
    })
}

#[component]
fn ReplicaCard() -> impl IntoView {
    view! {
        <div class="part replica" id=control_id("/replica")>
            <header class="part-head"><span class="part-kind">"Read replica"</span></header>
            {num("/replica/max_connections".into(), "max_connections", "connections", (1, 1_000, 262_143), |p| p.replica.as_ref().map(|r| r.max_connections), |p, v| if let Some(r) = &mut p.replica { r.max_connections = v }, "")}
        </div>
    }
}
