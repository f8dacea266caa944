//! How costgate writes numbers for people: money, percentages, counts, and
//! the labels of the policy's confidence. One place, so every report,
//! message and error writes the same figure the same way.
//!
//! A leaf module: it depends on nothing else in the crate.

/// Dollars, with as many decimals as the size needs: `$1,234`, `$12.50`,
/// `$0.042`, `$0.0031`; negative as `-$5.00`.
pub fn usd(v: f64) -> String {
    let neg = v < 0.0;
    let v = v.abs();
    let s = if v == 0.0 {
        "0".to_string()
    } else if v >= 100.0 {
        count(v)
    } else if v >= 1.0 {
        format!("{v:.2}")
    } else if v >= 0.01 {
        format!("{v:.3}")
    } else {
        format!("{v:.4}")
    };
    if neg { format!("-${s}") } else { format!("${s}") }
}

/// A difference in dollars with its sign: `+$25.00`, `-$3.10`.
pub fn signed_usd(d: f64) -> String {
    if d >= 0.0 { format!("+{}", usd(d)) } else { usd(d) }
}

/// A share as a percentage: `31%`, `2.5%`, `∞`.
pub fn pct(v: f64) -> String {
    if v.is_infinite() {
        return "∞".into();
    }
    let p = v * 100.0;
    if p.abs() >= 10.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

/// A count with thousands separators (`1,234,567`); a fraction below 100
/// keeps two decimals (`12.50`).
pub fn count(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() > 1e-9 && v.abs() < 100.0 {
        return format!("{v:.2}");
    }
    let s = format!("{:.0}", r.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if r < 0.0 { format!("-{out}") } else { out }
}

/// `n` with the word that agrees with it: `plural(1, "thread", "threads")`
/// is `1 thread`, `plural(2, ...)` is `2 threads`, `plural(0, ...)` is
/// `0 threads`; the count written as [`count`] writes it (`1,200 trials`).
/// Every counted noun (or verb: `1 needs approval`, `2 need approval`) in
/// the output goes through here.
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{} {}", count(n as f64), if n == 1 { one } else { many })
}

/// A price in USD per million tokens, with at least two decimals and as
/// many more as the price has (`$2.50`, `$0.075`, `$0.0375`).
pub fn usd_per_mtok(x: f64) -> String {
    let two = format!("{x:.2}");
    if two.parse::<f64>().is_ok_and(|r| (r - x).abs() < 1e-12) {
        return format!("${two}");
    }
    let mut s = format!("{x:.8}");
    while s.ends_with('0') {
        s.pop();
    }
    format!("${s}")
}

/// A figure by its name: `*_usd` in dollars, ratios and shares in percent.
pub fn figure(name: &str, v: f64) -> String {
    if name.ends_with("_usd") { usd(v) } else { pct(v) }
}

/// A drift as people read it: `5%`, `2.5%`.
pub fn drift(d: f64) -> String {
    let p = d * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{p:.0}%")
    } else {
        format!("{p}%")
    }
}

/// A quantile as a percentage with no trailing zeros: `95` for 0.95,
/// `97.5` for 0.975, `99.9` for 0.999.
fn percent_digits(q: f64) -> String {
    let s = format!("{:.3}", q * 100.0);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A quantile as an ordinal: `99.9th`, `95th`.
pub fn ordinal_pct(q: f64) -> String {
    format!("{}th", percent_digits(q))
}

/// The label of the figure at quantile `q`: `p95` for 0.95, `p97.5` for
/// 0.975, `p5` for 0.05. Every label of the policy's confidence (and of its
/// low side, [`low_quantile`]) comes from here.
pub fn quantile_label(q: f64) -> String {
    format!("p{}", percent_digits(q))
}

/// The policy's confidence as a percentage, exact: `95%`, `97.5%`, `99%`
/// (not [`pct`]'s rounding, which writes 0.975 as `98%`).
pub fn confidence_pct(confidence: f64) -> String {
    format!("{}%", percent_digits(confidence))
}

/// The label of the month at the policy's confidence, in every report and
/// the diff: `bad month at 95%`.
pub fn bad_month(confidence: f64) -> String {
    format!("bad month at {}", confidence_pct(confidence))
}

/// The label of the month with every input at its central value and no
/// scenario (the report's `typical` figures), in every report and the diff.
pub const CENTRAL_INPUTS: &str = "central inputs";

/// The low-side quantile of a confidence, at which revenue and margin are
/// read (their bad side): 0.05 for 0.95, without the float residue of
/// `1 − c` (0.050000000000000044).
pub fn low_quantile(confidence: f64) -> f64 {
    ((1.0 - confidence) * 1e12).round() / 1e12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_agrees_with_its_count() {
        assert_eq!(plural(1, "thread", "threads"), "1 thread");
        assert_eq!(plural(2, "thread", "threads"), "2 threads");
        assert_eq!(plural(0, "thread", "threads"), "0 threads");
        assert_eq!(plural(1, "needs approval", "need approval"), "1 needs approval");
        assert_eq!(plural(3, "needs approval", "need approval"), "3 need approval");
        assert_eq!(plural(1200, "trial", "trials"), "1,200 trials");
    }

    #[test]
    fn money_and_shares_format_by_size() {
        assert_eq!(usd(18838.2), "$18,838");
        assert_eq!(usd(12.5), "$12.50");
        assert_eq!(usd(0.042), "$0.042");
        assert_eq!(usd(0.0031), "$0.0031");
        assert_eq!(usd(-5.0), "-$5.00");
        assert_eq!(usd(0.0), "$0");
        assert_eq!(signed_usd(25.0), "+$25.00");
        assert_eq!(signed_usd(-3.1), "-$3.10");
        assert_eq!(pct(0.314), "31%");
        assert_eq!(pct(0.025), "2.5%");
        assert_eq!(pct(f64::INFINITY), "∞");
        assert_eq!(usd_per_mtok(2.5), "$2.50");
        assert_eq!(usd_per_mtok(0.0375), "$0.0375");
        assert_eq!(figure("cost_revenue_ratio", 0.314), "31%");
        assert_eq!(figure("p95_monthly_usd", 18838.2), "$18,838");
        assert_eq!(drift(0.05), "5%");
        assert_eq!(drift(0.025), "2.5%");
    }

    #[test]
    fn counts_format_with_separators() {
        assert_eq!(count(1234567.0), "1,234,567");
        assert_eq!(count(-1234.0), "-1,234");
        assert_eq!(count(12.5), "12.50");
        assert_eq!(ordinal_pct(0.999), "99.9th");
    }

    #[test]
    fn confidence_labels_are_exact_for_every_confidence() {
        assert_eq!(quantile_label(0.95), "p95");
        assert_eq!(quantile_label(0.975), "p97.5");
        assert_eq!(quantile_label(0.99), "p99");
        assert_eq!(quantile_label(0.999), "p99.9");
        assert_eq!(confidence_pct(0.95), "95%");
        assert_eq!(confidence_pct(0.975), "97.5%");
        assert_eq!(confidence_pct(0.99), "99%");
        // the old formatter rounded 0.975 to a confidence nobody set
        assert_eq!(pct(0.975), "98%");
        assert_eq!(low_quantile(0.95), 0.05);
        assert_eq!(low_quantile(0.975), 0.025);
        assert_eq!(quantile_label(low_quantile(0.95)), "p5");
        assert_eq!(quantile_label(low_quantile(0.975)), "p2.5");
        assert_eq!(quantile_label(low_quantile(0.99)), "p1");
    }
}
