//! `cost-per-call-over-max`: one call can cost too much, or has no ceiling.

use super::{Check, Ctx, Figure, Level, Out, Rule, RuleDef, usd};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::CostPerCallOverMax,
    code: "cost-per-call-over-max",
    default_level: Level::Deny,
    summary: "The worst-case cost of one call is above `max_cost_per_call_usd`.",
    help: "lower `max_input_tokens` / `max_output_tokens`, or use a cheaper model for this tier",
    doc: "Fires for each tier whose worst-case call (`max_input_tokens` in, `max_output_tokens` out, at the \
          dearest rate) costs more than `max_cost_per_call_usd` (pointing at `interaction`; the figure is \
          `max_cost_per_call_usd`), and for each tier whose call has no ceiling at all: no token limits in \
          the spec and none published for the model (pointing at the tier's `model`).",
    check: Check::Feature(check),
};

const NO_CEILING_HELP: &str = "set `interaction.max_input_tokens` and `max_output_tokens`";

fn check(c: &Ctx, out: &mut Out) {
    let spec = c.spec;
    for u in c.facts.unit_costs {
        let t = spec
            .tiers
            .iter()
            .find(|t| t.name == u.tier)
            .expect("unit costs follow tiers");
        match u.worst_call_usd {
            Some(w) if w > c.th.max_cost_per_call_usd => {
                out.push(
                    &DEF,
                    c.at(spec.interaction.loc, "interaction"),
                    format!(
                        "one call of tier `{}` on {} can cost {} at the limits, above the policy's {}",
                        u.tier,
                        u.model,
                        usd(w),
                        usd(c.th.max_cost_per_call_usd)
                    ),
                )
                .figure = Some(Figure {
                    name: "max_cost_per_call_usd".into(),
                    value: w,
                    threshold: c.th.max_cost_per_call_usd,
                });
            }
            None => {
                out.push_help(
                    &DEF,
                    c.at(t.model_loc, &format!("{}.model", t.path)),
                    format!(
                        "one call of tier `{}` has no cost ceiling: no token limits are set and {} publishes none",
                        u.tier, u.model
                    ),
                    NO_CEILING_HELP,
                );
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_above_the_maximum_for_each_tier_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let f = fired(&DEF, GOOD, "[thresholds]\nmax_cost_per_call_usd = 0.001\n");
        assert_eq!(f.len(), 2, "one per tier");
        assert!(f.iter().all(|x| x.figure.as_ref().unwrap().value > 0.001));
        assert_eq!(f[0].help, DEF.help);
    }
}
