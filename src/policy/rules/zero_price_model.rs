//! `zero-price-model`: a model is priced as free.

use super::{Check, Ctx, Level, Out, Rule, RuleDef};

pub(super) const DEF: RuleDef = RuleDef {
    rule: Rule::ZeroPriceModel,
    code: "zero-price-model",
    default_level: Level::Warn,
    summary: "A model the feature uses is priced at $0 for input and output: the figures show it as free.",
    help: "check the price with the vendor; if it is not free, give its prices in the spec (`{input_usd_per_mtok: .., output_usd_per_mtok: ..}`) or use a catalog entry that prices it",
    doc: "Fires for each model of the spec whose price is $0 for both input and output, pointing at its \
          definition under `models:`. The message names where the price came from: the spec's own prices, \
          or the catalog entry, its provider and its source. A $0 price is counted as given, never \
          silently replaced, so every figure counts the model's calls as free.",
    check: Check::Feature(check),
};

fn check(c: &Ctx, out: &mut Out) {
    let (spec, pricing) = (c.spec, c.facts.pricing);
    for z in &pricing.zero_priced {
        let def = spec.models.iter().find(|m| m.key == z.key);
        let from = if z.provider == crate::pricing::SPEC_PROVIDER {
            "by the prices given in the spec".to_string()
        } else {
            format!(
                "by the catalog entry `{}`{} ({})",
                z.entry,
                if z.provider.is_empty() {
                    String::new()
                } else {
                    format!(" of provider `{}`", z.provider)
                },
                if z.source.is_empty() { &pricing.name } else { &z.source }
            )
        };
        out.push(
            &DEF,
            def.and_then(|d| c.at(d.loc, &d.path)),
            format!(
                "model `{}` (`{}`) is priced at $0 for input and output {from}: every figure counts its calls as free",
                z.key, z.requested
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{GOOD, fired};
    use super::*;

    #[test]
    fn fires_for_a_model_priced_at_zero_only() {
        assert!(fired(&DEF, GOOD, "").is_empty());
        let free = GOOD.replace(
            "  primary: claude-haiku-4-5\n",
            "  primary: {input_usd_per_mtok: 0, output_usd_per_mtok: 0}\n",
        );
        let f = fired(&DEF, &free, "");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].message.contains("by the prices given in the spec"),
            "{}",
            f[0].message
        );
        assert_eq!(f[0].span.as_ref().unwrap().path, "models.primary");
    }
}
