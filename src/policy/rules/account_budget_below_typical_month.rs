//! `account-budget-below-typical-month`: a named account whose budget is
//! below its own typical month alerts every month.

use super::{Check, Ctx, Level, Out, Rule, RuleDef, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::AccountBudgetBelowTypicalMonth,
    code: "account-budget-below-typical-month",
    default_level: Level::Warn,
    summary: "A named account's monthly budget is below its own typical month, so it is reached every month.",
    help: "renegotiate the account's `monthly_usd` above its typical month, or lower that month (a cheaper model, a per-user limit)",
    doc: "Fires for each entry of a tier's `accounts` whose `monthly_usd` is below the account's typical month \
          at central inputs (every quantity at its median or mode, no scenario): its users x the active share \
          x the days x interactions per active day x the typical interaction at the tier's model. Such a \
          budget alerts (or, with `on_limit: block`, stops the account) every month. The message names the \
          account, its budget and its typical month.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let spec = c.spec;
    let per_user_day = spec.usage.interactions_per_active_day.central() * spec.usage.active_share.central();
    let days = f64::from(spec.usage.days);
    for (t, u) in spec.tiers.iter().zip(c.facts.unit_costs) {
        for a in &t.accounts {
            let typical = a.users.central() * per_user_day * days * u.typical_interaction_usd;
            if a.monthly_usd.value < typical {
                out.push(
                    &DEF,
                    c.at(a.monthly_usd.loc, &a.monthly_usd.path),
                    format!(
                        "account `{}` of tier `{}` has a budget of {} a month, below its typical month ({}): it would reach it every month",
                        a.name,
                        t.name,
                        usd(a.monthly_usd.value),
                        usd(typical)
                    ),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_an_account_budget_below_its_typical_month_only() {
        // GOOD's typical active user-day is 3 interactions at Haiku of about
        // $0.002 each, active share 0.3: about $0.054 a user-month, so 1,000
        // users' typical month is about $54.
        let with = |budget: f64| {
            format!(
                "{GOOD}  - name: ent\n    price_usd_per_month: 5000\n    model: primary\n    accounts:\n      - {{name: acme, users: 1000, monthly_usd: {budget}}}\n      - {{name: globex, users: 10, monthly_usd: 1000}}\n"
            )
        };
        let f = fired(&DEF, &with(5.0), "");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert!(
            f[0].message.contains("account `acme` of tier `ent`"),
            "{}",
            f[0].message
        );
        assert_eq!(
            f[0].span.as_ref().map(|s| s.path.as_str()),
            Some("tiers[2].accounts[0].monthly_usd")
        );
        assert!(fired(&DEF, &with(500.0), "").is_empty());
    }
}
