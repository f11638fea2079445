//! Recommended Postgres settings, computed the way PGTune (le0pard/pgtune,
//! src/features/configuration/configurationSlice.js) computes them for a "web" application on
//! Linux, with its "database size" input left at its default (mid: between RAM and 3x RAM, which
//! leaves work_mem unscaled). Each setting is one small pure function; the formula and its
//! version branches are in its comment. Memory is in kB, as PGTune computes it, and printed the
//! way PGTune prints it: in GB or MB only when that loses nothing.
//!
//! PGTune's input "total memory" is "how much memory PostgreSQL can use": on a dedicated
//! database host that is the host's RAM, and the planner passes that. Where Postgres shares
//! its host, the planner passes the RAM the other units leave (see `resources`).

use serde::Serialize;

use crate::plan::{DiskKind, HugePages, IoMethod, WalCompression};

pub const KB_PER_MB: u64 = 1024;
pub const KB_PER_GB: u64 = 1024 * 1024;

/// Postgres's own default `max_worker_processes`, which PGTune uses in work_mem's divisor when
/// it sets no parallel workers.
pub const DEFAULT_MAX_WORKER_PROCESSES: u32 = 8;

/// shared_buffers = RAM / 4 for a web application. (PGTune caps it at 512 MB on Windows before
/// Postgres 10; the planner only plans Linux hosts.)
pub fn shared_buffers_kb(ram_kb: u64) -> u64 {
    ram_kb / 4
}

/// huge_pages = try once shared_buffers reaches 2 GB, else off (PGTune; off on macOS, which the
/// planner does not plan for). `try` falls back to normal pages when the kernel has none
/// reserved (vm.nr_hugepages), so it is safe to set.
pub fn huge_pages(shared_buffers_kb: u64) -> HugePages {
    if shared_buffers_kb >= 2 * KB_PER_GB {
        HugePages::Try
    } else {
        HugePages::Off
    }
}

/// effective_cache_size = 3/4 of RAM for a web application: what the planner assumes the OS
/// page cache and shared_buffers together hold. Nothing is allocated for it.
pub fn effective_cache_size_kb(ram_kb: u64) -> u64 {
    ram_kb * 3 / 4
}

/// maintenance_work_mem = RAM / 16, capped at 8 GB. (PGTune caps it at 2 GB - 1 MB on Windows
/// up to Postgres 17; not planned for here.)
pub fn maintenance_work_mem_kb(ram_kb: u64) -> u64 {
    (ram_kb / 16).min(8 * KB_PER_GB)
}

/// min_wal_size = 1 GB for a web application (PGTune; oltp 2 GB, dw 4 GB, desktop 100 MB).
pub fn min_wal_size_kb() -> u64 {
    KB_PER_GB
}

/// max_wal_size = 4 GB for a web application (PGTune; oltp 8 GB, dw 16 GB, desktop 2 GB).
pub fn max_wal_size_kb() -> u64 {
    4 * KB_PER_GB
}

/// checkpoint_completion_target = 0.9, PGTune's value for every workload; also Postgres's
/// default since 14 (postgres/postgres commit bbcc4eb2).
pub fn checkpoint_completion_target() -> f64 {
    0.9
}

/// wal_buffers = 3% of shared_buffers, at most 16 MB: Postgres 9.1's own auto-tuning rule, which
/// PGTune follows. Two adjustments of PGTune's: a value between 14 and 16 MB is rounded up to
/// 16 MB, and anything under 32 kB is raised to 32 kB, Postgres's minimum.
pub fn wal_buffers_kb(shared_buffers_kb: u64) -> u64 {
    let max = 16 * KB_PER_MB;
    let mut v = (3 * shared_buffers_kb / 100).min(max);
    if v > 14 * KB_PER_MB && v < max {
        v = max;
    }
    v.max(32)
}

/// default_statistics_target = 100 for a web application (Postgres's default; PGTune's dw is 500).
pub fn default_statistics_target() -> u32 {
    100
}

/// random_page_cost: 4 on spinning disks (Postgres's default, tuned for seek times), 1.1 on
/// SSD, NVMe and network storage, where a random read costs little more than a sequential one.
/// (PGTune also gives 1.1 to any disk when the database fits in RAM, and 4 to data warehouses
/// bigger than RAM; neither is a web application at the default size.)
pub fn random_page_cost(disk: DiskKind) -> f64 {
    match disk {
        DiskKind::Hdd => 4.0,
        DiskKind::Ssd | DiskKind::Nvme | DiskKind::Network => 1.1,
    }
}

/// effective_io_concurrency on Linux: HDD 2, SSD 200, SAN (network) 300, NVMe 1000 (PGTune; it
/// leaves it unset on other systems, where Postgres cannot use it).
pub fn effective_io_concurrency(disk: DiskKind) -> u32 {
    match disk {
        DiskKind::Hdd => 2,
        DiskKind::Ssd => 200,
        DiskKind::Network => 300,
        DiskKind::Nvme => 1000,
    }
}

/// PGTune's parallel query settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Parallel {
    pub max_worker_processes: u32,
    pub max_parallel_workers_per_gather: u32,
    /// Postgres 10+.
    pub max_parallel_workers: Option<u32>,
    /// Postgres 11+.
    pub max_parallel_maintenance_workers: Option<u32>,
}

/// Parallel workers from the cores (PGTune): none below 4 cores (Postgres's defaults stay);
/// otherwise max_worker_processes = cores, max_parallel_workers_per_gather = ceil(cores / 2) at
/// most 4 for a web application ("no clear evidence" more helps, PGTune's comment),
/// max_parallel_workers = cores from Postgres 10, and max_parallel_maintenance_workers =
/// ceil(cores / 2) at most 4 from Postgres 11.
pub fn parallel(cores: u32, pg_version: u32) -> Option<Parallel> {
    if cores < 4 {
        return None;
    }
    let half = cores.div_ceil(2).min(4);
    Some(Parallel {
        max_worker_processes: cores,
        max_parallel_workers_per_gather: half,
        max_parallel_workers: (pg_version >= 10).then_some(cores),
        max_parallel_maintenance_workers: (pg_version >= 11).then_some(half),
    })
}

/// work_mem = (RAM - shared_buffers) / ((max_connections + max_worker_processes) x 3), floored
/// at 4 MB. The x3 is PGTune's allowance for one query using work_mem several times (a sort and
/// two hashes) while leaving the rest of RAM as headroom against the OOM killer.
/// max_worker_processes is the parallel setting above, or Postgres's default 8 when PGTune sets
/// none. A web application takes the quotient whole (dw and mixed halve it, desktop divides by
/// 6); at the default database size it is not scaled (PGTune boosts 30% when the database fits
/// in RAM and cuts 10% when it is over 3x RAM).
pub fn work_mem_kb(ram_kb: u64, shared_buffers_kb: u64, max_connections: u32, parallel: Option<Parallel>) -> u64 {
    let workers = parallel.map_or(DEFAULT_MAX_WORKER_PROCESSES, |p| p.max_worker_processes);
    let divisor = (u64::from(max_connections) + u64::from(workers)) * 3;
    let v = ram_kb.saturating_sub(shared_buffers_kb) / divisor.max(1);
    v.max(4 * KB_PER_MB)
}

/// jit = off from Postgres 12, where it is on by default: for short web queries JIT compilation
/// costs more planning time than it saves (PGTune). Unset before 12.
pub fn jit(pg_version: u32) -> Option<bool> {
    (pg_version >= 12).then_some(false)
}

/// wal_compression: lz4 from Postgres 15 (faster and lighter than pglz; needs a build with lz4,
/// as the PGDG and Debian packages are), `on` (pglz) for 10 to 14, unset before (PGTune).
pub fn wal_compression(pg_version: u32) -> Option<WalCompression> {
    match pg_version {
        15.. => Some(WalCompression::Lz4),
        10..=14 => Some(WalCompression::On),
        _ => None,
    }
}

/// autovacuum_max_workers: 5 from 32 cores, 4 from 16, else Postgres's default 3 stays (PGTune).
pub fn autovacuum_max_workers(cores: u32) -> Option<u32> {
    match cores {
        32.. => Some(5),
        16..=31 => Some(4),
        _ => None,
    }
}

/// autovacuum_work_mem = 2 GB once maintenance_work_mem reaches 2 GB, so several autovacuum
/// workers cannot each take up to 8 GB; unset otherwise (it then follows maintenance_work_mem).
pub fn autovacuum_work_mem_kb(maintenance_work_mem_kb: u64) -> Option<u64> {
    (maintenance_work_mem_kb >= 2 * KB_PER_GB).then_some(2 * KB_PER_GB)
}

/// io_method = io_uring from Postgres 18 on Linux (PGTune; needs a build with liburing, else the
/// server refuses to start: set it to worker, Postgres 18's default, if yours lacks it).
pub fn io_method(pg_version: u32) -> Option<IoMethod> {
    (pg_version >= 18).then_some(IoMethod::IoUring)
}

/// A size in kB as postgresql.conf takes it, the way PGTune prints it: GB or MB when exact.
pub fn format_kb(kb: u64) -> String {
    if kb.is_multiple_of(KB_PER_GB) {
        format!("{}GB", kb / KB_PER_GB)
    } else if kb.is_multiple_of(KB_PER_MB) {
        format!("{}MB", kb / KB_PER_MB)
    } else {
        format!("{kb}kB")
    }
}

/// The inputs of one PGTune run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PgTuneInput {
    pub ram_kb: u64,
    pub cores: u32,
    pub max_connections: u32,
    pub disk: DiskKind,
    pub pg_version: u32,
}

/// Everything PGTune would print for a web application on Linux with these inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PgTune {
    pub shared_buffers_kb: u64,
    pub effective_cache_size_kb: u64,
    pub maintenance_work_mem_kb: u64,
    pub checkpoint_completion_target: f64,
    pub wal_buffers_kb: u64,
    pub default_statistics_target: u32,
    pub random_page_cost: f64,
    pub effective_io_concurrency: u32,
    pub work_mem_kb: u64,
    pub huge_pages: HugePages,
    pub min_wal_size_kb: u64,
    pub max_wal_size_kb: u64,
    pub parallel: Option<Parallel>,
    pub jit: Option<bool>,
    pub wal_compression: Option<WalCompression>,
    pub autovacuum_max_workers: Option<u32>,
    pub autovacuum_work_mem_kb: Option<u64>,
    pub io_method: Option<IoMethod>,
}

impl PgTune {
    pub fn compute(i: PgTuneInput) -> PgTune {
        let shared_buffers = shared_buffers_kb(i.ram_kb);
        let maintenance = maintenance_work_mem_kb(i.ram_kb);
        let parallel = parallel(i.cores, i.pg_version);
        PgTune {
            shared_buffers_kb: shared_buffers,
            effective_cache_size_kb: effective_cache_size_kb(i.ram_kb),
            maintenance_work_mem_kb: maintenance,
            checkpoint_completion_target: checkpoint_completion_target(),
            wal_buffers_kb: wal_buffers_kb(shared_buffers),
            default_statistics_target: default_statistics_target(),
            random_page_cost: random_page_cost(i.disk),
            effective_io_concurrency: effective_io_concurrency(i.disk),
            work_mem_kb: work_mem_kb(i.ram_kb, shared_buffers, i.max_connections, parallel),
            huge_pages: huge_pages(shared_buffers),
            min_wal_size_kb: min_wal_size_kb(),
            max_wal_size_kb: max_wal_size_kb(),
            parallel,
            jit: jit(i.pg_version),
            wal_compression: wal_compression(i.pg_version),
            autovacuum_max_workers: autovacuum_max_workers(i.cores),
            autovacuum_work_mem_kb: autovacuum_work_mem_kb(maintenance),
            io_method: io_method(i.pg_version),
        }
    }
}

#[cfg(test)]
mod tests {
    //! The three cases pinned here were computed by hand from PGTune's formulas (web, Linux,
    //! SSD, 200 connections, PGTune's default for a web application when none is given), and
    //! can be checked at pgtune.leopard.in.ua with the same inputs.

    use super::*;

    fn tune(ram_gb: u64, cores: u32, version: u32) -> PgTune {
        PgTune::compute(PgTuneInput {
            ram_kb: ram_gb * KB_PER_GB,
            cores,
            max_connections: 200,
            disk: DiskKind::Ssd,
            pg_version: version,
        })
    }

    #[test]
    fn pgtune_2gb_1_core_ssd() {
        let t = tune(2, 1, 17);
        assert_eq!(format_kb(t.shared_buffers_kb), "512MB");
        assert_eq!(format_kb(t.effective_cache_size_kb), "1536MB");
        assert_eq!(format_kb(t.maintenance_work_mem_kb), "128MB");
        // 3% of 512 MB is 15728 kB, between 14 and 16 MB: rounded up.
        assert_eq!(format_kb(t.wal_buffers_kb), "16MB");
        // (2 GB - 512 MB) / ((200 + 8) x 3) = 2520 kB, under the 4 MB floor.
        assert_eq!(format_kb(t.work_mem_kb), "4MB");
        assert_eq!(t.huge_pages, HugePages::Off);
        assert_eq!(t.parallel, None);
        assert_eq!(format_kb(t.min_wal_size_kb), "1GB");
        assert_eq!(format_kb(t.max_wal_size_kb), "4GB");
        assert_eq!(t.checkpoint_completion_target, 0.9);
        assert_eq!(t.default_statistics_target, 100);
        assert_eq!(t.random_page_cost, 1.1);
        assert_eq!(t.effective_io_concurrency, 200);
        assert_eq!(t.jit, Some(false));
        assert_eq!(t.wal_compression, Some(WalCompression::Lz4));
        assert_eq!(t.autovacuum_max_workers, None);
        assert_eq!(t.autovacuum_work_mem_kb, None);
        assert_eq!(t.io_method, None);
    }

    #[test]
    fn pgtune_16gb_4_cores_ssd() {
        let t = tune(16, 4, 17);
        assert_eq!(format_kb(t.shared_buffers_kb), "4GB");
        assert_eq!(format_kb(t.effective_cache_size_kb), "12GB");
        assert_eq!(format_kb(t.maintenance_work_mem_kb), "1GB");
        assert_eq!(format_kb(t.wal_buffers_kb), "16MB");
        // (16 GB - 4 GB) / ((200 + 4) x 3) = 12582912 / 612 = 20560.3 kB.
        assert_eq!(format_kb(t.work_mem_kb), "20560kB");
        assert_eq!(t.huge_pages, HugePages::Try);
        assert_eq!(
            t.parallel,
            Some(Parallel {
                max_worker_processes: 4,
                max_parallel_workers_per_gather: 2,
                max_parallel_workers: Some(4),
                max_parallel_maintenance_workers: Some(2),
            })
        );
        assert_eq!(t.random_page_cost, 1.1);
        assert_eq!(t.effective_io_concurrency, 200);
        assert_eq!(t.autovacuum_max_workers, None);
        assert_eq!(t.autovacuum_work_mem_kb, None);
    }

    #[test]
    fn pgtune_128gb_32_cores_ssd() {
        let t = tune(128, 32, 17);
        assert_eq!(format_kb(t.shared_buffers_kb), "32GB");
        assert_eq!(format_kb(t.effective_cache_size_kb), "96GB");
        // 128 GB / 16 = 8 GB, exactly the cap.
        assert_eq!(format_kb(t.maintenance_work_mem_kb), "8GB");
        assert_eq!(format_kb(t.wal_buffers_kb), "16MB");
        // (128 GB - 32 GB) / ((200 + 32) x 3) = 100663296 / 696 = 144631.2 kB.
        assert_eq!(format_kb(t.work_mem_kb), "144631kB");
        assert_eq!(t.huge_pages, HugePages::Try);
        assert_eq!(
            t.parallel,
            Some(Parallel {
                max_worker_processes: 32,
                max_parallel_workers_per_gather: 4,
                max_parallel_workers: Some(32),
                max_parallel_maintenance_workers: Some(4),
            })
        );
        assert_eq!(t.autovacuum_max_workers, Some(5));
        assert_eq!(t.autovacuum_work_mem_kb.map(format_kb).as_deref(), Some("2GB"));
    }

    #[test]
    fn maintenance_work_mem_caps_at_8gb() {
        assert_eq!(maintenance_work_mem_kb(256 * KB_PER_GB), 8 * KB_PER_GB);
        assert_eq!(maintenance_work_mem_kb(16 * KB_PER_GB), KB_PER_GB);
    }

    #[test]
    fn huge_pages_from_2gb_of_shared_buffers() {
        assert_eq!(huge_pages(2 * KB_PER_GB - 1), HugePages::Off);
        assert_eq!(huge_pages(2 * KB_PER_GB), HugePages::Try);
        // 4 GB of RAM gives 1 GB of shared_buffers: off; 16 GB gives 4 GB: try (PGTune's tests).
        assert_eq!(huge_pages(shared_buffers_kb(4 * KB_PER_GB)), HugePages::Off);
        assert_eq!(huge_pages(shared_buffers_kb(16 * KB_PER_GB)), HugePages::Try);
    }

    #[test]
    fn wal_buffers_small_and_rounded() {
        // 1 GB of RAM: 256 MB shared_buffers, 3% = 7864 kB.
        assert_eq!(wal_buffers_kb(256 * KB_PER_MB), 7864);
        assert_eq!(wal_buffers_kb(500), 32);
        assert_eq!(wal_buffers_kb(14 * KB_PER_MB * 100 / 3 + 100), 16 * KB_PER_MB);
    }

    #[test]
    fn work_mem_floors_at_4mb_with_many_connections() {
        // PGTune's own test: 4 GB, 4 cores, 9999 connections floors at 4 MB.
        let ram = 4 * KB_PER_GB;
        assert_eq!(work_mem_kb(ram, shared_buffers_kb(ram), 9999, parallel(4, 15)), 4096);
    }

    #[test]
    fn parallel_workers_from_4_cores() {
        assert_eq!(parallel(3, 17), None);
        // PGTune's tests: 12 cores on 13 and on 10; 31 cores stays at 4 per gather.
        let p13 = parallel(12, 13).unwrap();
        assert_eq!((p13.max_worker_processes, p13.max_parallel_workers_per_gather), (12, 4));
        assert_eq!((p13.max_parallel_workers, p13.max_parallel_maintenance_workers), (Some(12), Some(4)));
        let p10 = parallel(12, 10).unwrap();
        assert_eq!((p10.max_parallel_workers, p10.max_parallel_maintenance_workers), (Some(12), None));
        assert_eq!(parallel(31, 10).unwrap().max_parallel_workers_per_gather, 4);
        assert_eq!(parallel(5, 17).unwrap().max_parallel_workers_per_gather, 3);
    }

    #[test]
    fn version_branches() {
        assert_eq!(jit(11), None);
        assert_eq!(jit(12), Some(false));
        assert_eq!(wal_compression(9), None);
        assert_eq!(wal_compression(14), Some(WalCompression::On));
        assert_eq!(wal_compression(15), Some(WalCompression::Lz4));
        assert_eq!(io_method(17), None);
        assert_eq!(io_method(18), Some(IoMethod::IoUring));
    }

    #[test]
    fn disk_kinds() {
        assert_eq!(random_page_cost(DiskKind::Hdd), 4.0);
        assert_eq!(effective_io_concurrency(DiskKind::Hdd), 2);
        assert_eq!(effective_io_concurrency(DiskKind::Network), 300);
        assert_eq!(random_page_cost(DiskKind::Network), 1.1);
        assert_eq!(effective_io_concurrency(DiskKind::Nvme), 1000);
    }

    #[test]
    fn autovacuum_scales_with_cores_and_memory() {
        assert_eq!(autovacuum_max_workers(8), None);
        assert_eq!(autovacuum_max_workers(16), Some(4));
        assert_eq!(autovacuum_max_workers(32), Some(5));
        assert_eq!(autovacuum_work_mem_kb(maintenance_work_mem_kb(4 * KB_PER_GB)), None);
        assert_eq!(autovacuum_work_mem_kb(maintenance_work_mem_kb(256 * KB_PER_GB)), Some(2 * KB_PER_GB));
    }

    #[test]
    fn sizes_print_like_pgtune() {
        assert_eq!(format_kb(KB_PER_GB), "1GB");
        assert_eq!(format_kb(1536 * KB_PER_MB), "1536MB");
        assert_eq!(format_kb(4854), "4854kB");
    }
}
