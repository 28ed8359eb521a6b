//! Unit tests: every reference vector of spec §3 (activecm/rita `analysis/beacons_test.go`), further
//! rows of that file, whole-pair scoring, and a deterministic robustness run. The §2 analytics are
//! tested in `analytics_tests.rs`.

use super::analytics::*;
use super::stats::*;
use super::*;

const T0: u32 = 1_517_338_924;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[track_caller]
fn assert_close(actual: f64, expected: f64, tol: f64) {
    assert!(
        close(actual, expected, tol),
        "expected {expected} ± {tol}, got {actual}"
    );
}

/// Timestamps as cumulative sums of `intervals` from `t0`.
fn ts_from_intervals(t0: u32, intervals: &[u32]) -> Vec<u32> {
    let mut out = vec![t0];
    let mut t = t0;
    for &i in intervals {
        t += i;
        out.push(t);
    }
    out
}

fn conns_at(ts: &[u32], bytes: u64) -> Vec<Conn> {
    ts.iter()
        .map(|&t| Conn {
            ts: f64::from(t),
            orig_ip_bytes: bytes,
            duration: 1.0,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Statistics

#[test]
fn median_quartiles_mad_follow_montanaflynn() {
    assert_eq!(median(&[]), None);
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    // Odd n: middle element excluded from both halves.
    let q = quartiles_sorted(&[1.0, 2.0, 25.0, 42.0, 90.0, 299.0, 500.0, 1500.0, 4975.0]).unwrap();
    assert_eq!((q.q1, q.q2, q.q3), (13.5, 90.0, 1000.0));
    // Even n.
    let s: Vec<f64> = (1..=10).map(f64::from).collect();
    let q = quartiles_sorted(&s).unwrap();
    assert_eq!((q.q1, q.q2, q.q3), (3.0, 5.5, 8.0));
    assert_eq!(quartiles_sorted(&[1.0]), None);
    let q = quartiles_sorted(&[1.0, 9.0]).unwrap();
    assert_eq!((q.q1, q.q2, q.q3), (1.0, 5.0, 9.0));
    assert_eq!(mad_sorted(&s), Some(2.5));
    assert_eq!(mad_sorted(&[]), None);
    assert_eq!(
        population_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
        Some(2.0)
    );
    assert_eq!(population_sd(&[]), None);
}

#[test]
fn rounding_helpers() {
    // Exactly representable halves: round half away from zero.
    assert_eq!(r3(0.0625), 0.063);
    assert_eq!(r3(-0.0625), -0.063);
    assert_eq!(r3(0.4774), 0.477);
    assert_eq!(ceil3(0.0001), 0.001);
    assert_eq!(ceil3(0.5), 0.5);
    assert_eq!(ceil3(0.8901), 0.891);
}

// ---------------------------------------------------------------------------------------------
// Spec §3 vectors (beacons_test.go)

#[test]
fn v3_ts_closely_valued_intervals() {
    let ts = ts_from_intervals(T0, &[98, 99, 99, 100, 100, 100, 101, 101, 102]);
    let s = timestamp_score(&ts).unwrap();
    assert_eq!(s.skew, 0.0);
    assert_eq!(s.mad, 1.0);
    assert_eq!(
        (s.quartiles.q1, s.quartiles.q2, s.quartiles.q3),
        (99.0, 100.0, 101.0)
    );
    assert_eq!(s.score, 0.995);
    assert_eq!((s.mode, s.mode_count), (100.0, 3));
}

#[test]
fn v3_ts_bimodal_intervals() {
    let mut iv = Vec::new();
    for _ in 0..5 {
        iv.extend([98, 300]);
    }
    let ts = ts_from_intervals(T0, &iv);
    assert_eq!(ts.len(), 11);
    let s = timestamp_score(&ts).unwrap();
    assert_eq!(
        (s.quartiles.q1, s.quartiles.q2, s.quartiles.q3),
        (98.0, 199.0, 300.0)
    );
    assert_eq!(s.skew, 0.0);
    assert_eq!(s.mad, 101.0);
    assert_eq!(s.score, 0.746);
    assert_eq!((s.mode, s.mode_count), (98.0, 5));
}

#[test]
fn v3_ts_random_intervals() {
    let ts = ts_from_intervals(T0, &[1, 299, 25, 4975, 90, 2, 42, 500, 1500]);
    // The RITA list, literally.
    assert_eq!(
        ts,
        [
            1517338924, 1517338925, 1517339224, 1517339249, 1517344224, 1517344314, 1517344316,
            1517344358, 1517344858, 1517346358
        ]
    );
    let s = timestamp_score(&ts).unwrap();
    assert_close(s.skew, 0.845, 0.001);
    assert_eq!(s.mad, 89.0);
    assert_eq!(s.score, 0.083);
    assert_eq!((s.mode, s.mode_count), (1.0, 1));
}

#[test]
fn v3_ds_sizes_one_to_ten() {
    let sizes: Vec<f64> = (1..=10).map(f64::from).collect();
    let s = data_size_score(&sizes).unwrap();
    assert_eq!(
        (s.quartiles.q1, s.quartiles.q2, s.quartiles.q3),
        (3.0, 5.5, 8.0)
    );
    assert_eq!(s.skew, 0.0);
    assert_eq!(s.mad, 2.5);
    assert_eq!(s.score, 0.773);
}

#[test]
fn v3_ds_all_zero() {
    let s = data_size_score(&[0.0; 10]).unwrap();
    assert_eq!(s.skew, 0.0);
    assert_eq!(s.mad, 0.0);
    assert_eq!(s.mad_score, 0.0);
    assert_eq!(s.score, 0.5);
    assert_eq!((s.mode, s.mode_count), (0.0, 10));
}

#[test]
fn v3_ds_random_sizes() {
    let s = data_size_score(&[524885.0, 1.0, 5000.0, 98654.0, 50.0, 41.0, 965842.0, 3.0]).unwrap();
    assert_eq!(
        (s.quartiles.q1, s.quartiles.q2, s.quartiles.q3),
        (22.0, 2525.0, 311769.5)
    );
    assert_close(s.skew, 0.984, 0.001);
    assert_eq!(s.mad, 2523.0);
    assert_eq!(s.score, 0.008);
}

#[test]
fn v3_hist_one_to_ten_in_ten_bins() {
    let mut ts = Vec::new();
    for k in 1..=10u32 {
        ts.extend(std::iter::repeat_n(k, k as usize));
    }
    let h = histogram_score(1, 11, &ts, 10, 0.05, 1, 6).unwrap();
    assert_eq!(h.bins, (1..=10).collect::<Vec<u32>>());
    assert_eq!(h.bars, 10);
    assert_eq!(h.longest_run, 10);
    let values: Vec<f64> = h.bins.iter().map(|&c| f64::from(c)).collect();
    let cv = population_sd(&values).unwrap() / mean(&values).unwrap();
    assert_eq!(r3(cv), 0.522);
    assert_eq!(h.cv_score, 0.478);
    assert_eq!(h.bimodal_fit, 0.222);
    assert_eq!(h.score, 0.478);
}

#[test]
fn v3_hist_one_connection_per_hour() {
    let ts: Vec<u32> = (0..24).map(|h| T0 + h * 3600).collect();
    let h = histogram_score(i64::from(T0), i64::from(T0) + 86_400, &ts, 24, 0.05, 1, 11).unwrap();
    assert_eq!(h.bins, vec![1; 24]);
    assert_eq!((h.bars, h.longest_run), (24, 24));
    assert_eq!(h.cv_score, 1.0);
    assert_eq!(h.score, 1.0);
}

#[test]
fn v3_dur_twelve_hours_of_twenty_four() {
    let lo = i64::from(T0);
    let hi = lo + 86_400;
    // Second half of the window.
    let d = duration_score(lo, hi, lo + 12 * 3600, hi, 6, 0, 6, 12).unwrap();
    assert_eq!((d.coverage, d.consistency, d.score), (0.5, 0.0, 0.5));
    // First half.
    let d = duration_score(lo, hi, lo, lo + 12 * 3600, 6, 0, 6, 12).unwrap();
    assert_eq!((d.coverage, d.consistency, d.score), (0.5, 0.0, 0.5));
}

// ---------------------------------------------------------------------------------------------
// Further rows of beacons_test.go

#[test]
fn rita_more_timestamp_rows() {
    let ts: Vec<u32> = (1..=10).collect();
    let s = timestamp_score(&ts).unwrap();
    assert_eq!((s.skew, s.mad, s.score), (0.0, 0.0, 1.0));
    let ts: Vec<u32> = (0..10).map(|k| T0 + 60 * k).collect();
    let s = timestamp_score(&ts).unwrap();
    assert_eq!(
        (s.skew, s.mad, s.score, s.mode, s.mode_count),
        (0.0, 0.0, 1.0, 60.0, 9)
    );
    // Errors: all equal (no non-zero interval), fewer than 4, empty.
    assert!(timestamp_score(&[60; 9]).is_none());
    assert!(timestamp_score(&[T0, T0 + 1]).is_none());
    assert!(timestamp_score(&[]).is_none());
    // Four timestamps, two distinct: only one non-zero interval.
    assert!(timestamp_score(&[10, 10, 10, 20]).is_none());
}

#[test]
fn rita_more_size_and_statistical_rows() {
    assert_eq!(data_size_score(&[60.0; 9]).unwrap().score, 1.0);
    let s = data_size_score(&[98.0, 99.0, 99.0, 100.0, 100.0, 100.0, 101.0, 101.0, 102.0]).unwrap();
    assert_eq!((s.mad, s.score), (1.0, 0.995));
    assert!(data_size_score(&[100.0, 200.0]).is_none());
    assert!(data_size_score(&[]).is_none());

    // calculateStatisticalScore rows.
    let s = statistical_score(
        &[1.0, 299.0, 25.0, 4975.0, 90.0, 2.0, 42.0, 500.0, 1500.0],
        1.0,
    )
    .unwrap();
    assert_eq!(s.score, 0.083);
    let s = statistical_score(
        &[524885.0, 1.0, 5000.0, 98654.0, 50.0, 41.0, 965842.0, 3.0],
        0.0,
    )
    .unwrap();
    assert_close(s.skew, 0.983, 0.0015);
    assert_close(s.score, 0.009, 0.001);
    assert_eq!(statistical_score(&[0.0; 10], 1.0).unwrap().score, 1.0);
    let neg: Vec<f64> = (1..=10).map(|x| -f64::from(x)).collect();
    let s = statistical_score(&neg, 0.0).unwrap();
    assert_eq!((s.skew, s.mad, s.score), (0.0, 2.5, 0.5));
    // Bowley unreliable: Q1 == Q2, and Q2 == Q3.
    let s = statistical_score(&[7.0, 8.0, 7.0, 8.0, 7.0, 8.0, 7.0, 8.0, 7.0], 1.0).unwrap();
    assert_eq!((s.skew, s.mad, s.score), (0.0, 0.0, 1.0));
    let s = statistical_score(&[1.0, 1.0, 2.0, 2.0, 2.0, 2.0], 1.0).unwrap();
    assert_eq!((s.skew, s.mad, s.score), (0.0, 0.0, 1.0));
    assert!(statistical_score(&[], 0.0).is_none());
    // Non-finite values are dropped, not propagated.
    let s = statistical_score(&[f64::NAN, 60.0, f64::INFINITY, 60.0, 60.0], 0.0).unwrap();
    assert_eq!((s.n, s.score), (3, 1.0));
}

#[test]
fn rita_more_histogram_rows() {
    let h = histogram_score(
        98,
        102,
        &[98, 99, 99, 100, 100, 100, 101, 101, 102],
        8,
        0.05,
        1,
        6,
    )
    .unwrap();
    assert_eq!(h.bins, [1, 0, 2, 0, 3, 0, 2, 1]);
    assert_eq!((h.bars, h.longest_run), (5, 3));
    assert_eq!(h.score, 0.064);

    let ts = [
        524885, 1, 5000, 98654, 50, 41, 965842, 3, 12001, 200400, 104001, 199999,
    ];
    let h = histogram_score(0, 1_000_000, &ts, 10, 0.05, 1, 6).unwrap();
    assert_eq!(h.bins, [7, 2, 1, 0, 0, 1, 0, 0, 0, 1]);
    assert_eq!((h.bars, h.longest_run), (5, 4));
    assert_eq!(h.score, 0.0);

    let ts = [
        1, 2, 3, 4, 15, 21, 22, 23, 24, 35, 41, 42, 43, 44, 55, 61, 62, 63, 64, 75, 81, 82, 83, 84,
        95,
    ];
    let h = histogram_score(0, 100, &ts, 10, 0.05, 1, 6).unwrap();
    assert_eq!(h.bins, [4, 1, 4, 1, 4, 1, 4, 1, 4, 1]);
    assert_eq!((h.bars, h.longest_run), (10, 10));
    assert_eq!(h.cv_score, 0.4);
    assert_eq!(h.bimodal_fit, 1.0);
    assert_eq!(h.score, 1.0);

    let h = histogram_score(0, 250, &[10, 20, 100, 110, 110, 220], 5, 0.05, 1, 6).unwrap();
    assert_eq!(h.bins, [2, 0, 3, 0, 1]);
    assert_eq!((h.bars, h.longest_run), (3, 2));
    assert_eq!(h.score, 0.028);

    let ts: Vec<u32> = (0..10).map(|k| T0 + 60 * k).collect();
    let lo = i64::from(T0);
    for min_hours in [11, 1] {
        // min_hours below 6 falls back to 11, so one bar never counts as "bimodal".
        let h = histogram_score(lo, lo + 86_400, &ts, 24, 0.05, 1, min_hours).unwrap();
        assert_eq!(h.bins.first(), Some(&10));
        assert_eq!((h.bars, h.longest_run, h.score), (1, 1, 0.0));
    }

    assert!(histogram_score(0, 10, &[], 24, 0.05, 1, 11).is_none());
    // Ranges whose width overflows i64 are refused, not wrapped.
    assert!(histogram_score(i64::MIN, i64::MAX, &[1, 2, 3], 24, 0.05, 1, 11).is_none());
    assert!(duration_score(i64::MIN, i64::MAX, 0, 1, 24, 24, 6, 12).is_none());
    assert!(duration_score(0, 10, i64::MIN, i64::MAX, 24, 24, 6, 12).is_none());
    assert!(histogram_score(1, 0, &[1, 2, 3], 24, 0.05, 1, 11).is_none());
    assert!(histogram_score(1, 1, &[1; 10], 24, 0.05, 1, 11).is_none());
}

#[test]
fn rita_duration_rows() {
    let lo = i64::from(T0);
    let hi = lo + 86_400;
    let h = |n: i64| lo + n * 3600;
    let cases = [
        (lo, hi, 24, 24, (1.0, 1.0, 1.0)),
        (lo, hi, 6, 0, (1.0, 0.0, 1.0)),
        (h(6), hi, 6, 0, (0.75, 0.0, 0.75)),
        (h(12), hi, 12, 12, (0.5, 1.0, 1.0)),
        (h(12), h(18), 6, 6, (0.25, 0.5, 0.5)),
        (h(6), h(18), 12, 6, (0.5, 0.5, 0.5)),
        (h(6), h(18), 3, 1, (0.0, 0.0, 0.0)),
    ];
    for (first, last, bars, run, (cov, con, score)) in cases {
        let d = duration_score(lo, hi, first, last, bars, run, 6, 12).unwrap();
        assert_eq!(
            (d.coverage, d.consistency, d.score),
            (cov, con, score),
            "{first} {last} {bars} {run}"
        );
    }
    assert!(duration_score(lo, hi, lo, hi, 12, 6, 6, 0).is_none());
    assert!(duration_score(lo, hi, lo, hi, 12, 6, 0, 12).is_none());
    assert!(duration_score(1, 0, 0, 1, 6, 12, 6, 12).is_none());
    assert!(duration_score(0, 1, 1, 0, 6, 12, 6, 12).is_none());
}

#[test]
fn rita_weighted_score_rows() {
    let w = |a, b, c, d| [a, b, c, d];
    assert_eq!(
        weighted_score([0.8, 0.7, 0.6, 0.5], w(0.2, 0.2, 0.3, 0.3)),
        Some(0.63)
    );
    assert_eq!(
        weighted_score([1.0; 4], w(0.25, 0.25, 0.25, 0.25)),
        Some(1.0)
    );
    assert_eq!(weighted_score([1.0; 4], w(0.1, 0.2, 0.3, 0.4)), Some(1.0));
    assert_eq!(
        weighted_score([0.1, 0.2, 0.3, 0.4], w(0.25, 0.25, 0.25, 0.25)),
        Some(0.25)
    );
    assert_eq!(
        weighted_score([0.1, 0.2, 0.3, 0.4], w(0.1, 0.2, 0.3, 0.4)),
        Some(0.3)
    );
    assert_eq!(
        weighted_score([0.111, 0.222, 0.333, 0.444], w(0.173, 0.325, 0.299, 0.203)),
        Some(0.281)
    );
    let s = weighted_score(
        [0.1001, 0.1002, 0.1003, 0.1004],
        w(0.249, 0.251, 0.25, 0.25),
    )
    .unwrap();
    assert_close(s, 0.10025, 0.001);
    assert_eq!(
        weighted_score([0.25, 1.0, 1.0, 1.0], w(1.0, 0.0, 0.0, 0.0)),
        Some(0.25)
    );
    assert_eq!(
        weighted_score([-0.1, 0.5, 0.5, 0.5], w(0.25, 0.25, 0.25, 0.25)),
        None
    );
    assert_eq!(
        weighted_score([1.1, 0.5, 0.5, 0.5], w(0.25, 0.25, 0.25, 0.25)),
        None
    );
    assert_eq!(weighted_score([0.5; 4], w(-0.1, 0.25, 0.25, 0.25)), None);
    assert_eq!(weighted_score([0.5; 4], w(1.1, 0.25, 0.25, 0.25)), None);
    assert_eq!(weighted_score([0.5; 4], w(0.3, 0.3, 0.3, 0.3)), None);
    assert_eq!(weighted_score([0.5; 4], w(0.3, 0.3, 0.2, 0.1)), None);
    assert_eq!(weighted_score([0.5; 4], w(0.3, 0.3, 0.3, 0.2)), None);
    assert_eq!(
        weighted_score([f64::NAN, 0.5, 0.5, 0.5], w(0.25, 0.25, 0.25, 0.25)),
        None
    );
}

// ---------------------------------------------------------------------------------------------
// Whole pairs

#[test]
fn periodic_two_second_beacon_over_665_seconds() {
    // Like slips-test-cc-capture-1: curl every 2 s, 297 connections in a 665 s capture.
    let t0 = 1_707_400_000u32;
    let ts: Vec<u32> = (0..297).map(|k| t0 + 2 * k).collect();
    let conns = conns_at(&ts, 517);
    let r = score_pair(
        &conns,
        f64::from(t0),
        f64::from(t0) + 665.08,
        &BeaconConfig::default(),
    );
    assert!(r.eligible && !r.strobe && r.ineligible.is_none());
    assert!(r.short_window);
    assert_eq!(
        (r.conn_count, r.unique_timestamps, r.rejected),
        (297, 297, 0)
    );
    assert_eq!((r.ts, r.ds), (1.0, 1.0));
    assert_eq!(r.median_interval(), Some(2.0));
    let h = r.hist_detail.as_ref().unwrap();
    // 24 bins of 27.7 s: 13–14 connections each, the last two after the beacon stopped empty.
    assert_eq!(h.bins.len(), 24);
    assert_eq!(h.bins.iter().sum::<u32>(), 297);
    assert_eq!((h.bars, h.longest_run), (22, 22));
    assert_eq!(h.cv_score, 0.672);
    assert_eq!(h.bimodal_fit, 1.0);
    assert_eq!(r.hist, 1.0);
    let d = r.dur_detail.unwrap();
    assert_eq!((d.coverage, d.consistency), (0.891, 1.0));
    assert_eq!(r.dur, 1.0);
    assert_eq!(r.score, 1.0);
    assert_eq!(r.total_duration, 297.0);
    assert_eq!(r.total_orig_ip_bytes, 297 * 517);
    assert_eq!(r.threat_score(), 0.8);
}

#[test]
fn unit42_emotet_c2_bursts_from_spec_section_10() {
    // 10.1.6.206 → 5.2.136.90 in unit42-emotet-2021-01-06: bursts at these offsets from the capture
    // start (2021-01-06 16:41:15 UTC), capture 5,903.38 s long. Spec: ts 0.859, median gap 949 s.
    let start = 1_609_951_275u32;
    let offsets = [79u32, 1039, 1969, 2951, 3867, 4820, 5765];
    let ts: Vec<u32> = offsets.iter().map(|o| start + o).collect();
    let s = timestamp_score(&ts).unwrap();
    assert_eq!(s.median, 949.0);
    assert_eq!(s.score, 0.859);
    let conns = conns_at(&ts, 20_000);
    let r = score_pair(
        &conns,
        f64::from(start),
        f64::from(start) + 5903.38,
        &BeaconConfig::default(),
    );
    assert!(r.eligible && r.short_window);
    assert_eq!((r.conn_count, r.ts), (7, 0.859));
    assert_eq!(r.median_interval(), Some(949.0));
}

#[test]
fn hourly_beacon_over_a_day_is_not_short() {
    let ts: Vec<u32> = (0..24).map(|h| T0 + h * 3600 + 7).collect();
    let conns = conns_at(&ts, 300);
    let r = score_pair(
        &conns,
        f64::from(T0),
        f64::from(T0 + 86_400),
        &BeaconConfig::default(),
    );
    assert!(r.eligible && !r.short_window);
    assert_eq!(
        (r.ts, r.ds, r.hist, r.dur, r.score),
        (1.0, 1.0, 1.0, 1.0, 1.0)
    );
}

#[test]
fn strobe_at_86400_connections() {
    let conns: Vec<Conn> = (0..86_400u32)
        .map(|k| Conn {
            ts: f64::from(T0 + k / 2),
            orig_ip_bytes: 60,
            duration: 0.0,
        })
        .collect();
    let r = score_pair(
        &conns,
        f64::from(T0),
        f64::from(T0 + 86_400),
        &BeaconConfig::default(),
    );
    assert!(r.strobe && !r.eligible);
    assert_eq!(r.ineligible, Some(Ineligible::Strobe));
    assert_eq!(r.conn_count, 86_400);
    assert_eq!((r.score, r.threat_score()), (0.0, 0.0));
    // One fewer is scored.
    let r = score_pair(
        &conns[1..],
        f64::from(T0),
        f64::from(T0 + 86_400),
        &BeaconConfig::default(),
    );
    assert!(!r.strobe && r.eligible);
    assert_eq!(r.conn_count, 86_399);
}

#[test]
fn truncation_when_strobe_threshold_is_raised() {
    let cfg = BeaconConfig {
        strobe_threshold: 200_000,
        ..BeaconConfig::default()
    };
    let conns: Vec<Conn> = (0..86_401u32)
        .map(|k| Conn {
            ts: f64::from(T0 + k),
            orig_ip_bytes: 60,
            duration: 0.0,
        })
        .collect();
    let r = score_pair(&conns, f64::from(T0), f64::from(T0 + 86_400), &cfg);
    assert!(r.eligible && r.truncated);
    assert_eq!(r.conn_count, 86_401);
    assert_eq!(r.unique_timestamps, MAX_SCORED_CONNS as u64);
}

#[test]
fn fewer_than_four_unique_timestamps_is_ineligible() {
    // 30 connections but only 3 distinct seconds (fractions are cut off).
    let conns: Vec<Conn> = (0..30)
        .map(|k| Conn {
            ts: f64::from(T0 + (k % 3) * 600) + 0.25 * f64::from(k % 4),
            orig_ip_bytes: 100,
            duration: 2.0,
        })
        .collect();
    let r = score_pair(
        &conns,
        f64::from(T0),
        f64::from(T0 + 7200),
        &BeaconConfig::default(),
    );
    assert!(!r.eligible && !r.strobe);
    assert_eq!(
        r.ineligible,
        Some(Ineligible::TooFewUniqueTimestamps {
            unique: 3,
            required: 4
        })
    );
    assert_eq!(r.conn_count, 30);
    assert_eq!(r.score, 0.0);
    // A fourth distinct second makes it eligible.
    let mut more = conns.clone();
    more.push(Conn {
        ts: f64::from(T0 + 1800),
        orig_ip_bytes: 100,
        duration: 2.0,
    });
    assert!(
        score_pair(
            &more,
            f64::from(T0),
            f64::from(T0 + 7200),
            &BeaconConfig::default()
        )
        .eligible
    );
}

#[test]
fn order_of_records_does_not_matter() {
    let ts = ts_from_intervals(T0, &[1, 299, 25, 4975, 90, 2, 42, 500, 1500]);
    let mut conns: Vec<Conn> = ts
        .iter()
        .enumerate()
        .map(|(i, &t)| Conn {
            ts: f64::from(t) + 0.9,
            orig_ip_bytes: 100 + (i as u64 % 3),
            duration: 0.5,
        })
        .collect();
    let cfg = BeaconConfig::default();
    let (lo, hi) = (f64::from(T0), f64::from(T0 + 10_000));
    let a = score_pair(&conns, lo, hi, &cfg);
    conns.reverse();
    conns.swap(2, 7);
    let b = score_pair(&conns, lo, hi, &cfg);
    assert!(a.eligible);
    assert_eq!(a, b);
    assert_eq!(a.ts, 0.083);
}

#[test]
fn hostile_records_are_counted_not_scored() {
    let mut conns = conns_at(&(0..10).map(|k| T0 + 60 * k).collect::<Vec<_>>(), 90);
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 5.0e9] {
        conns.push(Conn {
            ts: bad,
            orig_ip_bytes: u64::MAX,
            duration: f64::NAN,
        });
    }
    conns.push(Conn {
        ts: f64::from(T0 + 30),
        orig_ip_bytes: u64::MAX,
        duration: f64::INFINITY,
    });
    let r = score_pair(
        &conns,
        f64::from(T0),
        f64::from(T0 + 3600),
        &BeaconConfig::default(),
    );
    assert_eq!(r.rejected, 5);
    assert_eq!(r.conn_count, 11);
    assert_eq!(r.total_duration, 10.0);
    assert_eq!(r.total_orig_ip_bytes, u64::MAX);
    assert!(r.eligible);
    assert!((0.0..=1.0).contains(&r.score));
}

#[test]
fn empty_and_invalid_ranges() {
    let cfg = BeaconConfig::default();
    let r = score_pair(&[], 0.0, 100.0, &cfg);
    assert_eq!(r.ineligible, Some(Ineligible::NoConnections));
    let conns = conns_at(&[T0, T0 + 1, T0 + 2, T0 + 3], 1);
    for (lo, hi) in [
        (100.0, 100.0),
        (200.0, 100.0),
        (f64::NAN, 1.0),
        (0.0, f64::INFINITY),
        (-5.0, 10.0),
    ] {
        let r = score_pair(&conns, lo, hi, &cfg);
        assert_eq!(
            r.ineligible,
            Some(Ineligible::InvalidDatasetRange),
            "{lo} {hi}"
        );
        assert!(!r.eligible);
    }
    let bad = BeaconConfig {
        ts_weight: 0.5,
        ..BeaconConfig::default()
    };
    let r = score_pair(&conns, f64::from(T0), f64::from(T0 + 10), &bad);
    assert!(matches!(
        r.ineligible,
        Some(Ineligible::InvalidConfig(BeaconConfigError::Weights { .. }))
    ));
}

#[test]
fn config_validation() {
    assert_eq!(BeaconConfig::default().validate(), Ok(()));
    let base = BeaconConfig::default();
    let bad = [
        BeaconConfig {
            unique_connection_threshold: 3,
            ..base.clone()
        },
        BeaconConfig {
            histogram_bins: 0,
            ..base.clone()
        },
        BeaconConfig {
            histogram_bins: MAX_HISTOGRAM_BINS + 1,
            ..base.clone()
        },
        BeaconConfig {
            histogram_mode_sensitivity: 0.0,
            ..base.clone()
        },
        BeaconConfig {
            histogram_bimodal_min_hours_seen: 2,
            ..base.clone()
        },
        BeaconConfig {
            duration_min_hours_seen: 0,
            ..base.clone()
        },
        BeaconConfig {
            duration_consistency_ideal_hours_seen: 0,
            ..base.clone()
        },
        BeaconConfig {
            strobe_threshold: 0,
            ..base.clone()
        },
        BeaconConfig {
            window_secs: 0,
            ..base.clone()
        },
        BeaconConfig {
            hist_weight: f64::NAN,
            ..base.clone()
        },
    ];
    for c in bad {
        assert!(c.validate().is_err(), "{c:?}");
    }
    let ok = BeaconConfig {
        ts_weight: 0.1,
        ds_weight: 0.2,
        dur_weight: 0.3,
        hist_weight: 0.4,
        ..base
    };
    assert_eq!(ok.validate(), Ok(()));
}

#[test]
fn window_is_the_last_day_from_the_start_of_its_hour() {
    // Three days of data; the window starts at max − 24 h = T0 + 2 days + 1000 s, and RITA keeps
    // everything from the start of that hour.
    let lo = T0;
    let hi = T0 + 3 * 86_400 + 1000;
    let (ws, we) = beacon_window(f64::from(lo), f64::from(hi), 86_400).unwrap();
    assert_eq!((ws, we), (i64::from(hi) - 86_400, i64::from(hi)));
    let hour_start = (ws / 3600) * 3600;
    let mut ts: Vec<u32> = (0..72).map(|h| lo + h * 3600).collect();
    ts.push(hour_start as u32); // in (start of the window's hour)
    ts.push(hour_start as u32 - 1); // out
    let conns = conns_at(&ts, 64);
    let r = score_pair(
        &conns,
        f64::from(lo),
        f64::from(hi),
        &BeaconConfig::default(),
    );
    let inside = ts.iter().filter(|&&t| i64::from(t) >= hour_start).count() as u64;
    assert_eq!(r.conn_count, inside);
    assert_eq!(r.outside_window, ts.len() as u64 - inside);
    assert_eq!((r.window_start, r.window_end), (ws, we));
    assert!(r.first_ts.is_some_and(|f| i64::from(f) == hour_start));
    // A dataset shorter than the window uses the whole dataset.
    assert_eq!(beacon_window(100.0, 5000.5, 86_400), Some((100, 5000)));
    assert_eq!(beacon_window(100.0, 100.9, 86_400), None);
}

// ---------------------------------------------------------------------------------------------
// Robustness

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn hostile_f64(x: &mut u64, around: f64) -> f64 {
    match xorshift(x) % 8 {
        0 => f64::from_bits(xorshift(x)),
        1 => [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            f64::MAX,
            f64::MIN_POSITIVE,
        ][(xorshift(x) % 6) as usize],
        2 => (xorshift(x) % 5_000_000_000) as f64,
        _ => around + (xorshift(x) % 200_000) as f64 / 3.0,
    }
}

#[test]
fn mutation_robustness_never_panics() {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let base = f64::from(T0);
    let (mut eligible, mut refused) = (0, 0);
    for round in 0..400 {
        let n = (xorshift(&mut x) % 300) as usize;
        let period = 1 + xorshift(&mut x) % 900;
        let conns: Vec<Conn> = (0..n)
            .map(|k| {
                let regular = base + (k as u64 * period) as f64;
                Conn {
                    ts: if xorshift(&mut x).is_multiple_of(5) {
                        hostile_f64(&mut x, base)
                    } else {
                        regular
                    },
                    orig_ip_bytes: if xorshift(&mut x).is_multiple_of(3) {
                        xorshift(&mut x)
                    } else {
                        400 + xorshift(&mut x) % 9
                    },
                    duration: hostile_f64(&mut x, 1.0),
                }
            })
            .collect();
        let lo = if round % 7 == 0 {
            hostile_f64(&mut x, base)
        } else {
            base - 10.0
        };
        let hi = if round % 11 == 0 {
            hostile_f64(&mut x, base)
        } else {
            base + (n as u64 * period) as f64
        };
        let mut cfg = BeaconConfig::default();
        if round % 5 == 0 {
            cfg.histogram_bins = (xorshift(&mut x) % 200) as u32;
            cfg.histogram_mode_sensitivity = hostile_f64(&mut x, 0.5);
            cfg.unique_connection_threshold = xorshift(&mut x) % 10;
            cfg.strobe_threshold = xorshift(&mut x) % 400;
            cfg.histogram_bimodal_min_hours_seen = (xorshift(&mut x) % 30) as u32;
        }
        let r = score_pair(&conns, lo, hi, &cfg);
        for v in [r.score, r.ts, r.ds, r.dur, r.hist] {
            assert!((0.0..=1.0).contains(&v), "round {round}: {v} in {r:?}");
        }
        assert_eq!(r.eligible, r.ineligible.is_none(), "round {round}");
        assert!(r.conn_count + r.rejected + r.outside_window <= n as u64 || r.ineligible.is_some());
        if r.eligible {
            eligible += 1;
        } else {
            refused += 1;
        }
        if r.eligible {
            assert!(r.unique_timestamps >= 4);
            assert!(
                r.hist_detail.as_ref().is_some_and(|h| h
                    .bins
                    .iter()
                    .map(|&c| u64::from(c))
                    .sum::<u64>()
                    == r.conn_count)
            );
        }

        // Statistics and analytics on raw hostile floats.
        let vals: Vec<f64> = (0..(xorshift(&mut x) % 20))
            .map(|_| hostile_f64(&mut x, 100.0))
            .collect();
        let _ = statistical_score(&vals, 1.0);
        let _ = data_size_score(&vals);
        let _ = median(&vals);
        let _ = population_sd(&vals);
        if let Some(q) = quartiles_sorted(&sorted_copy(&vals)) {
            let _ = q.q1 + q.q3;
        }
        let v = hostile_f64(&mut x, 80.0);
        let b = bucket(
            v,
            hostile_f64(&mut x, 1.0),
            hostile_f64(&mut x, 2.0),
            hostile_f64(&mut x, 3.0),
            hostile_f64(&mut x, 4.0),
        );
        assert!((0.0..=0.8).contains(&b), "bucket {b}");
        let _ = RitaSeverity::from_score(v);
        let ts: Vec<u32> = (0..(xorshift(&mut x) % 40))
            .map(|_| xorshift(&mut x) as u32)
            .collect();
        let _ = timestamp_score(&ts);
        let lo = xorshift(&mut x) as i64 >> (xorshift(&mut x) % 64);
        let hi = lo.saturating_add((xorshift(&mut x) % 100_000) as i64);
        let _ = histogram_score(lo, hi, &ts, (xorshift(&mut x) % 50) as u32, 0.05, 1, 11);
        let _ = duration_score(lo, hi, lo, hi, 6, 24, 6, 12);
    }
    // The run must exercise both the scoring path and the refusals.
    assert!(
        eligible > 100 && refused > 50,
        "eligible {eligible}, refused {refused}"
    );
}
