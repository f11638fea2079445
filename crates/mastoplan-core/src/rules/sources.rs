//! Sources that rule explanations cite. One constant each, so every rule names them alike.

use crate::finding::Source;

pub const COMPENDIUM: Source = Source {
    title: "Hazel Weakly, Scaling Mastodon: The Compendium",
    url: "https://hazelweakly.me/blog/scaling-mastodon/",
};
pub const MASTODON_SCALING: Source = Source {
    title: "Mastodon documentation: Scaling up your server",
    url: "https://docs.joinmastodon.org/admin/scaling/",
};
pub const MASTODON_CONFIG: Source = Source {
    title: "Mastodon documentation: Configuring your environment",
    url: "https://docs.joinmastodon.org/admin/config/",
};
pub const DATABASE_YML: Source = Source {
    title: "mastodon/mastodon config/database.yml",
    url: "https://github.com/mastodon/mastodon/blob/main/config/database.yml",
};
pub const SIDEKIQ_YML: Source = Source {
    title: "mastodon/mastodon config/sidekiq.yml",
    url: "https://github.com/mastodon/mastodon/blob/main/config/sidekiq.yml",
};
pub const DIST_UNITS: Source = Source {
    title: "mastodon/mastodon dist/ systemd units",
    url: "https://github.com/mastodon/mastodon/tree/main/dist",
};
pub const SIDEKIQ_POOL_PR: Source = Source {
    title: "mastodon/mastodon PR #26488: sidekiq's pool defaults to its concurrency (4.3)",
    url: "https://github.com/mastodon/mastodon/pull/26488",
};
pub const PGBOUNCER_CONFIG: Source = Source {
    title: "PgBouncer configuration reference",
    url: "https://www.pgbouncer.org/config.html",
};
pub const PGBOUNCER_FAQ: Source = Source {
    title: "PgBouncer FAQ: how to use prepared statements",
    url: "https://www.pgbouncer.org/faq.html",
};
pub const MIGRATIONS_ISSUE: Source = Source {
    title: "mastodon/mastodon issue #29526: migrations fail through PgBouncer",
    url: "https://github.com/mastodon/mastodon/issues/29526",
};
pub const MIGRATIONS_ISSUE_2: Source = Source {
    title: "mastodon/mastodon issue #34934: advisory locks and transaction pooling",
    url: "https://github.com/mastodon/mastodon/issues/34934",
};
pub const CHART_MIGRATIONS: Source = Source {
    title: "mastodon/chart issue #168: migrations bypass PgBouncer",
    url: "https://github.com/mastodon/chart/issues/168",
};
pub const POSTGRES_CONNECTIONS: Source = Source {
    title: "PostgreSQL documentation: Connections and Authentication",
    url: "https://www.postgresql.org/docs/current/runtime-config-connection.html",
};
pub const CYBERTEC_MAX_CONNECTIONS: Source = Source {
    title: "CYBERTEC, Tuning max_connections in PostgreSQL",
    url: "https://www.cybertec-postgresql.com/en/tuning-max_connections-in-postgresql/",
};
pub const AWS_IDLE_CONNECTIONS: Source = Source {
    title: "AWS Database Blog, Resources consumed by idle PostgreSQL connections",
    url: "https://aws.amazon.com/blogs/database/resources-consumed-by-idle-postgresql-connections/",
};
pub const CRUNCHY_PGBOUNCER: Source = Source {
    title: "Crunchy Data, Postgres at scale: running multiple PgBouncers",
    url: "https://www.crunchydata.com/blog/postgres-at-scale-running-multiple-pgbouncers",
};
pub const PERHAM_REDIS: Source = Source {
    title: "Mike Perham, Storing data with Redis",
    url: "https://www.mikeperham.com/2015/09/24/storing-data-with-redis/",
};
pub const SIDEKIQ_USING_REDIS: Source = Source {
    title: "Sidekiq wiki: Using Redis",
    url: "https://github.com/sidekiq/sidekiq/wiki/Using-Redis",
};
pub const SIDEKIQ_MEMORY: Source = Source {
    title: "Sidekiq wiki: Memory (glibc fragmentation, jemalloc, MALLOC_ARENA_MAX)",
    url: "https://github.com/sidekiq/sidekiq/wiki/Memory",
};
pub const PGTUNE: Source = Source {
    title: "le0pard/pgtune",
    url: "https://github.com/le0pard/pgtune",
};
pub const HELM_CHART: Source = Source {
    title: "mastodon/chart values.yaml",
    url: "https://github.com/mastodon/chart/blob/main/values.yaml",
};
pub const PGBOUNCER_FEATURES: Source = Source {
    title: "PgBouncer features: pooling modes and the SQL features each breaks",
    url: "https://www.pgbouncer.org/features.html",
};
pub const RAILS_REMOTE_IP: Source = Source {
    title: "Rails API: ActionDispatch::RemoteIp (trusted proxies)",
    url: "https://api.rubyonrails.org/classes/ActionDispatch/RemoteIp.html",
};
pub const POSTGRES_RESOURCE_CONFIG: Source = Source {
    title: "PostgreSQL documentation: Resource Consumption (shared_buffers, work_mem)",
    url: "https://www.postgresql.org/docs/current/runtime-config-resource.html",
};
pub const POSTGRES_QUERY_CONFIG: Source = Source {
    title: "PostgreSQL documentation: Query Planning (effective_cache_size)",
    url: "https://www.postgresql.org/docs/current/runtime-config-query.html",
};
pub const POSTGRES_ASYNC_COMMIT: Source = Source {
    title: "PostgreSQL documentation: Asynchronous Commit",
    url: "https://www.postgresql.org/docs/current/wal-async-commit.html",
};
pub const PGCONF_CONNECTION_MEMORY: Source = Source {
    title: "Josef Machytka, PostgreSQL Connections Memory Usage (PGConf.DE 2025)",
    url: "https://www.postgresql.eu/events/pgconfde2025/schedule/session/6297-postgresql-connections-memory-usage-how-much-why-and-when/",
};
pub const PGBOUNCER_HOME: Source = Source {
    title: "PgBouncer: lightweight connection pooler (2 kB per connection)",
    url: "https://www.pgbouncer.org/",
};
pub const SPEEDSHOP_MALLOC: Source = Source {
    title: "Nate Berkopec, Malloc Can Double Multi-threaded Ruby Program Memory Usage",
    url: "https://www.speedshop.co/2017/12/04/malloc-doubles-ruby-memory.html",
};
pub const MASTODON_JEMALLOC_ISSUE: Source = Source {
    title: "mastodon/mastodon issue #7257: reduce Sidekiq memory usage 2-4x with jemalloc",
    url: "https://github.com/mastodon/mastodon/issues/7257",
};
pub const MASTODON_INSTALL: Source = Source {
    title: "Mastodon documentation: Installing from source (Ruby built with jemalloc)",
    url: "https://docs.joinmastodon.org/admin/install/",
};
pub const REDIS_ADMIN: Source = Source {
    title: "Redis administration: memory during persistence",
    url: "https://redis.io/docs/latest/operate/oss_and_stack/management/admin/",
};
