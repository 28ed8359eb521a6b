//! The handful of statistics RITA v5 takes from Go's `montanaflynn/stats`, re-expressed with the same
//! definitions (spec `network.md` §1.3), plus RITA's two rounding helpers.
//!
//! * `median` averages the two middle values for an even count;
//! * `quartiles` are Tukey hinges: Q2 is the median, Q1/Q3 are the medians of the lower/upper half,
//!   and for an odd count the middle element belongs to neither half;
//! * `MAD` is the raw median absolute deviation (no 1.4826 consistency factor);
//! * the standard deviation is the population one (divide by n).
//!
//! Every function takes an arbitrary slice and never panics. Functions named `*_sorted` expect an
//! ascending slice (as produced by [`sorted_copy`]); given an unsorted one they return a value that
//! is merely meaningless, never a panic. NaN sorts last under [`f64::total_cmp`]; callers that want
//! RITA's numbers drop non-finite values first (the scoring code does).

/// `math.Round(x*1000)/1000`: round half away from zero to three decimals.
pub fn r3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `math.Ceil(x*1000)/1000`: round up to three decimals.
pub fn ceil3(x: f64) -> f64 {
    (x * 1000.0).ceil() / 1000.0
}

/// An ascending copy (total order: -inf < finite < +inf < NaN).
pub fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Median of an ascending slice; `None` when empty.
pub fn median_sorted(sorted: &[f64]) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    if n % 2 == 1 {
        sorted.get(mid).copied()
    } else {
        let lo = *sorted.get(mid.checked_sub(1)?)?;
        let hi = *sorted.get(mid)?;
        Some((lo + hi) / 2.0)
    }
}

/// Median of any slice (sorts a copy).
pub fn median(values: &[f64]) -> Option<f64> {
    median_sorted(&sorted_copy(values))
}

/// Tukey-hinge quartiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quartiles {
    pub q1: f64,
    pub q2: f64,
    pub q3: f64,
}

/// Quartiles of an ascending slice: `None` for fewer than two values (a half would be empty).
pub fn quartiles_sorted(sorted: &[f64]) -> Option<Quartiles> {
    let n = sorted.len();
    if n < 2 {
        return None;
    }
    // Even n: halves [0, n/2) and [n/2, n). Odd n: [0, (n-1)/2) and [(n+1)/2, n).
    let (lower_end, upper_start) = if n.is_multiple_of(2) {
        (n / 2, n / 2)
    } else {
        (n / 2, n / 2 + 1)
    };
    Some(Quartiles {
        q1: median_sorted(sorted.get(..lower_end)?)?,
        q2: median_sorted(sorted)?,
        q3: median_sorted(sorted.get(upper_start..)?)?,
    })
}

/// Raw median absolute deviation of an ascending slice: median(|x - median(x)|).
pub fn mad_sorted(sorted: &[f64]) -> Option<f64> {
    let m = median_sorted(sorted)?;
    let deviations: Vec<f64> = sorted.iter().map(|x| (x - m).abs()).collect();
    median(&deviations)
}

/// Arithmetic mean; `None` when empty.
pub fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// Population standard deviation (divide by n); `None` when empty.
pub fn population_sd(values: &[f64]) -> Option<f64> {
    let m = mean(values)?;
    let var = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / values.len() as f64;
    Some(var.sqrt())
}
