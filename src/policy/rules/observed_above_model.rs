//! `observed-above-model`: usage logs (`check --observed`) show a quantity
//! above what the spec models, by more than the sampling error allows.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::ObservedAboveModel,
    code: "observed-above-model",
    default_level: Level::Warn,
    summary: "Usage logs show a quantity above what the spec models (`check --observed`).",
    help: "calibrate the spec from the logs (`costgate calibrate LOGS --spec SPEC`), or find what changed in production",
    doc: "Fires with `check --observed LOGS`, once for each quantity the logs measure (tokens per call, calls per \
          interaction, interactions per active user-day) whose observed p95 or mean is above the spec's by more \
          than the sampling error allows: the lower end of the observed figure's one-sided 95% interval is above \
          the spec's figure. It points at the quantity's line in the spec and gives both figures and the number \
          of observations. A spec that is right is flagged by chance at most 10% of the time per quantity (two \
          one-sided tests at 5%). This is what catches a power-user workflow within days of launch instead of at \
          the end of the month. Not judged without `--observed`.",
    check: Check::Feature(check),
};

fn words(path: &str) -> &str {
    match path {
        "interaction.input_tokens" => "input tokens per call",
        "interaction.output_tokens" => "output tokens per call",
        "interaction.calls" => "calls per interaction",
        "interaction.cached_input_share" => "cached share of input",
        "usage.interactions_per_active_day" => "interactions per active day",
        "usage.active_share" => "active share of users",
        other => other,
    }
}

fn check(c: &Ctx, out: &mut Out) {
    let n = crate::spec::rewrite::number;
    for d in c.facts.drift.iter().filter(|d| d.above) {
        // The p95 when it is above beyond sampling error, else the mean.
        let (figure, observed, low, modelled, spec) = if d.observed_p95_low > d.spec_p95 {
            ("p95", d.observed_p95, d.observed_p95_low, "", d.spec_p95)
        } else {
            ("mean", d.observed_mean, d.observed_mean_low, "a mean of ", d.spec_mean)
        };
        let message = format!(
            "{}: observed {figure} {} over {} {} (at least {} at 95% confidence); the spec models {modelled}{}",
            words(&d.path),
            n(observed),
            crate::fmt::count(d.n as f64),
            d.unit,
            n(low),
            n(spec)
        );
        out.push(&DEF, c.at(d.loc, &d.path), message);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired, fired_with_drift};
    use super::*;
    use crate::calibrate::Drift;

    fn drift(spec: &crate::spec::Spec, observed_p95_low: f64, observed_mean_low: f64) -> Vec<Drift> {
        let q = &spec.usage.interactions_per_active_day;
        vec![Drift {
            path: q.path.clone(),
            loc: q.loc,
            observed_p95: observed_p95_low * 1.1,
            observed_p95_low,
            observed_mean: observed_mean_low * 1.1,
            observed_mean_low,
            spec_p95: 14.0,
            spec_mean: 5.0,
            n: 4120,
            unit: "user-days",
            above: observed_p95_low > 14.0 || observed_mean_low > 5.0,
        }]
    }

    #[test]
    fn fires_at_the_quantity_line_only_when_the_logs_are_above_beyond_sampling_error() {
        assert!(fired(&DEF, GOOD, "").is_empty(), "no logs, no finding");
        assert!(fired_with_drift(&DEF, GOOD, "", |s| drift(s, 13.0, 4.0)).is_empty());
        let f = fired_with_drift(&DEF, GOOD, "", |s| drift(s, 28.0, 4.0));
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].message,
            "interactions per active day: observed p95 30.8 over 4,120 user-days (at least 28 at 95% confidence); the spec models 14"
        );
        let span = f[0].span.as_ref().unwrap();
        assert_eq!(span.path, "usage.interactions_per_active_day");
        assert!(span.line > 0);
        let f = fired_with_drift(&DEF, GOOD, "", |s| drift(s, 10.0, 6.0));
        assert_eq!(f.len(), 1);
        assert!(f[0].message.contains("observed mean 6.6"), "{}", f[0].message);
        assert_eq!(f[0].level, Level::Warn);
    }
}
