//! The max_connections ceiling from CYBERTEC ("Tuning max_connections in PostgreSQL", Laurenz
//! Albe), quoted by the compendium:
//!
//! ```text
//! max_connections < max(num_cores, parallel_io_limit) / (session_busy_ratio * avg_parallelism)
//! ```
//!
//! num_cores is the database host's cores; parallel_io_limit, session_busy_ratio and
//! avg_parallelism come from the plan's `estimates`, where their defaults are explained.

use serde::Serialize;

use crate::estimates::Estimates;

/// The right-hand side of CYBERTEC's inequality. max_connections must stay below it.
pub fn max_connections_ceiling(num_cores: u32, parallel_io_limit: u32, session_busy_ratio: f64, avg_parallelism: f64) -> f64 {
    let capacity = f64::from(num_cores.max(parallel_io_limit));
    capacity / (session_busy_ratio * avg_parallelism)
}

/// The calculator with its inputs, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ceiling {
    pub num_cores: u32,
    pub parallel_io_limit: u32,
    pub session_busy_ratio: f64,
    pub avg_parallelism: f64,
    /// max(num_cores, parallel_io_limit) / (session_busy_ratio x avg_parallelism).
    pub ceiling: f64,
    pub max_connections: u32,
    /// max_connections < ceiling, as CYBERTEC's formula asks.
    pub within: bool,
}

impl Ceiling {
    pub fn compute(num_cores: u32, max_connections: u32, e: &Estimates) -> Ceiling {
        let ceiling = max_connections_ceiling(num_cores, e.parallel_io_limit, e.session_busy_ratio, e.avg_parallelism);
        Ceiling {
            num_cores,
            parallel_io_limit: e.parallel_io_limit,
            session_busy_ratio: e.session_busy_ratio,
            avg_parallelism: e.avg_parallelism,
            ceiling,
            max_connections,
            // Strictly below; a hair of tolerance so 4 / 0.025 counts as exactly 160.
            within: f64::from(max_connections) < ceiling * (1.0 - 1e-12),
        }
    }

    /// "max(8 cores, parallel_io_limit 0) / (0.025 x 1) = 320".
    pub fn derivation(&self) -> String {
        format!(
            "max({} cores, parallel_io_limit {}) / (session_busy_ratio {} x avg_parallelism {}) = {}",
            self.num_cores,
            self.parallel_io_limit,
            self.session_busy_ratio,
            self.avg_parallelism,
            trim_float(self.ceiling)
        )
    }
}

/// 320 for 320.0, 53.33 for 53.333, 1.5 for 1.50.
pub(crate) fn trim_float(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.2}").trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_connections_per_core_by_default() {
        let e = Estimates::default();
        let c = max_connections_ceiling(8, e.parallel_io_limit, e.session_busy_ratio, e.avg_parallelism);
        assert!((c - 320.0).abs() < 1e-9, "{c}");
    }

    #[test]
    fn storage_limit_wins_when_larger_than_the_cores() {
        assert_eq!(max_connections_ceiling(4, 16, 0.1, 2.0), 80.0);
        assert_eq!(max_connections_ceiling(16, 4, 0.1, 2.0), 80.0);
    }

    #[test]
    fn max_connections_must_stay_strictly_below() {
        let e = Estimates::default();
        assert!(Ceiling::compute(4, 159, &e).within);
        assert!(!Ceiling::compute(4, 160, &e).within);
        assert_eq!(
            Ceiling::compute(4, 100, &e).derivation(),
            "max(4 cores, parallel_io_limit 0) / (session_busy_ratio 0.025 x avg_parallelism 1) = 160"
        );
    }
}
