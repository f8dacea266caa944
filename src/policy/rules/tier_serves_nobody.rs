//! `tier-serves-nobody`: a tier's limits leave almost all of its demand
//! unserved.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, pct};
use crate::fmt::quantile_label;

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::TierServesNobody,
    code: "tier-serves-nobody",
    default_level: Level::Warn,
    summary: "More than `max_unserved_share` of a tier's demand is left unserved at the policy's confidence: the tier serves (almost) nobody.",
    help: "raise the tier's cap to at least a typical active day, or let it fall back, shrink or throttle instead of blocking",
    doc: "Fires for each tier whose share of the tokens asked for that is not served (blocked, cut by a cap, a \
          budget or a breaker, or shrunk away) is above `max_unserved_share` (default 0.9) in the simulated \
          month read at the policy's `confidence` (its bad side: the `confidence` quantile of the month-by-month \
          share, over the months in which the tier asked for anything), pointing at the tier's limit. Needs a \
          simulation: a library caller that runs none gets no finding. The figure is `max_unserved_share`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let Some(s) = c.facts.sim else { return };
    let max = c.th.max_unserved_share;
    for (t, ts) in c.spec.tiers.iter().zip(&s.tiers) {
        let Some(unserved) = ts.unserved_share_at_confidence else {
            continue;
        };
        if unserved <= max {
            continue;
        }
        let (loc, path) = t.limit_site();
        out.push(
            &DEF,
            c.at(loc, path),
            format!(
                "tier `{}` leaves {} of the tokens its users ask for unserved at {} of the simulated month \
                 ({} on average); policy allows {}",
                t.name,
                pct(unserved),
                quantile_label(s.confidence),
                pct(ts.effects.demand_unserved_share),
                pct(max)
            ),
        )
        .figure = Some(Figure {
            name: "max_unserved_share".into(),
            value: unserved,
            threshold: max,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    /// GOOD with the free tier's daily cap at `daily` tokens (a typical
    /// call is 1,200 tokens; a typical active day of 3 interactions 3,600).
    fn spec(daily: u32) -> String {
        GOOD.replacen(
            "      daily_tokens: 20000\n",
            &format!("      daily_tokens: {daily}\n"),
            1,
        )
    }

    #[test]
    fn fires_when_a_tier_serves_almost_nothing_only() {
        // 50 tokens a day against days of thousands: about 98% unserved.
        let f = fired(&DEF, &spec(50), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("tier `free`"), "{}", f[0].message);
        let x = f[0].figure.as_ref().unwrap();
        assert!(x.value > 0.95 && x.value < 1.0, "{x:?}");
        assert_eq!(x.threshold, 0.9);
        assert_eq!(f[0].span.as_ref().map(|s| s.path.as_str()), Some("tiers[0].limit"));
        assert!(fired(&DEF, GOOD, "").is_empty());
        // The threshold is the policy's: at the figure it does not fire,
        // just below it it does.
        let v = x.value;
        let at = format!("[thresholds]\nmax_unserved_share = {v}\n");
        assert!(fired(&DEF, &spec(50), &at).is_empty());
        let below = format!("[thresholds]\nmax_unserved_share = {}\n", v - 1e-6);
        assert_eq!(fired(&DEF, &spec(50), &below).len(), 1);
        // A share above 1 is refused, at its line and field path.
        let p = crate::policy::load_str("costgate.toml", "[thresholds]\nmax_unserved_share = 1.5\n").unwrap_err();
        assert_eq!(
            (p[0].span.line, p[0].span.path.as_str()),
            (2, "thresholds.max_unserved_share")
        );
    }
}
