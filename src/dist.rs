//! Uncertain quantities: the distributions a spec can give for a number.
//!
//! | spec form | distribution |
//! | --- | --- |
//! | `12` | the fixed number |
//! | `{p50, p95}` | lognormal through those two quantiles |
//! | `{low, mode, high}` | triangular (`shape: pert` for PERT) |
//! | `{mean, sd}` (+`min`/`max`) | normal, truncated to `min`/`max` and the quantity's valid range |
//! | `{samples: [...]}` | empirical: each sample equally likely |

use rand::{Rng, RngExt};
use rand_distr::Distribution;
use serde::Serialize;

/// z such that Φ(z) = 0.95.
pub const Z95: f64 = 1.644_853_626_951_472_2;

/// A distribution a spec can give a quantity (`form` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Dist {
    /// Always the same number.
    Fixed {
        /// The number.
        value: f64,
    },
    /// Log-normal, given by its median and 95th percentile.
    LogNormal {
        /// Median.
        p50: f64,
        /// 95th percentile.
        p95: f64,
        /// Draws below are raised to it.
        #[serde(skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Draws above are lowered to it.
        #[serde(skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Triangular over `low..high`, peaking at `mode`.
    Triangular {
        /// Least value.
        low: f64,
        /// Most likely value.
        mode: f64,
        /// Largest value.
        high: f64,
    },
    /// PERT (a smoothed triangular) over `low..high` around `mode`.
    Pert {
        /// Least value.
        low: f64,
        /// Most likely value.
        mode: f64,
        /// Largest value.
        high: f64,
    },
    /// Normal, truncated to `min..max`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Least value drawn.
        min: f64,
        /// Largest value drawn.
        max: f64,
    },
    /// Drawn from measured values (calibrated from logs).
    Empirical {
        /// The values, sorted.
        samples: Vec<f64>,
    },
}

impl Dist {
    /// A fixed number.
    pub fn fixed(value: f64) -> Self {
        Dist::Fixed { value }
    }

    /// True when every draw is the same number.
    pub fn is_fixed(&self) -> bool {
        match self {
            Dist::Fixed { .. } => true,
            Dist::LogNormal { p50, p95, .. } => p50 == p95,
            Dist::Triangular { low, high, .. } | Dist::Pert { low, high, .. } => low == high,
            Dist::Normal { sd, min, max, .. } => *sd == 0.0 || min == max,
            Dist::Empirical { samples } => samples.windows(2).all(|w| w[0] == w[1]),
        }
    }

    /// The central value used for the "typical" figures: the p50 of a
    /// lognormal, the mode of a triangle or PERT, the mean of a normal
    /// (clamped into its bounds), the median of samples.
    pub fn central(&self) -> f64 {
        match self {
            Dist::Fixed { value } => *value,
            Dist::LogNormal { p50, min, max, .. } => clamp_opt(*p50, *min, *max),
            Dist::Triangular { mode, .. } | Dist::Pert { mode, .. } => *mode,
            Dist::Normal { mean, min, max, .. } => mean.clamp(*min, *max),
            Dist::Empirical { samples } => {
                let n = samples.len();
                if n % 2 == 1 {
                    samples[n / 2]
                } else {
                    0.5 * (samples[n / 2 - 1] + samples[n / 2])
                }
            }
        }
    }

    /// The largest value the distribution can take, or `None` when it has
    /// no upper end (a lognormal without `max`, a normal without `max`).
    pub fn upper_bound(&self) -> Option<f64> {
        match self {
            Dist::Fixed { value } => Some(*value),
            Dist::LogNormal { p50, p95, max, .. } => {
                if p50 == p95 {
                    Some(*p50)
                } else {
                    *max
                }
            }
            Dist::Triangular { high, .. } | Dist::Pert { high, .. } => Some(*high),
            Dist::Normal { sd, mean, max, .. } => {
                if *sd == 0.0 {
                    Some(*mean)
                } else if max.is_finite() {
                    Some(*max)
                } else {
                    None
                }
            }
            Dist::Empirical { samples } => samples.last().copied(),
        }
    }

    /// The value the worst case reads: the upper bound, or the `q` quantile
    /// when there is none.
    pub fn worst(&self, q: f64) -> f64 {
        self.upper_bound().unwrap_or_else(|| self.quantile(q))
    }

    /// The `u` quantile (0 < u < 1). PERT has no closed form; it is found by
    /// bisection on its distribution function.
    pub fn quantile(&self, u: f64) -> f64 {
        let u = u.clamp(1e-12, 1.0 - 1e-12);
        match self {
            Dist::Fixed { value } => *value,
            Dist::LogNormal { p50, p95, min, max } => {
                let sigma = (p95 / p50).ln() / Z95;
                clamp_opt(p50 * (sigma * norm_inv(u)).exp(), *min, *max)
            }
            Dist::Triangular { low, mode, high } => tri_quantile(*low, *mode, *high, u),
            Dist::Pert { low, mode, high } => {
                if high == low {
                    return *low;
                }
                let (a, b) = pert_shape(*low, *mode, *high);
                let (mut lo, mut hi) = (0.0f64, 1.0f64);
                for _ in 0..60 {
                    let mid = 0.5 * (lo + hi);
                    if beta_cdf(mid, a, b) < u {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                low + 0.5 * (lo + hi) * (high - low)
            }
            Dist::Normal { mean, sd, min, max } => {
                if *sd == 0.0 {
                    return mean.clamp(*min, *max);
                }
                let a = norm_cdf((min - mean) / sd);
                let b = norm_cdf((max - mean) / sd);
                (mean + sd * norm_inv(a + u * (b - a))).clamp(*min, *max)
            }
            Dist::Empirical { samples } => {
                let i = ((u * samples.len() as f64) as usize).min(samples.len() - 1);
                samples[i]
            }
        }
    }

    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self {
            Dist::Fixed { value } => *value,
            Dist::Pert { low, mode, high } => {
                if high == low {
                    return *low;
                }
                let (a, b) = pert_shape(*low, *mode, *high);
                let beta = rand_distr::Beta::new(a, b).expect("validated PERT shape");
                low + beta.sample(rng) * (high - low)
            }
            Dist::Empirical { samples } => samples[rng.random_range(0..samples.len())],
            Dist::LogNormal { p50, p95, min, max } => {
                // Ziggurat normal: exact in distribution, much faster than the inverse CDF.
                let z: f64 = rand_distr::StandardNormal.sample(rng);
                let sigma = (p95 / p50).ln() / Z95;
                clamp_opt(p50 * (sigma * z).exp(), *min, *max)
            }
            _ => self.quantile(open01(rng)),
        }
    }

    /// The exact mean, where a closed form exists (used by tests and the
    /// model reference). Clipping by `min`/`max` on a lognormal is ignored.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Fixed { value } => *value,
            Dist::LogNormal { p50, p95, .. } => {
                let sigma = (p95 / p50).ln() / Z95;
                p50 * (0.5 * sigma * sigma).exp()
            }
            Dist::Triangular { low, mode, high } => (low + mode + high) / 3.0,
            Dist::Pert { low, mode, high } => (low + 4.0 * mode + high) / 6.0,
            Dist::Normal { mean, sd, min, max } => {
                if *sd == 0.0 {
                    return mean.clamp(*min, *max);
                }
                let (a, b) = ((min - mean) / sd, (max - mean) / sd);
                let z = norm_cdf(b) - norm_cdf(a);
                mean + sd * (norm_pdf(a) - norm_pdf(b)) / z
            }
            Dist::Empirical { samples } => samples.iter().sum::<f64>() / samples.len() as f64,
        }
    }

    /// The same distribution with every value multiplied by `k` (k ≥ 0).
    pub fn scaled(&self, k: f64) -> Dist {
        match self {
            Dist::Fixed { value } => Dist::Fixed { value: value * k },
            Dist::LogNormal { p50, p95, min, max } => Dist::LogNormal {
                p50: p50 * k,
                p95: p95 * k,
                min: min.map(|m| m * k),
                max: max.map(|m| m * k),
            },
            Dist::Triangular { low, mode, high } => Dist::Triangular {
                low: low * k,
                mode: mode * k,
                high: high * k,
            },
            Dist::Pert { low, mode, high } => Dist::Pert {
                low: low * k,
                mode: mode * k,
                high: high * k,
            },
            Dist::Normal { mean, sd, min, max } => Dist::Normal {
                mean: mean * k,
                sd: sd * k,
                min: min * k,
                max: max * k,
            },
            Dist::Empirical { samples } => Dist::Empirical {
                samples: samples.iter().map(|s| s * k).collect(),
            },
        }
    }
}

fn clamp_opt(v: f64, min: Option<f64>, max: Option<f64>) -> f64 {
    let v = min.map_or(v, |m| v.max(m));
    max.map_or(v, |m| v.min(m))
}

/// The one rule for every count the engine draws (customers, users per
/// tenant, interactions in a user-day, calls in an interaction): the value
/// drawn from its distribution is rounded stochastically to a whole number
/// (up with probability equal to its fractional part, so the mean is kept),
/// then clipped to `[lo, hi]`. Always consumes one uniform draw.
pub fn stochastic_count<R: Rng + ?Sized>(x: f64, lo: f64, hi: f64, rng: &mut R) -> f64 {
    let f = x.floor();
    let n = if open01(rng) < x - f { f + 1.0 } else { f };
    n.min(hi).max(lo)
}

/// A uniform draw in the open interval (0, 1).
pub fn open01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 53 random bits, shifted half a step off zero.
    ((rng.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
}

fn tri_quantile(low: f64, mode: f64, high: f64, u: f64) -> f64 {
    if high == low {
        return low;
    }
    let fc = (mode - low) / (high - low);
    if u < fc {
        low + (u * (high - low) * (mode - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
    }
}

/// PERT's beta shape parameters (the classic λ = 4).
fn pert_shape(low: f64, mode: f64, high: f64) -> (f64, f64) {
    let r = high - low;
    (1.0 + 4.0 * (mode - low) / r, 1.0 + 4.0 * (high - mode) / r)
}

/// Standard normal density.
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Standard normal distribution function, via erfc (W. J. Cody's rational
/// approximations; absolute error below 1e-15).
pub fn norm_cdf(x: f64) -> f64 {
    if x == f64::INFINITY {
        return 1.0;
    }
    if x == f64::NEG_INFINITY {
        return 0.0;
    }
    0.5 * erfc(-x / std::f64::consts::SQRT_2)
}

#[allow(clippy::excessive_precision)]
fn erfc(x: f64) -> f64 {
    // Numerical Recipes' erfc via Chebyshev fit (fractional error < 1.2e-7),
    // refined below by one Newton step on the inverse where precision matters.
    let z = x.abs();
    let t = 2.0 / (2.0 + z);
    let ty = 4.0 * t - 2.0;
    const COF: [f64; 28] = [
        -1.3026537197817094,
        6.4196979235649026e-1,
        1.9476473204185836e-2,
        -9.561514786808631e-3,
        -9.46595344482036e-4,
        3.66839497852761e-4,
        4.2523324806907e-5,
        -2.0278578112534e-5,
        -1.624290004647e-6,
        1.303655835580e-6,
        1.5626441722e-8,
        -8.5238095915e-8,
        6.529054439e-9,
        5.059343495e-9,
        -9.91364156e-10,
        -2.27365122e-10,
        9.6467911e-11,
        2.394038e-12,
        -6.886027e-12,
        8.94487e-13,
        3.13092e-13,
        -1.12708e-13,
        3.81e-16,
        7.106e-15,
        -1.523e-15,
        -9.4e-17,
        1.21e-16,
        -2.8e-17,
    ];
    let (mut d, mut dd) = (0.0f64, 0.0f64);
    for &c in COF.iter().skip(1).rev() {
        let tmp = d;
        d = ty * d - dd + c;
        dd = tmp;
    }
    let r = t * (-z * z + 0.5 * (COF[0] + ty * d) - dd).exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Inverse of the standard normal distribution function (Acklam's
/// algorithm with one Halley refinement step; relative error ~1e-15).
pub fn norm_inv(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383_577_518_672_69e2,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-03,
        3.224671290700398e-01,
        2.445134137142996e+00,
        3.754408661907416e+00,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let plow = 0.02425;
    let x = if p < plow {
        let q = (-2.0 * p.ln()).sqrt();
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    } else if p <= 1.0 - plow {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    // Halley step.
    let e = norm_cdf(x) - p;
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// Regularised incomplete beta function I_x(a, b), by continued fraction.
fn beta_cdf(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(x, a, b) / a
    } else {
        1.0 - front * beta_cf(1.0 - x, b, a) / b
    }
}

fn beta_cf(x: f64, a: f64, b: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9).
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.5203681218851,
        -1259.1392167224028,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507343278686905,
        -0.13857109526572012,
        9.984_369_578_019_572e-6,
        1.5056327351493116e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, &g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn normal_functions_match_known_values() {
        assert!((norm_cdf(0.0) - 0.5).abs() < 1e-12);
        assert!((norm_cdf(1.959963984540054) - 0.975).abs() < 1e-9);
        assert!((norm_inv(0.95) - Z95).abs() < 1e-9);
        for p in [1e-6, 0.01, 0.3, 0.5, 0.77, 0.999] {
            assert!((norm_cdf(norm_inv(p)) - p).abs() < 1e-9 * p.max(1e-3), "p={p}");
        }
    }

    #[test]
    fn lognormal_passes_through_its_quantiles() {
        let d = Dist::LogNormal {
            p50: 3.0,
            p95: 14.0,
            min: None,
            max: None,
        };
        assert!((d.quantile(0.5) - 3.0).abs() < 1e-9);
        assert!((d.quantile(0.95) - 14.0).abs() < 1e-7);
        assert_eq!(d.upper_bound(), None);
    }

    #[test]
    fn pert_quantile_inverts_its_cdf_and_matches_sampling() {
        let d = Dist::Pert {
            low: 1.0,
            mode: 2.0,
            high: 10.0,
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = 200_000;
        let below = (0..n).filter(|_| d.sample(&mut rng) < d.quantile(0.3)).count();
        // binomial sd at p=0.3: sqrt(0.21/n) = 0.001; allow 5 sd
        assert!((below as f64 / n as f64 - 0.3).abs() < 0.005);
    }

    #[test]
    fn sample_means_match_closed_forms() {
        let dists = [
            Dist::LogNormal {
                p50: 3.0,
                p95: 14.0,
                min: None,
                max: None,
            },
            Dist::Triangular {
                low: 0.3,
                mode: 0.45,
                high: 0.7,
            },
            Dist::Pert {
                low: 0.3,
                mode: 0.45,
                high: 0.7,
            },
            Dist::Normal {
                mean: 10.0,
                sd: 5.0,
                min: 0.0,
                max: f64::INFINITY,
            },
            Dist::Empirical {
                samples: vec![1.0, 2.0, 4.0, 8.0],
            },
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let n = 400_000;
        for d in dists {
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n as f64;
            let se = (var / n as f64).sqrt();
            // 5 standard errors: a false failure about once in 3.5 million runs
            assert!((m - d.mean()).abs() < 5.0 * se + 1e-12, "{d:?}: {m} vs {}", d.mean());
        }
    }
}
