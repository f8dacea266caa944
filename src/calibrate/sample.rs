//! Weighted samples, the candidate forms fitted to them, and the bootstrap.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Poisson};

use super::{Candidate, EMPIRICAL_BINS, FIT_TOLERANCE, FitRow, MEAN_TOLERANCE, TABLE_QUANTILES};
use crate::dist::Dist;

/// A sample as sorted distinct values with weights (a histogram: weight =
/// how many times the value was seen, or a bootstrap weight).
#[derive(Clone, Debug, Default)]
pub(crate) struct Sample {
    /// (value, weight), sorted by value, weights > 0.
    pub xs: Vec<(f64, f64)>,
}

impl Sample {
    /// From (value, weight) pairs in any order; equal values are merged.
    pub fn from_pairs(mut v: Vec<(f64, f64)>) -> Sample {
        v.retain(|p| p.1 > 0.0 && p.0.is_finite());
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut xs: Vec<(f64, f64)> = Vec::with_capacity(v.len());
        for (x, w) in v {
            match xs.last_mut() {
                Some(l) if l.0 == x => l.1 += w,
                _ => xs.push((x, w)),
            }
        }
        Sample { xs }
    }

    pub fn total(&self) -> f64 {
        self.xs.iter().map(|p| p.1).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.xs.is_empty()
    }

    /// The `q` quantile: the least value whose cumulative weight reaches
    /// `q` of the total (the inverse of the empirical distribution function).
    pub fn quantile(&self, q: f64) -> f64 {
        let w = self.total();
        let target = q * w * (1.0 - 1e-12);
        let mut cum = 0.0;
        for &(x, wx) in &self.xs {
            cum += wx;
            if cum >= target {
                return x;
            }
        }
        self.xs.last().map_or(0.0, |p| p.0)
    }

    pub fn mean(&self) -> f64 {
        let w = self.total();
        self.xs.iter().map(|p| p.0 * p.1).sum::<f64>() / w
    }

    pub fn sd(&self) -> f64 {
        let w = self.total();
        let m = self.mean();
        (self.xs.iter().map(|p| p.1 * (p.0 - m).powi(2)).sum::<f64>() / w).sqrt()
    }

    /// The same values with weights multiplied by Poisson draws of mean 1
    /// per unit of weight (a Poisson bootstrap of the units behind them).
    pub fn poisson_resample(&self, rng: &mut ChaCha8Rng) -> Sample {
        let xs = self
            .xs
            .iter()
            .filter_map(|&(x, w)| {
                let k = poisson(w, rng);
                (k > 0.0).then_some((x, k))
            })
            .collect();
        Sample { xs }
    }

    /// Equal-probability bins: `bins` bins of equal weight (a value's weight
    /// split across a bin boundary where it straddles one); each bin's
    /// weighted mean. The bins' mean is the sample's mean exactly, and the
    /// `u` quantile of the bins lies within the bin holding it.
    pub fn bin_means(&self, bins: usize) -> Vec<f64> {
        let w = self.total();
        let per = w / bins as f64;
        let mut out = Vec::with_capacity(bins);
        let (mut acc, mut accw) = (0.0f64, 0.0f64);
        for &(x, wx) in &self.xs {
            let mut left = wx;
            while left > 0.0 {
                let room = per - accw;
                let take = left.min(room);
                acc += take * x;
                accw += take;
                left -= take;
                if accw >= per * (1.0 - 1e-9) && out.len() < bins {
                    out.push(acc / accw);
                    acc = 0.0;
                    accw = 0.0;
                    if out.len() == bins {
                        break;
                    }
                }
                if take <= 0.0 {
                    break;
                }
            }
        }
        if out.len() < bins && accw > 0.0 {
            out.push(acc / accw);
        }
        out
    }
}

/// One Poisson draw of mean `lambda` (0 for lambda 0).
pub(crate) fn poisson(lambda: f64, rng: &mut ChaCha8Rng) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    Poisson::new(lambda).map_or(lambda, |p| p.sample(rng))
}

/// A generator for one quantity's bootstrap: seeded from the options' seed
/// and the quantity's path, so a quantity's interval does not depend on
/// which other quantities were fitted.
pub(crate) fn rng_for(seed: u64, path: &str) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ crate::logs::id_hash(path))
}

/// The 5% and 95% points of bootstrap replicates (a 90% percentile interval).
pub(crate) fn percentile_interval(mut reps: Vec<f64>) -> (f64, f64) {
    reps.retain(|r| r.is_finite());
    if reps.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    reps.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((q * (reps.len() - 1) as f64).round() as usize).min(reps.len() - 1);
        reps[i]
    };
    (at(0.05), at(0.95))
}

/// The valid range of a quantity (the spec's range for its field).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range {
    pub lo: f64,
    pub hi: f64,
}

pub(crate) const COUNT: Range = Range {
    lo: 0.0,
    hi: f64::INFINITY,
};
pub(crate) const SHARE: Range = Range { lo: 0.0, hi: 1.0 };

/// The largest number a spec accepts (samples beyond it would not validate).
const MAX_SPEC_NUMBER: f64 = crate::input::read::MAX_NUMBER;

/// Worst relative error of `d`'s quantiles against the sample's over the
/// table's quantiles (p50..p99).
pub(crate) fn worst_error(s: &Sample, d: &Dist) -> f64 {
    TABLE_QUANTILES
        .iter()
        .map(|&q| rel_err(d.quantile(q), s.quantile(q)))
        .fold(0.0, f64::max)
}

fn rel_err(fitted: f64, observed: f64) -> f64 {
    if observed == fitted {
        0.0
    } else {
        (fitted - observed).abs() / observed.abs().max(1e-12)
    }
}

/// The table of observed against fitted quantiles.
pub(crate) fn table(s: &Sample, d: &Dist) -> Vec<FitRow> {
    TABLE_QUANTILES
        .iter()
        .map(|&q| FitRow {
            q,
            observed: s.quantile(q),
            fitted: d.quantile(q),
        })
        .collect()
}

/// The chosen form, every candidate's worst error, and why.
pub(crate) struct Choice {
    pub dist: Dist,
    pub candidates: Vec<Candidate>,
    pub why: String,
}

/// The empirical form: the sample itself when it has at most
/// [`EMPIRICAL_BINS`] units, else the means of that many equal-probability
/// bins.
pub(crate) fn empirical(s: &Sample) -> Dist {
    let n = s.total();
    let integral = s.xs.iter().all(|p| p.1.fract() == 0.0);
    let samples = if integral && n <= EMPIRICAL_BINS as f64 {
        s.xs.iter()
            .flat_map(|&(x, w)| std::iter::repeat_n(x, w as usize))
            .collect()
    } else {
        s.bin_means(EMPIRICAL_BINS)
    };
    Dist::Empirical { samples }
}

/// Choose among `{p50, p95}` (lognormal through the observed p50 and p95),
/// `{mean, sd}` (normal with the observed mean and sd, truncated to the
/// quantity's range) and `{samples}` by goodness of fit: the parametric form
/// with the smaller worst relative quantile error over p50..p99 when that
/// error is within [`FIT_TOLERANCE`] and its mean within [`MEAN_TOLERANCE`]
/// of the observed mean (the mean is what the month's cost adds up), else
/// the empirical form.
pub(crate) fn choose(s: &Sample, r: Range) -> Choice {
    let (lo, hi) = (s.xs[0].0, s.xs[s.xs.len() - 1].0);
    if lo == hi {
        return Choice {
            dist: Dist::fixed(lo),
            candidates: Vec::new(),
            why: format!("every observation is {lo}: a fixed number"),
        };
    }
    let mut candidates = Vec::new();
    let (p50, p95) = (s.quantile(0.5), s.quantile(0.95));
    let mut parametric: Vec<(&'static str, Dist, f64)> = Vec::new();
    let mean = s.mean();
    let mean_err = |d: &Dist| rel_err(d.mean(), mean);
    if p50 > 0.0 && p95 >= p50 {
        let d = Dist::LogNormal {
            p50,
            p95,
            min: None,
            max: r.hi.is_finite().then_some(r.hi),
        };
        let e = worst_error(s, &d);
        parametric.push(("{p50, p95}", d, e));
    }
    let d = Dist::Normal {
        mean: s.mean().clamp(r.lo, r.hi),
        sd: s.sd(),
        min: r.lo,
        max: r.hi,
    };
    let e = worst_error(s, &d);
    parametric.push(("{mean, sd}", d, e));
    let emp = empirical(s);
    let emp_err = worst_error(s, &emp);
    for (form, d, e) in &parametric {
        candidates.push(Candidate {
            form: form.to_string(),
            worst_error: *e,
            mean_error: mean_err(d),
        });
    }
    candidates.push(Candidate {
        form: "{samples}".to_string(),
        worst_error: emp_err,
        mean_error: mean_err(&emp),
    });
    let tol = FIT_TOLERANCE;
    let accepted = parametric
        .iter()
        .filter(|p| p.2 <= tol && mean_err(&p.1) <= MEAN_TOLERANCE)
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .cloned();
    let best = parametric
        .into_iter()
        .min_by(|a, b| a.2.total_cmp(&b.2))
        .expect("two candidates");
    if let Some(best) = accepted {
        Choice {
            why: format!(
                "{} fits within {:.1}% at every quantile p50..p99 (tolerance {:.0}%) and its mean within {:.1}% (tolerance {:.0}%)",
                best.0,
                best.2 * 100.0,
                tol * 100.0,
                mean_err(&best.1) * 100.0,
                MEAN_TOLERANCE * 100.0
            ),
            dist: best.1,
            candidates,
        }
    } else if emp_fits_spec(&emp) {
        Choice {
            why: format!(
                "no parametric form fits within {:.0}% at p50..p99 with its mean within {:.0}% (best: {} off by {:.1}%): the measured distribution as samples",
                tol * 100.0,
                MEAN_TOLERANCE * 100.0,
                best.0,
                best.2 * 100.0
            ),
            dist: emp,
            candidates,
        }
    } else {
        Choice {
            why: format!(
                "no parametric form fits within {:.0}%, and samples above {MAX_SPEC_NUMBER} would not validate: {} off by {:.1}%",
                tol * 100.0,
                best.0,
                best.2 * 100.0
            ),
            dist: best.1,
            candidates,
        }
    }
}

fn emp_fits_spec(d: &Dist) -> bool {
    match d {
        Dist::Empirical { samples } => samples.iter().all(|x| x.abs() <= MAX_SPEC_NUMBER),
        _ => true,
    }
}

/// `d` with its p95 raised to `p95` (never lowered): the lognormal's p95,
/// the normal's sd, or the samples at and above the 95th percentile scaled
/// (kept within the quantity's range `r`, so the spec still validates).
pub(crate) fn with_p95(d: &Dist, p95: f64, r: Range) -> Dist {
    let now = d.quantile(0.95);
    if p95.partial_cmp(&now) != Some(std::cmp::Ordering::Greater) || !p95.is_finite() {
        return d.clone();
    }
    match d {
        Dist::LogNormal { p50, min, max, .. } => Dist::LogNormal {
            p50: *p50,
            p95: max.map_or(p95, |m| p95.min(m)),
            min: *min,
            max: *max,
        },
        Dist::Normal { mean, sd, min, max } => Dist::Normal {
            mean: *mean,
            sd: sd * (p95 - mean) / (now - mean).max(1e-12),
            min: *min,
            max: *max,
        },
        Dist::Empirical { samples } => {
            let i = ((0.95 * samples.len() as f64) as usize).min(samples.len() - 1);
            let k = if samples[i] > 0.0 { p95 / samples[i] } else { 1.0 };
            let samples = samples
                .iter()
                .enumerate()
                .map(|(j, x)| {
                    if j >= i {
                        (x * k).min(MAX_SPEC_NUMBER).min(r.hi)
                    } else {
                        *x
                    }
                })
                .collect();
            Dist::Empirical { samples }
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_is_the_inverse_ecdf() {
        let s = Sample::from_pairs(vec![(1.0, 1.0), (2.0, 1.0), (3.0, 1.0), (4.0, 1.0)]);
        assert_eq!(s.quantile(0.5), 2.0);
        assert_eq!(s.quantile(0.51), 3.0);
        assert_eq!(s.quantile(0.99), 4.0);
        assert_eq!(s.mean(), 2.5);
    }

    #[test]
    fn bins_keep_the_mean_exactly_and_split_straddling_values() {
        // 10 values of weight 1 into 4 bins of 2.5 each.
        let s = Sample::from_pairs((1..=10).map(|i| (i as f64, 1.0)).collect());
        let b = s.bin_means(4);
        assert_eq!(b.len(), 4);
        let m = b.iter().sum::<f64>() / 4.0;
        assert!((m - 5.5).abs() < 1e-12, "{b:?}");
        // first bin: 1, 2 and half of 3 -> (1 + 2 + 1.5) / 2.5
        assert!((b[0] - 4.5 / 2.5).abs() < 1e-12);
        assert!(b.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_lognormal_sample_chooses_the_lognormal_form() {
        let d = Dist::LogNormal {
            p50: 100.0,
            p95: 400.0,
            min: None,
            max: None,
        };
        // The exact quantiles of d on a fine grid, as a sample.
        let s = Sample::from_pairs(
            (0..20_000)
                .map(|i| (d.quantile((i as f64 + 0.5) / 20_000.0), 1.0))
                .collect(),
        );
        let c = choose(&s, COUNT);
        assert!(matches!(c.dist, Dist::LogNormal { .. }), "{}", c.why);
        // Its stated errors: quantiles at the grid's resolution, the mean
        // within the grid's truncation of the tail.
        let ln = &c.candidates[0];
        assert!(ln.worst_error < 1e-3 && ln.mean_error < 5e-3, "{:?}", c.candidates);
    }

    #[test]
    fn a_raised_tail_stays_within_the_range() {
        let d = Dist::Empirical {
            samples: (0..100).map(|i| 0.5 + i as f64 * 0.005).collect(),
        };
        let up = with_p95(&d, 0.99, SHARE);
        let Dist::Empirical { samples } = &up else { panic!() };
        assert!((up.quantile(0.95) - 0.99).abs() < 1e-12);
        assert!(samples.iter().all(|x| *x <= 1.0), "{samples:?}");
        assert!(samples.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn a_form_whose_mean_is_off_is_not_written() {
        // Quantiles p50..p99 of a lognormal, but a tail beyond p99 that holds
        // a fifth of the mass of the sum: the lognormal's quantiles fit, its
        // mean does not.
        let d = Dist::LogNormal {
            p50: 100.0,
            p95: 400.0,
            min: None,
            max: None,
        };
        let mut v: Vec<(f64, f64)> = (0..9_950)
            .map(|i| (d.quantile((i as f64 + 0.5) / 10_000.0), 1.0))
            .collect();
        v.push((d.quantile(0.999) * 40.0, 50.0));
        let s = Sample::from_pairs(v);
        let c = choose(&s, COUNT);
        assert!(c.candidates[0].worst_error <= FIT_TOLERANCE, "{:?}", c.candidates);
        assert!(c.candidates[0].mean_error > MEAN_TOLERANCE, "{:?}", c.candidates);
        assert!(matches!(c.dist, Dist::Empirical { .. }), "{}", c.why);
    }

    #[test]
    fn a_bimodal_sample_falls_back_to_samples() {
        let s = Sample::from_pairs(vec![(10.0, 500.0), (1000.0, 500.0)]);
        let c = choose(&s, COUNT);
        assert!(matches!(c.dist, Dist::Empirical { .. }), "{}", c.why);
        assert!((c.dist.mean() - 505.0).abs() < 1e-9);
    }
}
