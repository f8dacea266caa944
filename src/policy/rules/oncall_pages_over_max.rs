//! `oncall-pages-over-max`: the breakers would page on-call more often a
//! month than the policy's `max_oncall_pages_per_month`.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::OncallPagesOverMax,
    code: "oncall-pages-over-max",
    default_level: Level::Deny,
    summary: "The breakers that page on-call would page more often than `max_oncall_pages_per_month`.",
    help: "raise the limit of the breakers that page on-call, or let them notify the account manager or the user instead",
    doc: "Fires when the policy sets `max_oncall_pages_per_month` and the simulated expected pages a month \
          (mean trips of the breakers whose `notify` names `on-call`) are above it. A breaker set so tight that \
          it pages every week is as much a design error as one set too loose. Off unless the policy sets the \
          threshold; needs a simulation. The figure is `max_oncall_pages_per_month`.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let Some(max) = c.th.max_oncall_pages_per_month else {
        return;
    };
    let Some(levels) = c.facts.sim.and_then(|s| s.breaker_levels.as_ref()) else {
        return;
    };
    let pages = levels.oncall_pages_per_month;
    if pages <= max {
        return;
    }
    let paging: Vec<String> = levels
        .breakers
        .iter()
        .filter(|b| b.notify.contains(&crate::spec::NotifyWho::OnCall) && b.mean_trips_per_month > 0.0)
        .map(|b| format!("`{}` {:.1}", b.breaker, b.mean_trips_per_month))
        .collect();
    let (loc, path) = c
        .spec
        .breakers
        .iter()
        .find(|(_, b)| b.notify.contains(&crate::spec::NotifyWho::OnCall))
        .map_or((c.spec.feature.loc, "feature".to_string()), |(_, b)| {
            (b.loc, b.path.clone())
        });
    out.push(
        &DEF,
        c.at(loc, &path),
        format!(
            "the breakers would page on-call {pages:.1} times a month ({}), above the policy's {max}",
            paging.join(", ")
        ),
    )
    .figure = Some(Figure {
        name: "max_oncall_pages_per_month".into(),
        value: pages,
        threshold: max,
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_when_the_pages_pass_the_threshold_and_only_when_it_is_set() {
        // A global breaker far below the day's spend pages on every day of
        // the month (30); one far above it never does.
        let tight =
            format!("{GOOD}breakers:\n  global_daily_usd: {{limit: 0.01, on_trip: notify, notify: [on-call]}}\n");
        let loose =
            format!("{GOOD}breakers:\n  global_daily_usd: {{limit: 1000000, on_trip: notify, notify: [on-call]}}\n");
        let policy = "[thresholds]\nmax_oncall_pages_per_month = 4\n";
        let f = fired(&DEF, &tight, policy);
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(f[0].message.contains("30.0 times a month"), "{}", f[0].message);
        assert_eq!(f[0].figure.as_ref().map(|x| x.value), Some(30.0));
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("breakers.global_daily_usd")
        );
        assert!(fired(&DEF, &loose, policy).is_empty());
        // Off by default.
        assert!(fired(&DEF, &tight, "").is_empty());
    }
}
