//! The two public catalogs teams keep current, read completely from the
//! copies in fixtures/catalogs, and the built-in catalog checked against them.

use costgate::pricing::source::{Format, parse_detected};
use costgate::pricing::{Catalog, ModelPrice, builtin, resolve, same_provider};

const LITELLM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/litellm-prices-2026-07.json"
);
const GENAI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-v2-slim-2026-08.json"
);

fn day(s: &str) -> jiff::civil::Date {
    s.parse().unwrap()
}

fn read(path: &str, on: &str) -> (Catalog, Format) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_detected(path, &bytes, day(on)).unwrap_or_else(|p| panic!("{p:#?}"))
}

fn litellm() -> Catalog {
    let (c, f) = read(LITELLM, "2026-08-21");
    assert_eq!(f, Format::LiteLlm);
    c
}

fn genai() -> Catalog {
    let (c, f) = read(GENAI, "2026-08-21");
    assert_eq!(f, Format::GenaiPrices);
    c
}

fn prices(m: &ModelPrice) -> (f64, f64, Option<f64>, Option<f64>) {
    (
        m.input_usd_per_mtok,
        m.output_usd_per_mtok,
        m.cached_input_usd_per_mtok,
        m.cache_write_usd_per_mtok,
    )
}

fn cliff(m: &ModelPrice) -> (f64, f64, f64, Option<f64>, Option<f64>) {
    let lc = m
        .above
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no long-context price", m.id));
    (
        lc.threshold_tokens,
        lc.input_usd_per_mtok,
        lc.output_usd_per_mtok,
        lc.cached_input_usd_per_mtok,
        lc.cache_write_usd_per_mtok,
    )
}

#[test]
fn litellm_is_read_completely() {
    let c = litellm();
    // 218 entries: 166 `chat` and 23 `responses` models; 29 embedding,
    // image, audio, completion and realtime entries are skipped
    assert_eq!(c.models().len(), 189);
    assert!(
        c.notes()[0].starts_with("skipped 29 entries that are not chat models"),
        "{:?}",
        c.notes()
    );
    assert!(c.find("text-embedding-3-large").is_none());
    assert!(c.find("o3-pro").is_some(), "responses-only models are chat models");
    assert_eq!(c.info().checked, "2026-08-21");
    assert!(c.changes().is_empty(), "LiteLLM has no dated prices");

    let gpt4o = c.find("gpt-4o").unwrap();
    assert_eq!(prices(gpt4o), (2.5, 10.0, Some(1.25), None));
    assert_eq!(gpt4o.context_window, Some(128_000.0));
    assert!(gpt4o.above.is_none());

    let sonnet = c.find("anthropic/claude-sonnet-4-5").unwrap();
    assert_eq!(prices(sonnet), (3.0, 15.0, Some(0.3), Some(3.75)));
    assert_eq!(cliff(sonnet), (200_000.0, 6.0, 22.5, Some(0.6), Some(7.5)));

    // the 272k cliff
    let g = c.find("gpt-5.4").unwrap();
    assert_eq!(prices(g), (2.5, 15.0, Some(0.25), None));
    assert_eq!(cliff(g), (272_000.0, 5.0, 22.5, Some(0.5), None));

    // gemini-2.5-pro: a long-context cache price but no base cache-write price
    let gem = c.find("gemini/gemini-2.5-pro").unwrap();
    assert_eq!(gem.provider, "vertex_ai-language-models");
    assert_eq!(prices(gem), (1.25, 10.0, Some(0.125), None));
    assert_eq!(cliff(gem), (200_000.0, 2.5, 15.0, Some(0.25), Some(0.25)));

    for m in c.models() {
        assert!(m.prices().is_valid(), "{}", m.id);
    }
    // the source lists one chat model with a zero output price; it is read as written
    let free: Vec<&str> = c
        .models()
        .iter()
        .filter(|m| m.output_usd_per_mtok == 0.0)
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(free, ["deepseek-v3-2-251201"]);
}

#[test]
fn genai_prices_is_read_completely() {
    let c = genai();
    // 1,309 models of 36 providers; 39 have no input and output token price
    // in force (embeddings, image and audio models)
    assert_eq!(c.models().len(), 1270);
    assert!(c.notes()[0].starts_with("skipped 39 models"), "{:?}", c.notes());

    let gpt4o = c.find("gpt-4o").unwrap();
    assert_eq!(
        gpt4o.provider, "openai",
        "the vendor wins over resellers of the same name"
    );
    assert_eq!(prices(gpt4o), (2.5, 10.0, Some(1.25), None));
    assert_eq!(c.find("o3-mini").unwrap().provider, "openai");
    assert_eq!(c.find("azure/o3-mini").unwrap().provider, "azure");

    let sonnet = c.find("claude-sonnet-4-5-20250929").unwrap();
    assert_eq!(
        (sonnet.id.as_str(), sonnet.provider.as_str()),
        ("claude-sonnet-4-5", "anthropic")
    );
    assert_eq!(prices(sonnet), (3.0, 15.0, Some(0.3), Some(3.75)));
    assert_eq!(cliff(sonnet), (200_000.0, 6.0, 22.5, Some(0.6), Some(7.5)));
    // aliases from the source's match rules
    assert_eq!(c.find("claude-sonnet-4.5").unwrap().id, "claude-sonnet-4-5");
    // Gemini 1.5's 128k tier
    assert_eq!(cliff(c.find("gemini-1.5-pro").unwrap()).0, 128_000.0);

    for m in c.models() {
        assert!(m.prices().is_valid(), "{}/{}", m.provider, m.id);
    }
}

#[test]
fn genai_prices_in_force_follow_the_run_date() {
    // o3's 80% cut of 2025-06-10
    let (before, _) = read(GENAI, "2025-06-09");
    assert_eq!(prices(before.find("openai/o3").unwrap()).0, 10.0);
    assert_eq!(prices(genai().find("openai/o3").unwrap()).0, 2.0);

    // claude-sonnet-5: promotional prices until 2026-08-31, announced back up from 2026-09-01
    let c = genai();
    let s5 = c.find("claude-sonnet-5").unwrap();
    assert_eq!(prices(s5), (2.0, 10.0, Some(0.2), Some(2.5)));
    let changes: Vec<(&str, &str, &str)> = c
        .changes()
        .iter()
        .map(|ch| (ch.provider.as_str(), ch.id.as_str(), ch.starts.as_str()))
        .collect();
    assert_eq!(
        changes,
        [
            ("anthropic", "claude-sonnet-5", "2026-09-01"),
            ("aws", "global.anthropic.claude-sonnet-5-v1:0", "2026-09-01"),
            ("aws", "regional.anthropic.claude-sonnet-5-v1:0", "2026-09-01"),
            ("openrouter", "anthropic/claude-sonnet-5", "2026-09-01"),
            ("google", "gemini-3.6-flash", "2027-01-01"),
            ("google", "gemini-3.7-flash", "2027-01-01"),
        ]
    );
    // the same catalog moved past the date prices at the new rates
    let later = c.in_force_on(day("2026-09-02"));
    assert_eq!(
        prices(later.find("claude-sonnet-5").unwrap()),
        (3.0, 15.0, Some(0.3), Some(3.75))
    );
    assert_eq!(later.changes().len(), 2);

    // DeepSeek's peak price applies all day (costgate cannot know the hour)
    assert_eq!(prices(c.find("deepseek-chat").unwrap()).0, 0.27);
}

const SPEC: &str = "costgate: 1
feature: {id: f, value: {kind: revenue}}
models:
  primary: anthropic/claude-sonnet-5
  cheap: gpt-4o-mini
interaction: {input_tokens: 1000, output_tokens: 500}
usage: {days: 30, active_share: 1, interactions_per_active_day: 10}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary}
";

#[test]
fn announced_changes_inside_the_simulated_month_are_reported() {
    let spec = costgate::spec::load_str("t.yaml", SPEC).unwrap_or_else(|p| panic!("{p:#?}"));
    let c = genai();
    let priced = resolve(&spec, &c).unwrap();
    assert_eq!(priced.get("primary").input_usd_per_mtok, 2.0, "priced at today's rate");
    let ann = &priced.catalog.announced_changes;
    assert_eq!(ann.len(), 1, "{ann:#?}");
    assert_eq!(
        (ann[0].model.as_str(), ann[0].starts.as_str()),
        ("claude-sonnet-5", "2026-09-01")
    );
    assert_eq!(
        ann[0].describe(),
        "claude-sonnet-5 (anthropic) from 2026-09-01: input $2.00 → $3.00, output $10.00 → $15.00, cached input $0.20 → $0.30, cache write $2.50 → $3.75"
    );
    // a month that ends before the change: nothing to report
    let early = c.in_force_on(day("2026-07-01"));
    assert!(resolve(&spec, &early).unwrap().catalog.announced_changes.is_empty());
    // a month that starts after it: already in force
    let after = resolve(&spec, &c.in_force_on(day("2026-09-01"))).unwrap();
    assert!(after.catalog.announced_changes.is_empty());
    assert_eq!(after.get("primary").input_usd_per_mtok, 3.0);
}

#[test]
fn unknown_names_list_the_closest_known_ones() {
    let spec = costgate::spec::load_str("t.yaml", &SPEC.replace("anthropic/claude-sonnet-5", "claude-sonet-4-5"))
        .unwrap_or_else(|p| panic!("{p:#?}"));
    let p = resolve(&spec, &litellm()).unwrap_err();
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("unknown model `claude-sonet-4-5`"), "{}", p[0]);
    assert!(p[0].message.contains("LiteLLM"), "{}", p[0]);
    assert!(
        p[0].hint.as_deref().unwrap().contains("`claude-sonnet-4-5`"),
        "{:?}",
        p[0].hint
    );
}

const LITELLM_NOV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/litellm-1.110.2-prices-2026-11.json"
);
const GENAI_NOV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-0.2.3-2026-11.json"
);

/// Where the built-in catalog knowingly differs from one source, and why.
/// Each entry must still be a real disagreement (so a fixed one is removed).
const KNOWN_DIFFERENCES: &[(&str, &str, &str)] = &[];

/// The catalog's entry for the built-in model `name` of `provider`, under
/// the names the catalog uses for the vendor's own offering.
fn vendor_entry<'a>(cat: &'a Catalog, provider: &str, name: &str) -> Option<&'a ModelPrice> {
    let prefixes: &[&str] = match provider {
        "google" => &["gemini", "google"],
        p => std::slice::from_ref(match p {
            "openai" => &"openai",
            "anthropic" => &"anthropic",
            _ => &"",
        }),
    };
    prefixes
        .iter()
        .filter_map(|p| cat.find(&format!("{p}/{name}")))
        .find(|o| same_provider(&o.provider, provider))
}

/// Every price the built-in catalog claims, for its id and every alias,
/// equals the price of the same model at the same vendor in the 2026-11
/// snapshots of LiteLLM and genai-prices wherever they list it (or the
/// difference is documented above), and every entry is listed by at least
/// one of them and says so in its `source`.
#[test]
fn the_builtin_catalog_equals_the_2026_11_snapshots() {
    let b = builtin();
    assert_eq!(b.info().checked, "2026-11-29");
    let (lite, _) = read(LITELLM_NOV, "2026-11-29");
    let (genai, _) = read(GENAI_NOV, "2026-11-29");
    let sources = [("LiteLLM 1.110.2", lite), ("genai-prices 0.2.3", genai)];
    let mut compared = 0;
    let mut disagreements = Vec::new();
    for m in b.models() {
        let mut listed_by = Vec::new();
        for (name, cat) in &sources {
            for n in std::iter::once(&m.id).chain(&m.aliases) {
                let Some(o) = vendor_entry(cat, &m.provider, n) else {
                    continue;
                };
                if !listed_by.contains(name) {
                    listed_by.push(*name);
                }
                compared += 1;
                let known = KNOWN_DIFFERENCES.iter().any(|(id, src, _)| *id == m.id && src == name);
                // a long-context tier that starts at or past the window never applies
                let live = |x: &ModelPrice| {
                    x.above
                        .as_ref()
                        .filter(|a| m.context_window.is_none_or(|w| a.threshold_tokens < w))
                        .map(|a| {
                            (
                                a.threshold_tokens,
                                a.input_usd_per_mtok,
                                a.output_usd_per_mtok,
                                a.cached_input_usd_per_mtok,
                            )
                        })
                };
                let same = prices(o) == prices(m) && live(o) == live(m);
                if known {
                    assert!(!same, "{} now agrees with {name}: drop it from KNOWN_DIFFERENCES", m.id);
                } else if !same {
                    disagreements.push(format!(
                        "{} (as `{n}`) vs {name} `{}`: built-in {:?} {:?}, {name} {:?} {:?}",
                        m.id,
                        o.id,
                        prices(m),
                        live(m),
                        prices(o),
                        live(o)
                    ));
                }
            }
        }
        if listed_by.is_empty() {
            disagreements.push(format!("{} is in neither 2026-11 catalog", m.id));
        }
        for name in &listed_by {
            if !m.source.contains(name) {
                disagreements.push(format!(
                    "{}: the source does not say {name} lists it: {}",
                    m.id, m.source
                ));
            }
        }
        if !(m.source.starts_with("https://") && m.source.contains("2026-11-29")) {
            disagreements.push(format!(
                "{}: the source names no vendor page or date: {}",
                m.id, m.source
            ));
        }
    }
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
    assert!(compared >= 100, "only {compared} comparisons: names no longer line up");
}

/// The models issue 10 found missing are there, and `claude-sonnet-4-5`
/// has the 200k window (its 1M beta was retired) and no tier past it.
#[test]
fn the_builtin_catalog_has_the_current_models() {
    let b = builtin();
    for id in [
        "gpt-5.1",
        "gpt-5.2",
        "gpt-5.3",
        "gpt-5.4",
        "gpt-5.5",
        "gpt-5.6",
        "gpt-5.4-mini",
        "gpt-5.4-nano",
        "gpt-5.4-pro",
        "o1",
        "o1-pro",
        "o3-pro",
        "claude-sonnet-4-6",
        "claude-opus-4-6",
        "claude-opus-4-7",
        "claude-opus-4-8",
        "claude-sonnet-5",
        "claude-opus-5",
        "gemini-3-pro-preview",
        "gemini-3-flash-preview",
        "gemini-3.1-pro-preview",
        "gemini-3.1-flash-lite",
        "gemini-3.5-flash",
        "gemini-3.5-flash-lite",
    ] {
        let m = b.find(id).unwrap_or_else(|| panic!("{id} missing"));
        assert_eq!(m.id, id);
        assert!(m.context_window.is_some() && m.max_output_tokens.is_some(), "{id}");
    }
    let s = b.find("claude-sonnet-4-5").unwrap();
    assert_eq!(s.context_window, Some(200_000.0));
    assert!(s.above.is_none());
    // dated snapshots priced differently are entries of their own
    let old = b.find("gpt-4o-2024-05-13").unwrap();
    assert_eq!(
        (old.id.as_str(), old.input_usd_per_mtok, old.output_usd_per_mtok),
        ("gpt-4o-2024-05-13", 5.0, 15.0)
    );
    let latest = b.find("chatgpt-4o-latest").unwrap();
    assert_eq!((latest.input_usd_per_mtok, latest.output_usd_per_mtok), (5.0, 15.0));
}

// ------------------------------------------------- match patterns ----

const GENAI_0_2_3: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-0.2.3-2026-11.json"
);

#[test]
fn genai_prices_lookahead_patterns_compile_and_match() {
    // genai-prices writes Python `re` patterns: Gemini 2.5 Pro answers to
    // its preview names except the text-to-speech ones, through a lookahead
    // (which matched nothing before: the pattern did not compile, silently).
    let (c, f) = read(GENAI_0_2_3, "2026-11-28");
    assert_eq!(f, Format::GenaiPrices);
    let m = c
        .models()
        .iter()
        .find(|m| m.id == "gemini-2.5-pro" && m.provider == "google")
        .expect("gemini-2.5-pro");
    let rule = m.match_rule.as_ref().expect("a match rule");
    assert!(rule.accepts("gemini-2.5-pro-preview-06-05"), "{rule:?}");
    assert!(!rule.accepts("gemini-2.5-pro-preview-tts"), "{rule:?}");
    let found = c
        .find("gemini-2.5-pro-preview-06-05")
        .expect("resolves through the rule");
    assert_eq!(
        (found.id.as_str(), found.provider.as_str()),
        ("gemini-2.5-pro", "google")
    );
}

#[test]
fn a_genai_pattern_that_does_not_compile_is_an_error_naming_the_catalog_and_model() {
    let day = day("2026-08-21");
    let model = r#"{"id": "m", "match": {"or": [{"equals": "m"}, {"regex": "^m-(\\d+"}]}, "prices": {"input_mtok": 1, "output_mtok": 2}}"#;
    let catalog = format!(r#"[{{"id": "p", "models": [{model}]}}]"#);
    let ps = parse_detected("bad-prices.json", catalog.as_bytes(), day).expect_err("refused");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(&*ps[0].span.file, "bad-prices.json");
    assert_eq!(ps[0].span.path, "$[0].models[0].match.or[1].regex");
    assert!(
        ps[0].message.contains("model `p/m`") && ps[0].message.contains(r"`^m-(\d+`"),
        "{}",
        ps[0].message
    );
    // a provider's `model_match` too
    let catalog = format!(r#"[{{"id": "p", "model_match": {{"regex": "[unclosed"}}, "models": [{model}]}}]"#)
        .replace(r#"{"regex": "^m-(\\d+"}"#, r#"{"regex": "^m-\\d+$"}"#);
    let ps = parse_detected("bad-prices.json", catalog.as_bytes(), day).expect_err("refused");
    assert_eq!(ps.len(), 1, "{ps:#?}");
    assert_eq!(ps[0].span.path, "$[0].model_match.regex");
    assert!(
        ps[0].message.contains("provider `p`") && ps[0].message.contains("`[unclosed`"),
        "{}",
        ps[0].message
    );
    // and a pinned snapshot of costgate's own format that carries one
    let good = catalog.replace(r#"{"regex": "[unclosed"}"#, r#"{"equals": "p"}"#);
    let (c, _) = parse_detected("good.json", good.as_bytes(), day).unwrap();
    let toml = c.to_toml(&[]);
    assert!(toml.contains(r"regex = '^m-\d+$'"), "{toml}");
    let bad = toml.replace(r"regex = '^m-\d+$'", r"regex = '^m-(\d+'");
    let e = Catalog::parse_costgate("costgate-prices.lock.toml", &bad).expect_err("refused");
    assert!(
        e.message.contains("model `m`") && e.message.contains("does not compile"),
        "{}",
        e.message
    );
    assert!(e.line > 1, "placed at the model: {e:?}");
}
