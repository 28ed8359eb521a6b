//! RITA v5-compatible beacon scoring (spec `network.md` §1), pure functions over connection records
//! that another module has already extracted (from a capture or a Zeek `conn.log`).
//!
//! One host pair (internal source → external destination, or source → FQDN for SNI beacons) is
//! scored by [`score_pair`]: connection start times are cut to whole seconds (RITA `uint32`
//! timestamps), the pair is limited to the beacon window (the last 24 h of the dataset, from the
//! start of that hour), pairs with fewer than 4 unique timestamps are ineligible and pairs with
//! ≥ 86,400 connections are strobes. Otherwise four sub-scores are combined:
//!
//! * **ts**: Bowley skew and MAD of the non-zero intervals between sorted timestamps;
//! * **ds**: the same over the per-connection `orig_ip_bytes`;
//! * **hist**: flatness (coefficient of variation) or bimodality of a 24-bin histogram of the window;
//! * **dur**: coverage of the window and the longest run of busy bins.
//!
//! The building blocks ([`timestamp_score`], [`data_size_score`], [`statistical_score`],
//! [`histogram_score`], [`duration_score`], [`weighted_score`]) are public so RITA's own test
//! vectors can be reproduced one by one. Statistics live in [`stats`], the other analytics (bucketed
//! scores, modifiers, severities, C2 over DNS) in [`analytics`].
//!
//! Beacon numbers only mean something over 12–24 h of data; [`BeaconResult::short_window`] labels
//! shorter datasets (spec §10/§11).

pub mod analytics;
pub mod stats;

#[cfg(test)]
mod analytics_tests;
#[cfg(test)]
mod tests;

use stats::{Quartiles, ceil3, mad_sorted, median_sorted, population_sd, quartiles_sorted, r3};

/// Work cap per pair: at most this many connections are sorted and scored — RITA's
/// `groupArray(86400)` cap and its strobe limit. Only reachable when the strobe threshold is
/// configured above it; the result is then marked [`BeaconResult::truncated`] and scores the first
/// `MAX_SCORED_CONNS` in-window records in input order, as RITA does.
pub const MAX_SCORED_CONNS: usize = 86_400;
/// Upper bound accepted for [`BeaconConfig::histogram_bins`] (bounds allocation).
pub const MAX_HISTOGRAM_BINS: u32 = 10_000;
const HOUR: i64 = 3600;

/// One connection of a pair, as extracted from a capture or `conn.log`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Conn {
    /// Start time, epoch seconds (fractions allowed; cut to whole seconds like RITA).
    pub ts: f64,
    /// IP-level bytes sent by the originator (Zeek `orig_ip_bytes`).
    pub orig_ip_bytes: u64,
    /// Duration in seconds (Zeek `duration`; non-finite or negative values count as 0).
    pub duration: f64,
}

/// Scoring parameters; [`Default`] gives RITA v5's `default_config.hjson`.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconConfig {
    /// Minimum unique timestamps for a beacon score (`unique_connection_threshold`, 4; ≥ 4).
    pub unique_connection_threshold: u64,
    /// Connections from which a pair is a strobe and gets no beacon score (86,400).
    pub strobe_threshold: u64,
    /// `timestamp_score_weight` (0.25).
    pub ts_weight: f64,
    /// `datasize_score_weight` (0.25).
    pub ds_weight: f64,
    /// `duration_score_weight` (0.25).
    pub dur_weight: f64,
    /// `histogram_score_weight` (0.25).
    pub hist_weight: f64,
    /// Busy bins needed for a duration score (`duration_min_hours_seen`, 6).
    pub duration_min_hours_seen: u32,
    /// Run of busy bins giving full consistency (`duration_consistency_ideal_hours_seen`, 12).
    pub duration_consistency_ideal_hours_seen: u32,
    /// Bimodal bucket width as a share of the tallest bin (`histogram_mode_sensitivity`, 0.05).
    pub histogram_mode_sensitivity: f64,
    /// Busy bins dropped as outliers in the bimodal fit (`histogram_bimodal_outlier_removal`, 1).
    pub histogram_bimodal_outlier_removal: u32,
    /// Busy bins needed for the bimodal fit (`histogram_bimodal_min_hours_seen`, 11).
    pub histogram_bimodal_min_hours_seen: u32,
    /// Histogram bins over the window (24: one per hour of a 24 h window).
    pub histogram_bins: u32,
    /// Beacon window length in seconds, counted back from the dataset end (86,400).
    pub window_secs: u32,
    /// Datasets spanning less than this (seconds) are labelled `short_window` (43,200 = 12 h).
    pub short_window_secs: u32,
}

impl Default for BeaconConfig {
    fn default() -> Self {
        BeaconConfig {
            unique_connection_threshold: 4,
            strobe_threshold: 86_400,
            ts_weight: 0.25,
            ds_weight: 0.25,
            dur_weight: 0.25,
            hist_weight: 0.25,
            duration_min_hours_seen: 6,
            duration_consistency_ideal_hours_seen: 12,
            histogram_mode_sensitivity: 0.05,
            histogram_bimodal_outlier_removal: 1,
            histogram_bimodal_min_hours_seen: 11,
            histogram_bins: 24,
            window_secs: 86_400,
            short_window_secs: 43_200,
        }
    }
}

/// A [`BeaconConfig`] value RITA would refuse (checks of `config/config.go`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BeaconConfigError {
    #[error("unique_connection_threshold must be at least 4, got {0}")]
    UniqueConnectionThreshold(u64),
    #[error("strobe_threshold must be at least 1, got {0}")]
    StrobeThreshold(u64),
    #[error("beacon weights must each lie in [0, 1] and sum to 1, got {ts}/{ds}/{dur}/{hist}")]
    Weights {
        ts: f64,
        ds: f64,
        dur: f64,
        hist: f64,
    },
    #[error("duration_min_hours_seen must be at least 1, got {0}")]
    DurationMinHours(u32),
    #[error("duration_consistency_ideal_hours_seen must be at least 1, got {0}")]
    DurationIdealHours(u32),
    #[error("histogram_mode_sensitivity must lie in (0, 1], got {0}")]
    ModeSensitivity(f64),
    #[error("histogram_bimodal_min_hours_seen must be at least 3, got {0}")]
    BimodalMinHours(u32),
    #[error("histogram_bins must lie in 1..={MAX_HISTOGRAM_BINS}, got {0}")]
    HistogramBins(u32),
    #[error("window_secs must be at least 1, got {0}")]
    Window(u32),
}

/// Tolerance for "weights sum to 1" (RITA compares exactly; decimal weights such as 0.1 + 0.2 +
/// 0.3 + 0.4 need a little slack in binary floating point).
const WEIGHT_SUM_TOLERANCE: f64 = 1e-9;

impl BeaconConfig {
    /// Check the values as RITA does when loading its configuration.
    pub fn validate(&self) -> Result<(), BeaconConfigError> {
        if self.unique_connection_threshold < 4 {
            return Err(BeaconConfigError::UniqueConnectionThreshold(
                self.unique_connection_threshold,
            ));
        }
        if self.strobe_threshold < 1 {
            return Err(BeaconConfigError::StrobeThreshold(self.strobe_threshold));
        }
        if !weights_ok(
            self.ts_weight,
            self.ds_weight,
            self.dur_weight,
            self.hist_weight,
        ) {
            return Err(BeaconConfigError::Weights {
                ts: self.ts_weight,
                ds: self.ds_weight,
                dur: self.dur_weight,
                hist: self.hist_weight,
            });
        }
        if self.duration_min_hours_seen < 1 {
            return Err(BeaconConfigError::DurationMinHours(
                self.duration_min_hours_seen,
            ));
        }
        if self.duration_consistency_ideal_hours_seen < 1 {
            return Err(BeaconConfigError::DurationIdealHours(
                self.duration_consistency_ideal_hours_seen,
            ));
        }
        // RITA accepts 0 here, which makes its bucket width 0 and its bucket keys NaN; refuse it.
        if !(self.histogram_mode_sensitivity > 0.0 && self.histogram_mode_sensitivity <= 1.0) {
            return Err(BeaconConfigError::ModeSensitivity(
                self.histogram_mode_sensitivity,
            ));
        }
        if self.histogram_bimodal_min_hours_seen < 3 {
            return Err(BeaconConfigError::BimodalMinHours(
                self.histogram_bimodal_min_hours_seen,
            ));
        }
        if self.histogram_bins < 1 || self.histogram_bins > MAX_HISTOGRAM_BINS {
            return Err(BeaconConfigError::HistogramBins(self.histogram_bins));
        }
        if self.window_secs < 1 {
            return Err(BeaconConfigError::Window(self.window_secs));
        }
        Ok(())
    }
}

fn weights_ok(ts: f64, ds: f64, dur: f64, hist: f64) -> bool {
    let w = [ts, ds, dur, hist];
    w.iter().all(|x| (0.0..=1.0).contains(x))
        && (w.iter().sum::<f64>() - 1.0).abs() <= WEIGHT_SUM_TOLERANCE
}

/// Why a pair got no beacon score.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Ineligible {
    /// The configuration is invalid.
    InvalidConfig(BeaconConfigError),
    /// `dataset_min`/`dataset_max` are not finite, outside the `uint32` epoch range, or not
    /// increasing (RITA's "invalid dataset timerange").
    InvalidDatasetRange,
    /// No connection with a usable timestamp inside the window.
    NoConnections,
    /// ≥ `strobe_threshold` connections: a strobe, scored by its fixed impact instead.
    Strobe,
    /// Fewer unique timestamps than `unique_connection_threshold`.
    TooFewUniqueTimestamps { unique: u64, required: u64 },
}

/// Statistical sub-score evidence (ts over intervals, ds over sizes).
#[derive(Debug, Clone, PartialEq)]
pub struct StatScore {
    /// Values scored (non-zero intervals, or sizes).
    pub n: usize,
    pub quartiles: Quartiles,
    /// Bowley skew (0 when the denominator is < 10 or Q2 equals Q1 or Q3).
    pub skew: f64,
    /// 1 − |skew|.
    pub skew_score: f64,
    pub median: f64,
    /// Raw median absolute deviation.
    pub mad: f64,
    pub mad_score: f64,
    /// R3((skew_score + mad_score) / 2).
    pub score: f64,
    /// Most frequent value (smallest on ties; for ts over all intervals, zeros included).
    pub mode: f64,
    pub mode_count: u64,
}

/// Histogram sub-score evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramScore {
    /// Connections per bin.
    pub bins: Vec<u32>,
    /// Non-empty bins.
    pub bars: u32,
    /// Longest run of non-empty bins, wrapping from the last bin to the first, at most `bins.len()`.
    pub longest_run: u32,
    /// 0 when cv > 1, else R3(1 − cv).
    pub cv_score: f64,
    /// Bimodal fit (0 below the busy-bin minimum).
    pub bimodal_fit: f64,
    /// max(cv_score, bimodal_fit).
    pub score: f64,
}

/// Duration sub-score evidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DurationScore {
    pub coverage: f64,
    pub consistency: f64,
    /// max(coverage, consistency), or 0 below the busy-bin minimum.
    pub score: f64,
}

/// Beacon verdict and evidence for one pair.
#[derive(Debug, Clone, PartialEq)]
pub struct BeaconResult {
    /// A beacon score was computed.
    pub eligible: bool,
    /// ≥ `strobe_threshold` connections in the window.
    pub strobe: bool,
    /// Why not eligible (`None` when eligible).
    pub ineligible: Option<Ineligible>,
    /// The dataset spans less than `short_window_secs` (12 h): scores are indicative only.
    pub short_window: bool,
    /// Weighted beacon score, R3, in [0, 1] (0 when not eligible).
    pub score: f64,
    pub ts: f64,
    pub ds: f64,
    pub dur: f64,
    pub hist: f64,
    /// Connections with a usable timestamp inside the window.
    pub conn_count: u64,
    /// Unique whole-second timestamps among them (0 when not computed: strobes, bad ranges).
    pub unique_timestamps: u64,
    /// Records whose timestamp was NaN, infinite, negative or beyond `u32` seconds.
    pub rejected: u64,
    /// Records before the window (counted, not scored).
    pub outside_window: u64,
    /// More than [`MAX_SCORED_CONNS`] in-window records; only the first ones were scored.
    pub truncated: bool,
    /// Summed duration of the in-window connections (seconds).
    pub total_duration: f64,
    /// Summed `orig_ip_bytes` of the in-window connections (saturating).
    pub total_orig_ip_bytes: u64,
    /// Beacon window `[window_start, window_end]`, epoch seconds (histogram range).
    pub window_start: i64,
    pub window_end: i64,
    /// First and last scored timestamps.
    pub first_ts: Option<u32>,
    pub last_ts: Option<u32>,
    /// Evidence behind `ts` (median interval, MAD, skew…).
    pub ts_detail: Option<StatScore>,
    /// Evidence behind `ds`.
    pub ds_detail: Option<StatScore>,
    /// Evidence behind `hist` (bins, bars, longest run…).
    pub hist_detail: Option<HistogramScore>,
    /// Evidence behind `dur` (coverage, consistency).
    pub dur_detail: Option<DurationScore>,
}

impl BeaconResult {
    fn empty(short_window: bool, window_start: i64, window_end: i64) -> Self {
        BeaconResult {
            eligible: false,
            strobe: false,
            ineligible: None,
            short_window,
            score: 0.0,
            ts: 0.0,
            ds: 0.0,
            dur: 0.0,
            hist: 0.0,
            conn_count: 0,
            unique_timestamps: 0,
            rejected: 0,
            outside_window: 0,
            truncated: false,
            total_duration: 0.0,
            total_orig_ip_bytes: 0,
            window_start,
            window_end,
            first_ts: None,
            last_ts: None,
            ts_detail: None,
            ds_detail: None,
            hist_detail: None,
            dur_detail: None,
        }
    }

    fn refuse(mut self, why: Ineligible) -> Self {
        self.strobe = why == Ineligible::Strobe;
        self.ineligible = Some(why);
        self
    }

    /// RITA's bucketed beacon threat score ([`analytics::beacon_threat_score`]); 0 when not
    /// eligible.
    pub fn threat_score(&self) -> f64 {
        if self.eligible {
            analytics::beacon_threat_score(self.score)
        } else {
            0.0
        }
    }

    /// The median interval between connections (seconds), when a ts score exists.
    pub fn median_interval(&self) -> Option<f64> {
        self.ts_detail.as_ref().map(|d| d.median)
    }
}

/// Whole-second `uint32` timestamp like ClickHouse `toUnixTimestamp`, or `None` when unusable.
fn whole_seconds(ts: f64) -> Option<u32> {
    if (0.0..4_294_967_296.0).contains(&ts) {
        Some(ts.floor() as u32)
    } else {
        None
    }
}

/// The beacon window for a dataset: `[max(min, max − window), max]` in whole seconds, or `None`
/// for an unusable range (non-finite, outside the `uint32` epoch range, or `max ≤ min`).
pub fn beacon_window(dataset_min: f64, dataset_max: f64, window_secs: u32) -> Option<(i64, i64)> {
    let lo = i64::from(whole_seconds(dataset_min)?);
    let hi = i64::from(whole_seconds(dataset_max)?);
    if hi <= lo {
        return None;
    }
    Some((lo.max(hi - i64::from(window_secs)), hi))
}

/// Score one pair.
///
/// `conns` may be in any order and contain hostile values; `dataset_min`/`dataset_max` are the first
/// and last connection start times of the whole dataset (all pairs), epoch seconds. Records before
/// the start of the hour containing the window start are left out (RITA filters on `hour`);
/// records after `dataset_max` stay in (and land in the last bin), as in RITA.
///
/// Work is O(n) for strobes and O(n log n) otherwise, with at most [`MAX_SCORED_CONNS`] records
/// copied. Never panics.
pub fn score_pair(
    conns: &[Conn],
    dataset_min: f64,
    dataset_max: f64,
    cfg: &BeaconConfig,
) -> BeaconResult {
    let span_ok = dataset_min.is_finite() && dataset_max.is_finite();
    let short_window = !span_ok || dataset_max - dataset_min < f64::from(cfg.short_window_secs);
    let window = beacon_window(dataset_min, dataset_max, cfg.window_secs.max(1));
    let (window_start, window_end) = window.unwrap_or((0, 0));
    let mut res = BeaconResult::empty(short_window, window_start, window_end);
    if let Err(e) = cfg.validate() {
        return res.refuse(Ineligible::InvalidConfig(e));
    }
    if window.is_none() {
        return res.refuse(Ineligible::InvalidDatasetRange);
    }
    let from = window_start - window_start.rem_euclid(HOUR);

    // Pass 1: count and total (no allocation), so strobes cost O(n).
    for c in conns {
        let Some(t) = whole_seconds(c.ts) else {
            res.rejected += 1;
            continue;
        };
        if i64::from(t) < from {
            res.outside_window += 1;
            continue;
        }
        res.conn_count += 1;
        if c.duration.is_finite() && c.duration > 0.0 {
            res.total_duration += c.duration;
        }
        res.total_orig_ip_bytes = res.total_orig_ip_bytes.saturating_add(c.orig_ip_bytes);
    }
    if res.conn_count == 0 {
        return res.refuse(Ineligible::NoConnections);
    }
    if res.conn_count >= cfg.strobe_threshold {
        return res.refuse(Ineligible::Strobe);
    }

    // Pass 2: collect at most MAX_SCORED_CONNS in-window records.
    let keep = usize::try_from(res.conn_count)
        .unwrap_or(usize::MAX)
        .min(MAX_SCORED_CONNS);
    res.truncated = res.conn_count > keep as u64;
    let mut ts: Vec<u32> = Vec::with_capacity(keep);
    let mut sizes: Vec<f64> = Vec::with_capacity(keep);
    for c in conns {
        if ts.len() >= keep {
            break;
        }
        if let Some(t) = whole_seconds(c.ts)
            && i64::from(t) >= from
        {
            ts.push(t);
            sizes.push(c.orig_ip_bytes as f64);
        }
    }
    ts.sort_unstable();
    res.first_ts = ts.first().copied();
    res.last_ts = ts.last().copied();
    let mut unique = 0u64;
    let mut prev = None;
    for &t in &ts {
        if prev != Some(t) {
            unique += 1;
            prev = Some(t);
        }
    }
    res.unique_timestamps = unique;
    if unique < cfg.unique_connection_threshold {
        return res.refuse(Ineligible::TooFewUniqueTimestamps {
            unique,
            required: cfg.unique_connection_threshold,
        });
    }

    // With ≥ 4 unique timestamps there are ≥ 3 non-zero intervals and ≥ 4 sizes, and the window is
    // non-empty, so each sub-score exists; the fallbacks only guard against logic errors.
    let ts_detail = timestamp_score(&ts);
    let ds_detail = data_size_score(&sizes);
    let hist_detail = histogram_score(
        window_start,
        window_end,
        &ts,
        cfg.histogram_bins,
        cfg.histogram_mode_sensitivity,
        cfg.histogram_bimodal_outlier_removal,
        cfg.histogram_bimodal_min_hours_seen,
    );
    let (Some(ts_d), Some(ds_d), Some(hist_d)) = (ts_detail, ds_detail, hist_detail) else {
        return res.refuse(Ineligible::TooFewUniqueTimestamps {
            unique,
            required: cfg.unique_connection_threshold,
        });
    };
    let dur_d = duration_score(
        window_start,
        window_end,
        i64::from(res.first_ts.unwrap_or(0)),
        i64::from(res.last_ts.unwrap_or(0)),
        hist_d.bars,
        hist_d.longest_run,
        cfg.duration_min_hours_seen,
        cfg.duration_consistency_ideal_hours_seen,
    )
    .unwrap_or(DurationScore {
        coverage: 0.0,
        consistency: 0.0,
        score: 0.0,
    });
    res.ts = ts_d.score;
    res.ds = ds_d.score;
    res.hist = hist_d.score;
    res.dur = dur_d.score;
    res.score = weighted_score(
        [res.ts, res.ds, res.dur, res.hist],
        [
            cfg.ts_weight,
            cfg.ds_weight,
            cfg.dur_weight,
            cfg.hist_weight,
        ],
    )
    .unwrap_or(0.0);
    res.eligible = true;
    res.ts_detail = Some(ts_d);
    res.ds_detail = Some(ds_d);
    res.hist_detail = Some(hist_d);
    res.dur_detail = Some(dur_d);
    res
}

/// Final beacon score: R3 of the weighted sum of `[ts, ds, dur, hist]` with weights in the same
/// order. `None` when a score or weight lies outside [0, 1] or the weights do not sum to 1 (RITA's
/// `getBeaconScore` errors).
pub fn weighted_score(scores: [f64; 4], weights: [f64; 4]) -> Option<f64> {
    if !scores.iter().all(|s| (0.0..=1.0).contains(s)) {
        return None;
    }
    let [wt, wd, wu, wh] = weights;
    if !weights_ok(wt, wd, wu, wh) {
        return None;
    }
    Some(r3(scores.iter().zip(weights).map(|(s, w)| s * w).sum()))
}

/// Bowley skew of an ascending slice (≥ 3 values): `(skew, 1 − |skew|, quartiles)`.
pub fn bowley_skewness(sorted: &[f64]) -> Option<(f64, f64, Quartiles)> {
    if sorted.len() < 3 {
        return None;
    }
    let q = quartiles_sorted(sorted)?;
    let num = q.q1 + q.q3 - 2.0 * q.q2;
    let den = q.q3 - q.q1;
    let skew = if den >= 10.0 && q.q2 != q.q1 && q.q2 != q.q3 {
        num / den
    } else {
        0.0
    };
    Some((skew, 1.0 - skew.abs(), q))
}

/// MAD score of an ascending slice: `(median, mad, score)`, score = (median − MAD)/median floored
/// at 0 (NaN → 0) when median ≥ 1, else `default_score`.
pub fn mad_score(sorted: &[f64], default_score: f64) -> Option<(f64, f64, f64)> {
    let median = median_sorted(sorted)?;
    let mad = mad_sorted(sorted)?;
    let mut score = if median >= 1.0 {
        (median - mad) / median
    } else {
        default_score
    };
    if score.is_nan() || score < 0.0 {
        score = 0.0;
    }
    Some((median, mad, score))
}

/// RITA's statistical score over any list of values (≥ 3 finite values; non-finite values are
/// dropped first): R3((Bowley skew score + MAD score) / 2). `default_mad_score` applies when the
/// median is below 1 (1 for timestamps, 0 for sizes).
pub fn statistical_score(values: &[f64], default_mad_score: f64) -> Option<StatScore> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    let (skew, skew_score, quartiles) = bowley_skewness(&v)?;
    let (median, mad, mad_score) = mad_score(&v, default_mad_score)?;
    let (mode, mode_count) = mode_sorted(&v);
    Some(StatScore {
        n: v.len(),
        quartiles,
        skew,
        skew_score,
        median,
        mad,
        mad_score,
        score: r3((skew_score + mad_score) / 2.0),
        mode,
        mode_count,
    })
}

/// Most frequent value of an ascending slice, smallest on ties; (0, 0) when empty.
fn mode_sorted(sorted: &[f64]) -> (f64, u64) {
    let mut best = (0.0, 0u64);
    let mut i = 0;
    while let Some(&x) = sorted.get(i) {
        let run = sorted
            .get(i..)
            .map_or(0, |rest| rest.iter().take_while(|&&y| y == x).count());
        let run = run.max(1);
        if run as u64 > best.1 {
            best = (x, run as u64);
        }
        i += run;
    }
    best
}

/// Timestamp score (v5 `getTimestampScore`): needs ≥ 4 timestamps and ≥ 3 non-zero intervals.
/// Timestamps may be in any order (they are sorted first); duplicates give zero intervals, which
/// are dropped from the statistics but counted in the interval mode.
pub fn timestamp_score(timestamps: &[u32]) -> Option<StatScore> {
    if timestamps.len() < 4 {
        return None;
    }
    let mut ts = timestamps.to_vec();
    ts.sort_unstable();
    let mut deltas: Vec<f64> = ts
        .windows(2)
        .map(|w| match w {
            [a, b] => f64::from(b.saturating_sub(*a)),
            _ => 0.0,
        })
        .collect();
    deltas.sort_by(f64::total_cmp);
    let (mode, mode_count) = mode_sorted(&deltas);
    let nonzero_from = deltas.iter().position(|&d| d > 0.0)?;
    let nonzero = deltas.get(nonzero_from..)?;
    if nonzero.len() < 3 {
        return None;
    }
    let mut s = statistical_score(nonzero, 1.0)?;
    s.mode = mode;
    s.mode_count = mode_count;
    Some(s)
}

/// Data-size score (v5 `getDataSizeScore`): needs ≥ 3 sizes; no smallness term.
pub fn data_size_score(sizes: &[f64]) -> Option<StatScore> {
    let finite = sizes.iter().filter(|x| x.is_finite()).count();
    if finite < 3 {
        return None;
    }
    statistical_score(sizes, 0.0)
}

/// Connections per bin: `bins` equal float-width bins over `[dataset_min, dataset_max]`, the last
/// edge forced to `dataset_max`. Timestamps before the range count in the first bin and those at or
/// after the last edge in the last bin, as RITA's walk does. `None` for `max ≤ min`, no bins, more
/// than [`MAX_HISTOGRAM_BINS`], or no timestamps.
pub fn histogram(
    dataset_min: i64,
    dataset_max: i64,
    timestamps: &[u32],
    bins: u32,
) -> Option<Vec<u32>> {
    if dataset_max <= dataset_min || bins == 0 || bins > MAX_HISTOGRAM_BINS || timestamps.is_empty()
    {
        return None;
    }
    let n = bins as usize;
    let lo = dataset_min as f64;
    let step = dataset_max.checked_sub(dataset_min)? as f64 / f64::from(bins);
    // edge(i) for i in 1..n is the upper edge of bin i−1; the last upper edge is dataset_max.
    let upper = |i: usize| -> f64 {
        if i >= n {
            dataset_max as f64
        } else {
            lo + (i as f64) * step
        }
    };
    let mut ts = timestamps.to_vec();
    ts.sort_unstable();
    let mut counts = vec![0u32; n];
    let mut bin = 0usize;
    for t in ts {
        let t = f64::from(t);
        while bin + 1 < n && t >= upper(bin + 1) {
            bin += 1;
        }
        if let Some(c) = counts.get_mut(bin) {
            *c = c.saturating_add(1);
        }
    }
    Some(counts)
}

/// Histogram score (v5 `getHistogramScore`) over the window `[dataset_min, dataset_max]`.
///
/// cv = population SD / mean of all bins; cv score = 0 if cv > 1 else R3(1 − cv). The bimodal fit
/// (only with ≥ `bimodal_min_hours` busy bins; values below 6 are replaced by 11, as RITA does)
/// groups busy bins by `floor(count / w)·w` with `w = ceil(max·sensitivity)` (at least 1), then
/// fit = R3((largest group + second group) / max(bars − outlier_removal, 1)), capped at 1.
pub fn histogram_score(
    dataset_min: i64,
    dataset_max: i64,
    timestamps: &[u32],
    bins: u32,
    mode_sensitivity: f64,
    bimodal_outlier_removal: u32,
    bimodal_min_hours: u32,
) -> Option<HistogramScore> {
    let counts = histogram(dataset_min, dataset_max, timestamps, bins)?;
    let n = counts.len();
    let bars = counts.iter().filter(|&&c| c > 0).count() as u32;
    let largest = counts.iter().copied().max().unwrap_or(0);

    // Longest run of busy bins, wrapping around once.
    let mut longest = 0usize;
    let mut run = 0usize;
    for i in 0..2 * n {
        if counts.get(i % n).is_some_and(|&c| c > 0) {
            run += 1;
        } else {
            longest = longest.max(run);
            run = 0;
        }
    }
    let longest_run = longest.max(run).min(n) as u32;

    let values: Vec<f64> = counts.iter().map(|&c| f64::from(c)).collect();
    let mean = stats::mean(&values)?;
    if mean.is_nan() || mean <= 0.0 {
        return None;
    }
    let cv = population_sd(&values)? / mean.abs();
    let cv_score = if cv > 1.0 { 0.0 } else { r3(1.0 - cv).min(1.0) };

    let min_hours = if bimodal_min_hours < 6 {
        11
    } else {
        bimodal_min_hours
    };
    let mut bimodal_fit = 0.0;
    if bars >= min_hours {
        let width = ((f64::from(largest) * mode_sensitivity).ceil() as u64).max(1);
        let mut keys: Vec<u64> = counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| (u64::from(c) / width) * width)
            .collect();
        keys.sort_unstable();
        let mut groups: Vec<u64> = Vec::new();
        let mut i = 0;
        while let Some(&k) = keys.get(i) {
            let len = keys
                .get(i..)
                .map_or(0, |r| r.iter().take_while(|&&x| x == k).count())
                .max(1);
            groups.push(len as u64);
            i += len;
        }
        groups.sort_unstable_by(|a, b| b.cmp(a));
        let top2 = groups.iter().take(2).sum::<u64>() as f64;
        let denom = (f64::from(bars) - f64::from(bimodal_outlier_removal)).max(1.0);
        bimodal_fit = r3(top2 / denom).min(1.0);
    }
    Some(HistogramScore {
        bins: counts,
        bars,
        longest_run,
        cv_score,
        bimodal_fit,
        score: cv_score.max(bimodal_fit),
    })
}

/// Duration score (v5 `getDurationScore`). `None` for invalid input (min-hours or ideal-hours 0,
/// `dataset_max ≤ dataset_min`, `last ≤ first`). With fewer than `min_hours` busy bins every part
/// is 0; otherwise coverage = ceil3((last − first)/(max − min)) and consistency =
/// ceil3(longest_run / ideal_hours), each capped at 1, and the score is their maximum.
#[allow(clippy::too_many_arguments)]
pub fn duration_score(
    dataset_min: i64,
    dataset_max: i64,
    first: i64,
    last: i64,
    bars: u32,
    longest_run: u32,
    min_hours: u32,
    ideal_hours: u32,
) -> Option<DurationScore> {
    if min_hours < 1 || ideal_hours < 1 || dataset_max <= dataset_min || last <= first {
        return None;
    }
    let span = dataset_max.checked_sub(dataset_min)? as f64;
    let seen = last.checked_sub(first)? as f64;
    if bars < min_hours {
        return Some(DurationScore {
            coverage: 0.0,
            consistency: 0.0,
            score: 0.0,
        });
    }
    let coverage = ceil3(seen / span).min(1.0);
    let consistency = ceil3(f64::from(longest_run) / f64::from(ideal_hours)).min(1.0);
    Some(DurationScore {
        coverage,
        consistency,
        score: coverage.max(consistency),
    })
}
