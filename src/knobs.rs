//! The plan settings the page exposes as sliders: plain data and functions, no Leptos, so the
//! components stay a thin rendering of them.

use mastoplan_core::Plan;

/// One number of the plan an admin tunes: where it lives, what it is called, its bounds.
pub struct Knob {
    /// The slider's id; the number input's is `number_id`. Tests and later pages use both.
    pub id: &'static str,
    pub number_id: &'static str,
    pub label: &'static str,
    /// What the number counts, shown after it.
    pub unit: &'static str,
    /// The setting it is in Mastodon's own terms.
    pub hint: &'static str,
    pub min: u32,
    pub max: u32,
    get: fn(&Plan) -> Option<u32>,
    set: fn(&mut Plan, u32),
}

impl Knob {
    /// The plan's current value; `min` when the plan has no such unit.
    pub fn get(&self, plan: &Plan) -> u32 {
        (self.get)(plan).unwrap_or(self.min)
    }

    /// Sets the value, clamped to the knob's bounds.
    pub fn set(&self, plan: &mut Plan, value: u32) {
        (self.set)(plan, value.clamp(self.min, self.max));
    }

    /// A value typed or dragged in, if it is a whole number within bounds. Used while the
    /// admin is still typing, where "1" may be the start of "12".
    pub fn parse_exact(&self, raw: &str) -> Option<u32> {
        raw.trim().parse::<u32>().ok().filter(|n| (self.min..=self.max).contains(n))
    }

    /// A value once the admin is done typing: clamped into bounds, or none if not a number.
    pub fn parse_clamped(&self, raw: &str) -> Option<u32> {
        let n = raw.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
        Some(n.round().clamp(self.min as f64, self.max as f64) as u32)
    }
}

/// MAX_THREADS of the first web unit: Puma threads per worker, each holding a pool connection.
pub const WEB_THREADS: Knob = Knob {
    id: "web-threads",
    number_id: "web-threads-number",
    label: "Web threads",
    unit: "threads per Puma worker",
    hint: "MAX_THREADS of mastodon-web; its pool follows it unless DB_POOL is set.",
    min: 1,
    max: 32,
    get: |plan| plan.web.first().map(|w| w.max_threads),
    set: |plan, n| {
        if let Some(web) = plan.web.first_mut() {
            web.max_threads = n;
        }
    },
};

/// Concurrency of the first sidekiq unit; its DB_POOL follows, "same as threads".
pub const SIDEKIQ_THREADS: Knob = Knob {
    id: "sidekiq-threads",
    number_id: "sidekiq-threads-number",
    label: "Sidekiq threads",
    unit: "threads per process",
    hint: "sidekiq -c; DB_POOL is set to the same number, one connection per thread.",
    min: 1,
    max: 100,
    get: |plan| plan.sidekiq.first().map(|s| s.concurrency),
    set: |plan, n| {
        if let Some(sidekiq) = plan.sidekiq.first_mut() {
            sidekiq.concurrency = n;
            sidekiq.db_pool = Some(n);
        }
    },
};

pub const ALL: [&Knob; 2] = [&WEB_THREADS, &SIDEKIQ_THREADS];
