//! Drift: each quantity the logs measure against the spec in force.

use serde::Serialize;

use super::Observations;
use super::sample::Sample;
use crate::dist::{Dist, Z95};
use crate::source::Loc;
use crate::spec::Spec;

/// One quantity of the spec against what the logs show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drift {
    /// The spec field path.
    pub path: String,
    /// Where the spec writes it (`Loc::UNKNOWN`: defaulted).
    #[serde(skip)]
    pub loc: Loc,
    /// The observed 95th percentile.
    pub observed_p95: f64,
    /// Lower end of the one-sided 95% interval of the observed p95: the
    /// order statistic X(r) with r the largest rank such that
    /// P(Binomial(n, 0.95) ≥ r) ≥ 0.95 (distribution-free: X(r) is below the
    /// true p95 with probability at least 95% whatever the distribution).
    pub observed_p95_low: f64,
    /// The observed mean.
    pub observed_mean: f64,
    /// Lower end of the one-sided 95% interval of the mean (mean − 1.645
    /// standard errors; for user-days the standard error of a ratio
    /// clustered by user).
    pub observed_mean_low: f64,
    /// The spec's p95 of the same figure (for counts, of the whole number the
    /// engine draws: stochastic rounding, power users' multiplier, limits).
    pub spec_p95: f64,
    /// The spec's mean of the same figure.
    pub spec_mean: f64,
    /// Observations.
    pub n: u64,
    /// What one observation is.
    pub unit: &'static str,
    /// Whether the observed p95 or mean is above the spec's by more than the
    /// sampling error allows (`observed_p95_low > spec_p95` or
    /// `observed_mean_low > spec_mean`: each a one-sided test at 5%, so a
    /// spec that is right is flagged at most 10% of the time per quantity).
    pub above: bool,
}

/// Compare each quantity the observations measure (tokens per call, calls
/// per interaction, interactions per active user-day) with the spec's.
pub fn drift(spec: &Spec, obs: &Observations) -> Vec<Drift> {
    let mut out = Vec::new();
    let i = &spec.interaction;
    if obs.records > 0 {
        for (q, counts, cap) in [
            (
                &i.input_tokens,
                &obs.input,
                i.max_input_tokens.as_ref().map(|n| n.value),
            ),
            (
                &i.output_tokens,
                &obs.output,
                i.max_output_tokens.as_ref().map(|n| n.value),
            ),
        ] {
            let s = Sample::from_pairs(counts.iter().map(|(v, c)| (*v as f64, *c as f64)).collect());
            let hi = cap.unwrap_or(f64::INFINITY);
            let spec_p95 = q.dist.quantile(0.95).min(hi);
            let spec_mean = clipped_mean(&q.dist, 0.0, hi);
            out.push(iid(&q.path, q.loc, &s, spec_p95, spec_mean, "calls"));
        }
    }
    if obs.interactions > 0 {
        let q = &i.calls;
        let s = Sample::from_pairs(
            obs.calls_per_interaction
                .iter()
                .map(|(v, c)| (*v as f64, *c as f64))
                .collect(),
        );
        let hi = i.max_calls.as_ref().map_or(f64::INFINITY, |n| n.value);
        let spec_p95 = count_p95(&q.dist, 0.0, 1.0, 1.0, hi, false);
        let spec_mean = clipped_mean(&q.dist, 1.0, hi);
        out.push(iid(&q.path, q.loc, &s, spec_p95, spec_mean, "interactions"));
    }
    if !obs.users.is_empty() {
        let q = &spec.usage.interactions_per_active_day;
        let (share, mult) = spec
            .usage
            .power_users
            .as_ref()
            .map_or((0.0, 1.0), |p| (p.share.value, p.multiplier.value));
        let mut h: std::collections::HashMap<u64, f64> = std::collections::HashMap::new();
        for u in &obs.users {
            for d in &u.days {
                *h.entry(*d).or_insert(0.0) += 1.0;
            }
        }
        let s = Sample::from_pairs(h.into_iter().map(|(v, c)| (v as f64, c)).collect());
        let n = s.total();
        // The ratio estimator's standard error, clustered by user.
        let m = s.mean();
        let u = obs.users.len() as f64;
        let resid: f64 = obs
            .users
            .iter()
            .map(|x| {
                let t = x.days.iter().sum::<u64>() as f64;
                (t - m * x.days.len() as f64).powi(2)
            })
            .sum();
        let se = if u > 1.0 {
            (u / (u - 1.0) * resid).sqrt() / n
        } else {
            f64::NAN
        };
        let mu = clipped_mean(&q.dist, 0.0, f64::INFINITY);
        // A day the engine draws 0 interactions for leaves no call: the logs
        // show the days with at least one, so the spec's figures are taken
        // given N ≥ 1.
        let p0 = count_p_le(&q.dist, share, mult, 0.0);
        out.push(Drift {
            path: q.path.clone(),
            loc: q.loc,
            observed_p95: s.quantile(0.95),
            observed_p95_low: order_stat_low(&s, 0.95, 0.95),
            observed_mean: m,
            observed_mean_low: m - Z95 * se,
            spec_p95: count_p95(&q.dist, share, mult, 0.0, f64::INFINITY, true),
            spec_mean: ((1.0 - share) * mu + share * mult * mu) / (1.0 - p0).max(1e-12),
            n: n as u64,
            unit: "user-days",
            above: false,
        });
    }
    for d in &mut out {
        d.above = d.observed_p95_low > d.spec_p95 || d.observed_mean_low > d.spec_mean;
    }
    out
}

fn iid(path: &str, loc: Loc, s: &Sample, spec_p95: f64, spec_mean: f64, unit: &'static str) -> Drift {
    let n = s.total();
    let m = s.mean();
    let se = if n > 1.0 {
        s.sd() * (n / (n - 1.0)).sqrt() / n.sqrt()
    } else {
        f64::NAN
    };
    Drift {
        path: path.to_string(),
        loc,
        observed_p95: s.quantile(0.95),
        observed_p95_low: order_stat_low(s, 0.95, 0.95),
        observed_mean: m,
        observed_mean_low: m - Z95 * se,
        spec_p95,
        spec_mean,
        n: n as u64,
        unit,
        above: false,
    }
}

/// The order statistic X(r), r the largest rank with
/// P(Binomial(n, p) ≥ r) ≥ `conf`: a lower confidence bound for the `p`
/// quantile. The binomial tail is summed exactly (in logs, from r = n down).
pub(crate) fn order_stat_low(s: &Sample, p: f64, conf: f64) -> f64 {
    let n = s.total().round() as u64;
    if n == 0 {
        return f64::NAN;
    }
    let r = binomial_rank(n, p, conf);
    // The value at rank r (1-based).
    let mut cum = 0.0;
    for &(x, w) in &s.xs {
        cum += w;
        if cum >= r as f64 - 1e-9 {
            return x;
        }
    }
    s.xs[s.xs.len() - 1].0
}

/// The largest r in 1..=n with P(Binomial(n, p) ≥ r) ≥ conf (1 if none).
pub(crate) fn binomial_rank(n: u64, p: f64, conf: f64) -> u64 {
    let ln_ratio = ((1.0 - p) / p).ln();
    let mut ln_pmf = n as f64 * p.ln();
    let mut tail = 0.0;
    let mut k = n;
    loop {
        tail += ln_pmf.exp();
        if tail >= conf || k <= 1 {
            return k.max(1);
        }
        // pmf(k-1) = pmf(k) * k / (n-k+1) * (1-p)/p
        ln_pmf += (k as f64).ln() - ((n - k + 1) as f64).ln() + ln_ratio;
        k -= 1;
    }
}

/// F(x) of a spec distribution: the largest u with quantile(u) ≤ x, by
/// bisection (the quantile is monotone).
fn cdf(d: &Dist, x: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    if d.quantile(1e-12) > x {
        return 0.0;
    }
    if d.quantile(1.0 - 1e-12) <= x {
        return 1.0;
    }
    for _ in 0..50 {
        let mid = 0.5 * (lo + hi);
        if d.quantile(mid) <= x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// The mean of `d` clipped to `lo..hi`: the closed form when no clipping
/// applies, else the integral of the clipped quantile function (midpoint
/// rule on 100,000 points).
fn clipped_mean(d: &Dist, lo: f64, hi: f64) -> f64 {
    let clips = d.quantile(1e-12) < lo || d.upper_bound().is_none_or(|u| u > hi);
    if !clips || (hi.is_infinite() && d.quantile(1e-12) >= lo) {
        return d.mean().clamp(lo, hi);
    }
    let n = 100_000;
    (0..n)
        .map(|i| d.quantile((i as f64 + 0.5) / n as f64).clamp(lo, hi))
        .sum::<f64>()
        / n as f64
}

/// The p95 of the whole number the engine draws for a count: X from `d`
/// (times `mult` for a share `share` of draws), rounded stochastically, then
/// clipped to `lo..hi`. With stochastic rounding, P(N ≤ n) = ∫ₙⁿ⁺¹ G(x) dx
/// for G the distribution function of the scaled draw; the p95 is the least
/// whole n where that reaches 0.95 (given N ≥ 1 when `positive`: P(N ≤ n |
/// N ≥ 1) = (P(N ≤ n) − P(N = 0)) / (1 − P(N = 0))).
fn count_p95(d: &Dist, share: f64, mult: f64, lo: f64, hi: f64, positive: bool) -> f64 {
    let g = |x: f64| mixture_cdf(d, share, mult, x);
    let p0 = if positive { count_p_le(d, share, mult, 0.0) } else { 0.0 };
    // P(N ≤ n | N ≥ 1) ≥ 0.95 is P(N ≤ n) ≥ level.
    let level = p0 + 0.95 * (1.0 - p0);
    // The continuous quantile of the mixture at that level, by bisection on G.
    let (mut a, mut b) = (0.0f64, d.quantile(1.0 - 1e-9).max(1.0) * mult.max(1.0) + 2.0);
    for _ in 0..80 {
        let mid = 0.5 * (a + b);
        if g(mid) < level {
            a = mid;
        } else {
            b = mid;
        }
    }
    // G(n) ≤ P(N ≤ n) ≤ G(n + 1): the answer is within a step of b.
    let q = b;
    let mut n = (q.floor() - 1.0).max(0.0);
    while n < q.ceil() + 1.0 && count_p_le(d, share, mult, n) < level {
        n += 1.0;
    }
    n.clamp(lo, hi)
}

/// G(x): the distribution function of a draw of `d`, times `mult` for a
/// share `share` of draws.
fn mixture_cdf(d: &Dist, share: f64, mult: f64, x: f64) -> f64 {
    let c = cdf(d, x);
    if share == 0.0 {
        return c;
    }
    (1.0 - share) * c + share * cdf(d, x / mult.max(1e-12))
}

/// P(N ≤ n) for N the stochastically rounded mixture draw: ∫ₙⁿ⁺¹ G(x) dx
/// (midpoint rule on 256 points).
fn count_p_le(d: &Dist, share: f64, mult: f64, n: f64) -> f64 {
    let k = 256;
    (0..k)
        .map(|i| mixture_cdf(d, share, mult, n + (i as f64 + 0.5) / k as f64))
        .sum::<f64>()
        / k as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_rank_matches_the_exact_tail() {
        // n = 20, p = 0.95: P(Bin >= 18) = 0.9245, P(Bin >= 17) = 0.9841.
        assert_eq!(binomial_rank(20, 0.95, 0.95), 17);
        // large n: close to n p − 1.645 sqrt(n p (1−p)).
        let n = 100_000u64;
        let r = binomial_rank(n, 0.95, 0.95) as f64;
        let approx = n as f64 * 0.95 - Z95 * (n as f64 * 0.95 * 0.05).sqrt();
        assert!((r - approx).abs() < 3.0, "{r} vs {approx}");
    }

    #[test]
    fn cdf_inverts_the_quantile() {
        let d = Dist::LogNormal {
            p50: 3.0,
            p95: 14.0,
            min: None,
            max: None,
        };
        assert!((cdf(&d, 14.0) - 0.95).abs() < 1e-9);
        assert!((cdf(&d, 3.0) - 0.5).abs() < 1e-9);
    }

    #[test]
    fn a_fixed_count_has_its_own_p95_and_rounding_is_counted() {
        assert_eq!(count_p95(&Dist::fixed(3.0), 0.0, 1.0, 0.0, f64::INFINITY, false), 3.0);
        // 2.5 fixed: N is 2 or 3 with equal chance, so P(N <= 2) = 0.5: p95 = 3.
        assert_eq!(count_p95(&Dist::fixed(2.5), 0.0, 1.0, 0.0, f64::INFINITY, false), 3.0);
        // 2.1: P(N <= 2) = 0.9 -> p95 = 3.
        assert_eq!(count_p95(&Dist::fixed(2.1), 0.0, 1.0, 0.0, f64::INFINITY, false), 3.0);
        // 2.02: P(N <= 2) = 0.98 -> p95 = 2.
        assert_eq!(count_p95(&Dist::fixed(2.02), 0.0, 1.0, 0.0, f64::INFINITY, false), 2.0);
        // a power share of 10% at 3x a fixed 2: P(N <= 2) = 0.9 -> p95 = 6.
        assert_eq!(count_p95(&Dist::fixed(2.0), 0.1, 3.0, 0.0, f64::INFINITY, false), 6.0);
        // 0.5 fixed: N is 0 or 1; given N >= 1 it is always 1.
        assert_eq!(count_p95(&Dist::fixed(0.5), 0.0, 1.0, 0.0, f64::INFINITY, true), 1.0);
        assert!((count_p_le(&Dist::fixed(0.5), 0.0, 1.0, 0.0) - 0.5).abs() < 1e-9);
    }
}
