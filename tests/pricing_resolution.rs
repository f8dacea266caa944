//! Issue 10, "Prices": a name resolves only to an entry the catalog says is
//! that model at that provider; $0 is never silent; an input beyond the
//! context window is an error; Bedrock ids resolve on genai-prices data.

use costgate::check::{Request, run};
use costgate::policy::{Level, Policy, Rule};
use costgate::pricing::source::parse_detected;
use costgate::pricing::{Catalog, resolve};
use costgate::sim::Options;

const LITELLM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/litellm-1.110.2-prices-2026-11.json"
);
const GENAI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/fixtures/catalogs/genai-prices-0.2.3-2026-11.json"
);

fn read(path: &str) -> Catalog {
    let bytes = std::fs::read(path).unwrap();
    parse_detected(path, &bytes, "2026-11-29".parse().unwrap())
        .unwrap_or_else(|p| panic!("{p:#?}"))
        .0
}

fn spec(model: &str, interaction: &str) -> String {
    format!(
        "costgate: 1
feature: {{id: f, value: {{kind: revenue}}}}
models:
  primary: {model}
interaction: {interaction}
usage: {{days: 30, active_share: 1, interactions_per_active_day: 10}}
tiers:
  - {{name: pro, users: 100, price_usd_per_month: 20, model: primary, limit: {{daily_tokens: 100000, on_limit: block, message: \"You've used {{used}}/{{limit}} tokens today; they reset at {{reset}}.\"}}}}
"
    )
}

const SMALL: &str =
    "{input_tokens: 1000, output_tokens: 500, max_calls: 2, max_input_tokens: 4000, max_output_tokens: 1000}";

#[test]
fn litellm_names_resolve_only_to_their_own_entry() {
    let c = read(LITELLM);
    // the dated snapshot is $5/$15 in the catalog; gpt-4o is $2.50/$10
    let old = c.find("gpt-4o-2024-05-13").unwrap();
    assert_eq!((old.input_usd_per_mtok, old.output_usd_per_mtok), (5.0, 15.0));
    // the EU data zone is its own entry at +10%
    let eu = c.find("azure/eu/gpt-4o-2024-08-06").unwrap();
    assert_eq!((eu.provider.as_str(), eu.input_usd_per_mtok), ("azure", 2.75));
    // a data-zone or government name the catalog does not list is unknown,
    // not OpenAI's direct price
    assert!(c.find("azure/us-gov/gpt-4o").is_none());
    assert!(c.find("azure/eu/gpt-4o-2099-01-01").is_none());
    // Vertex's Claude is Vertex's price
    let v = c.find("vertex_ai/claude-3-5-haiku").unwrap();
    assert_eq!((v.input_usd_per_mtok, v.output_usd_per_mtok), (1.0, 5.0));
    assert!(v.provider.starts_with("vertex_ai"));
}

#[test]
fn bedrock_ids_resolve_on_genai_prices_data_under_aws() {
    let c = read(GENAI);
    for (name, id, input) in [
        (
            "anthropic.claude-3-5-sonnet-20240620-v1:0",
            "regional.anthropic.claude-3-5-sonnet-20240620-v1:0",
            3.0,
        ),
        (
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "regional.anthropic.claude-sonnet-4-5-20250929-v1:0",
            3.3,
        ),
        (
            "bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "regional.anthropic.claude-sonnet-4-5-20250929-v1:0",
            3.3,
        ),
        (
            "bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
            "regional.anthropic.claude-3-5-sonnet-20240620-v1:0",
            3.0,
        ),
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            3.0,
        ),
    ] {
        let m = c.find(name).unwrap_or_else(|| panic!("{name} did not resolve"));
        assert_eq!(
            (m.provider.as_str(), m.id.as_str(), m.input_usd_per_mtok),
            ("aws", id, input),
            "{name}"
        );
    }
    // the vendor's own names stay the vendor's
    let s = c.find("claude-sonnet-4-5-20250929").unwrap();
    assert_eq!((s.provider.as_str(), s.id.as_str()), ("anthropic", "claude-sonnet-4-5"));
    // a provider written in front is that provider's entry or nothing:
    // genai-prices lists Claude on Vertex under `google`
    let v = c.find("vertex_ai/claude-3-5-haiku@20241022").unwrap();
    assert_eq!((v.provider.as_str(), v.id.as_str()), ("google", "claude-3-5-haiku"));
    assert!(c.find("vertex_ai/gpt-4o").is_none());
    assert!(c.find("azure/eu/gpt-4o").is_none());
    // the match rules survive a pin: the TOML round trip resolves the same
    let again = Catalog::parse_costgate("pin", &c.to_toml(&[])).unwrap();
    let m = again.find("us.anthropic.claude-sonnet-4-5-20250929-v1:0").unwrap();
    assert_eq!((m.provider.as_str(), m.input_usd_per_mtok), ("aws", 3.3));
}

#[test]
fn an_unlisted_variant_is_an_error_that_names_its_relative() {
    let s = costgate::spec::load_str("t.yaml", &spec("azure/us-gov/gpt-4o", SMALL)).unwrap();
    let p = resolve(&s, &costgate::pricing::builtin()).unwrap_err();
    assert_eq!(p.len(), 1);
    assert!(p[0].message.contains("unknown model `azure/us-gov/gpt-4o`"), "{}", p[0]);
    let hint = p[0].hint.as_deref().unwrap();
    assert!(
        hint.contains("`gpt-4o` (openai) at $2.50 input / $10.00 output"),
        "{hint}"
    );
    assert!(hint.contains("does not use it in its place"), "{hint}");
}

fn findings(yaml: &str, catalog: &Catalog) -> Vec<costgate::policy::Finding> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.yaml");
    std::fs::write(&path, yaml).unwrap();
    let policy = Policy::default();
    let req = Request {
        paths: vec![path],
        policy: &policy,
        catalog,
        sim: Options {
            trials: 100,
            ..Options::default()
        },
        today: "2026-11-29".parse().unwrap(),
    };
    run(&req)
        .unwrap_or_else(|p| panic!("{p:#?}"))
        .features
        .remove(0)
        .findings
}

#[test]
fn a_zero_priced_model_is_a_warn_finding_naming_the_entry() {
    let c = read(LITELLM);
    let free = c.find("deepseek-v3-2-251201").unwrap();
    assert!(free.is_free());
    let fs = findings(&spec("deepseek-v3-2-251201", SMALL), &c);
    let z: Vec<_> = fs.iter().filter(|f| f.rule == Rule::ZeroPriceModel).collect();
    assert_eq!(z.len(), 1, "{fs:#?}");
    assert_eq!(z[0].level, Level::Warn);
    assert!(
        z[0].message.contains("catalog entry `deepseek-v3-2-251201`"),
        "{}",
        z[0].message
    );
    assert_eq!(z[0].span.as_ref().unwrap().line, 4);
    // a priced model: no such finding
    let fs = findings(&spec("gpt-4o", SMALL), &c);
    assert!(fs.iter().all(|f| f.rule != Rule::ZeroPriceModel));
    // prices given in the spec at $0 are said too
    let fs = findings(&spec("{input_usd_per_mtok: 0, output_usd_per_mtok: 0}", SMALL), &c);
    let z = fs.iter().find(|f| f.rule == Rule::ZeroPriceModel).unwrap();
    assert!(z.message.contains("prices given in the spec"), "{}", z.message);
}

#[test]
fn hints_suggest_priced_entries_first() {
    let c = read(LITELLM);
    let all: Vec<&str> = c.names().collect();
    let zero = |n: &str| c.find(n).is_some_and(|m| m.is_free());
    // names whose closest entry by spelling is priced at $0
    let mut checked = 0;
    for typo in ["glm-4-7-25122", "kimi-k2-thinking-25110", "deepseek-v3-2-25120"] {
        let nearest = costgate::source::closest(typo, all.iter().copied(), 1);
        assert!(zero(nearest[0]), "premise: the closest name to {typo} is a $0 entry");
        let s = costgate::spec::load_str("t.yaml", &spec(typo, SMALL)).unwrap();
        let p = resolve(&s, &c).unwrap_err();
        let hint = p[0].hint.as_deref().unwrap();
        let first = hint.split('`').nth(1).unwrap();
        assert!(
            !zero(first),
            "{typo}: first suggestion `{first}` is priced at $0: {hint}"
        );
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn inputs_beyond_the_context_window_are_errors() {
    let c = costgate::pricing::builtin();
    // gpt-4o's window is 128,000 tokens
    let s = costgate::spec::load_str(
        "t.yaml",
        &spec(
            "gpt-4o",
            "{input_tokens: {p50: 150000, p95: 200000}, output_tokens: 500, max_calls: 2, max_input_tokens: 300000, max_output_tokens: 1000}",
        ),
    )
    .unwrap();
    let p = resolve(&s, &c).unwrap_err();
    assert_eq!(p.len(), 2, "{p:#?}");
    let msgs: Vec<String> = p.iter().map(|p| p.to_string()).collect();
    assert!(
        msgs.iter().any(|m| m.contains("`max_input_tokens` is 300,000 tokens, more than the 128,000-token context window of `primary` (`gpt-4o`, window from https://openai.com/api/pricing/")),
        "{msgs:#?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("the median of `input_tokens` is 150,000 tokens")),
        "{msgs:#?}"
    );
    assert!(p.iter().all(|p| p.span.line == 5), "{p:#?}");
    // within the window: fine
    let ok = costgate::spec::load_str(
        "t.yaml",
        &spec("gpt-4o", "{input_tokens: {p50: 100000, p95: 200000}, output_tokens: 500, max_calls: 2, max_input_tokens: 128000, max_output_tokens: 1000}"),
    )
    .unwrap();
    assert!(resolve(&ok, &c).is_ok());
    // a window given in the spec is held too
    let own = costgate::spec::load_str(
        "t.yaml",
        &spec(
            "{input_usd_per_mtok: 1, output_usd_per_mtok: 2, context_window: 8000}",
            "{input_tokens: 9000, output_tokens: 500}",
        ),
    )
    .unwrap();
    let p = resolve(&own, &c).unwrap_err();
    assert!(p[0].message.contains("given in the spec"), "{}", p[0]);
}
