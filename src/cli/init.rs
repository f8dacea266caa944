//! `costgate init`: a starter spec, the built-in policy written out as
//! `costgate.toml`, and a GitHub workflow, never overwriting anything.
//!
//! `--like` seeds the token distributions from a public production trace
//! (the Azure LLM inference traces of 2023, CC-BY 4.0). Only numbers fitted
//! from them are here, with their citation: the traces are not in the
//! repository. They were fitted once, on 2026-11-30, with
//! `costgate calibrate TRACE --map time=TIMESTAMP,input=ContextTokens,output=GeneratedTokens --fit central`
//! (1,000 equal-probability bin means per quantity), and the 1,000 values
//! averaged in 20 consecutive blocks of 50: 20 equal-probability bin means,
//! which keep the mean of the fit (and the trace's) to within half a token.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use costgate::check::{Choice, Inputs};

use costgate::untrusted::clean;

use super::{Failure, output, today};

/// What kind of feature the starter spec describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Like {
    /// A conversational assistant (the Azure conversation trace).
    Chat,
    /// Code completion (the Azure code trace).
    Code,
    /// An agent: several calls an interaction (the code trace's tokens per call; calls assumed).
    Agent,
    /// Summarising documents (the conversation trace, inputs assumed 4x longer).
    Summarize,
}

/// A customer tier of the starter spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TierKind {
    /// Free users with a hard daily cap.
    Free,
    /// Paying users ($20 a month) with a generous cap.
    Pro,
    /// Tenants ($5,000 a month each) with a tenant budget.
    Enterprise,
}

/// `costgate init` flags.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The kind of feature: seeds the tokens per call from a public production trace.
    #[arg(long, value_enum, default_value_t = Like::Chat)]
    pub like: Like,
    /// The customer tiers, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [TierKind::Free, TierKind::Pro])]
    pub tiers: Vec<TierKind>,
    /// The model every tier uses: a name the price catalog lists (`costgate pricing list`).
    #[arg(long, value_name = "NAME", default_value = "claude-haiku-4-5")]
    pub model: String,
    /// The folder to write into (the repository's root).
    #[arg(long, short = 'o', value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
}

/// Azure LLM inference trace 2023, conversation service: 20 equal-probability
/// bin means of input and output tokens per request (trace p50 1,020 / p95
/// 4,083 input, p50 129 / p95 451 output; 19,366 requests).
const CONV_INPUT: [u32; 20] = [
    111, 197, 258, 379, 392, 400, 408, 452, 908, 1004, 1033, 1058, 1083, 1112, 1155, 1268, 1497, 2304, 3792, 4281,
];
const CONV_OUTPUT: [u32; 20] = [
    27, 48, 60, 72, 81, 88, 93, 99, 108, 120, 139, 163, 197, 332, 391, 397, 406, 417, 434, 551,
];
/// The same for the code completion service (trace p50 1,469 / p95 7,315
/// input, p50 13 / p95 90 output; 8,819 requests).
const CODE_INPUT: [u32; 20] = [
    41, 107, 186, 303, 482, 675, 860, 1009, 1156, 1361, 1576, 1797, 2045, 2305, 2580, 2943, 3517, 4451, 6134, 7430,
];
const CODE_OUTPUT: [u32; 20] = [
    6, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 15, 17, 19, 22, 26, 33, 47, 70, 206,
];

/// Everything a `--like` sets.
struct Profile {
    id: &'static str,
    name: &'static str,
    unit: &'static str,
    trace: &'static str,
    trace_file: &'static str,
    requests: &'static str,
    input: Vec<u32>,
    output: &'static [u32],
    /// Comment lines on what is assumed beyond the trace.
    assumed: &'static str,
    calls: &'static str,
    interactions: &'static str,
    max_calls: u32,
    max_input: u32,
    max_output: u32,
    free_cap: u32,
}

fn profile(like: Like) -> Profile {
    match like {
        Like::Chat => Profile {
            id: "ai-chat",
            name: "AI chat assistant",
            unit: "answered question",
            trace: "conversation service",
            trace_file: "AzureLLMInferenceTrace_conv.csv",
            requests: "19,366",
            input: CONV_INPUT.to_vec(),
            output: &CONV_OUTPUT,
            assumed: "  # One call per interaction (the trace has no interaction ids).\n",
            calls: "1",
            interactions: "{p50: 4, p95: 20}",
            max_calls: 3,
            max_input: 8000,
            max_output: 1000,
            free_cap: 30000,
        },
        Like::Code => Profile {
            id: "ai-code-assistant",
            name: "AI code completion",
            unit: "accepted completion",
            trace: "code completion service",
            trace_file: "AzureLLMInferenceTrace_code.csv",
            requests: "8,819",
            input: CODE_INPUT.to_vec(),
            output: &CODE_OUTPUT,
            assumed: "  # One call per completion (the trace has no interaction ids).\n",
            calls: "1",
            interactions: "{p50: 10, p95: 60}",
            max_calls: 3,
            max_input: 8000,
            max_output: 1000,
            free_cap: 60000,
        },
        Like::Agent => Profile {
            id: "ai-agent",
            name: "AI agent",
            unit: "completed task",
            trace: "code completion service",
            trace_file: "AzureLLMInferenceTrace_code.csv",
            requests: "8,819",
            input: CODE_INPUT.to_vec(),
            output: &CODE_OUTPUT,
            assumed: "  # Assumed, not measured: an agent's calls look like the code trace's requests\n\
                      \x20 # (tool calls with a large context, short outputs), 4 calls a task at the median\n\
                      \x20 # and 12 at p95 (the trace has no interaction ids).\n",
            calls: "{p50: 4, p95: 12}",
            interactions: "{p50: 3, p95: 15}",
            max_calls: 20,
            max_input: 16000,
            max_output: 2000,
            free_cap: 40000,
        },
        Like::Summarize => Profile {
            id: "ai-summaries",
            name: "AI summaries",
            unit: "summary",
            trace: "conversation service",
            trace_file: "AzureLLMInferenceTrace_conv.csv",
            requests: "19,366",
            input: CONV_INPUT.iter().map(|x| x * 4).collect(),
            output: &CONV_OUTPUT,
            assumed: "  # Assumed, not measured: a document to summarise is 4 times a conversation's\n\
                      \x20 # input (the trace's input tokens x 4); the output is the trace's. One call.\n",
            calls: "1",
            interactions: "{p50: 3, p95: 12}",
            max_calls: 2,
            max_input: 32000,
            max_output: 1000,
            free_cap: 60000,
        },
    }
}

fn list(xs: &[u32]) -> String {
    xs.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
}

/// The starter spec's head, `{key}` replaced by [`spec_text`].
const SPEC_HEAD: &str = r#"# yaml-language-server: $schema={schema}
# A starter spec written by `costgate init --like {like} --tiers {tiers}`. Every number
# is a starting point: replace it with your own, run `costgate check`, and keep
# the file next to the feature. The README's "The spec" section documents each field.
costgate: 1                       # spec format version
feature:
  # the id is unique among your specs: [A-Za-z0-9._-]
  id: {id}
  name: {name}
  owner: your-team                # who answers for this feature's costs
  value:                          # what the feature is for
    kind: retention               # revenue | retention | engagement (the policy can differ by kind)
    unit: {unit}
    units_per_interaction: 1

models:
  # a name the price catalog lists (`costgate pricing list`), or your own
  # prices: {input_usd_per_mtok: 0.2, output_usd_per_mtok: 0.8}
  primary: {model}

interaction:                      # one user interaction
  # Tokens per call: origin: reference (a public production trace, not your
  # feature's own usage):
  #   Azure LLM inference trace 2023, {trace} ({trace_file},
  #   Azure/AzurePublicDataset, {requests} requests on 2023-11-16), licence CC-BY 4.0;
  #   fitted with `costgate calibrate --fit central` on 2026-11-30: 20 equal-probability
  #   bin means of the fitted distribution (its mean kept).
  # Measure your own as soon as you have logs: `costgate calibrate LOGS --spec THIS_FILE`.
{assumed}  calls: {calls}
  input_tokens: {samples: [{input}]}
  output_tokens: {samples: [{output}]}
  # limits your gateway enforces: the worst case uses them
  max_calls: {max_calls}
  max_input_tokens: {max_input}
  max_output_tokens: {max_output}

usage:                            # assumed: replace with your product's figures
  days: 30
  active_share: {low: 0.1, mode: 0.2, high: 0.4}   # share of users active on a day
  interactions_per_active_day: {interactions}
  power_users: {share: 0.02, multiplier: 5}        # 2% of users use it 5 times as much

tiers:
"#;

const FREE_TIER: &str = r#"  - name: free
    users: {low: 2000, mode: 5000, high: 15000}
    price_usd_per_month: 0
    model: primary
    limit:                        # a free tier needs a hard cap
      daily_tokens: {free_cap}
      warn_at: 0.9                # warn at 90% of the cap
      on_limit: block
      message: "You've used {used} of your {limit} free tokens today. More at {reset}, or upgrade to Pro."
"#;

const PRO_TIER: &str = r#"  - name: pro
    users: {low: 500, mode: 1000, high: 3000}
    price_usd_per_month: 20
    model: primary
{paid_limit}"#;

/// The cap of the paying tiers.
const PAID_LIMIT: &str = r#"    limit:
      daily_tokens: 300000
      warn_at: 0.9
      on_limit: block
      message: "You've used {used} of your {limit} tokens today. It resets at {reset}."
"#;

const ENTERPRISE_TIER: &str = r#"  - name: enterprise
    tenants: 5                    # a tier of tenants: the price is per tenant
    users_per_tenant: {p50: 200, p95: 800}
    price_usd_per_month: 5000
    model: primary
{paid_limit}    tenant_budget: {monthly_usd: 1500, alerts: [0.8, 1.0], on_limit: notify}   # alerts the account manager
"#;

const BREAKERS: &str = r#"
breakers:                         # the emergency brake on the feature's daily spend
  global_daily_usd: {limit: 1500, on_trip: block, notify: [on-call], message: "The assistant has reached today's spending limit of {limit}; it is back at {reset}."}
"#;

fn name_of<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The starter spec's text.
pub(crate) fn spec_text(like: Like, tiers: &[TierKind], model: &str) -> String {
    let p = profile(like);
    let tiers_flag = tiers.iter().map(name_of).collect::<Vec<_>>().join(",");
    let mut o = SPEC_HEAD.to_string();
    for (key, value) in [
        ("{schema}", costgate::schema::SPEC_URL.to_string()),
        ("{like}", name_of(&like)),
        ("{tiers}", tiers_flag),
        ("{id}", p.id.to_string()),
        ("{name}", p.name.to_string()),
        ("{unit}", p.unit.to_string()),
        ("{model}", model.to_string()),
        ("{trace}", p.trace.to_string()),
        ("{trace_file}", p.trace_file.to_string()),
        ("{requests}", p.requests.to_string()),
        ("{assumed}", p.assumed.to_string()),
        ("{calls}", p.calls.to_string()),
        ("{input}", list(&p.input)),
        ("{output}", list(p.output)),
        ("{max_calls}", p.max_calls.to_string()),
        ("{max_input}", p.max_input.to_string()),
        ("{max_output}", p.max_output.to_string()),
        ("{interactions}", p.interactions.to_string()),
    ] {
        o = o.replace(key, &value);
    }
    for t in tiers {
        match t {
            TierKind::Free => o.push_str(&FREE_TIER.replace("{free_cap}", &p.free_cap.to_string())),
            TierKind::Pro => o.push_str(&PRO_TIER.replace("{paid_limit}", PAID_LIMIT)),
            TierKind::Enterprise => o.push_str(&ENTERPRISE_TIER.replace("{paid_limit}", PAID_LIMIT)),
        }
    }
    o.push_str(BREAKERS);
    o
}

/// The GitHub workflow `init` writes (the README's complete workflow).
pub(crate) const WORKFLOW: &str = "\
name: costgate
on:
  pull_request:
    paths: [\"specs/**\", \"costgate.toml\", \"costgate-prices.lock.toml\"]
permissions:
  contents: read
  pull-requests: write          # for the PR comment
jobs:
  costgate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
        with: {fetch-depth: 0}  # the base ref, for --fail-on new and the diff
      - uses: dtolnay/rust-toolchain@stable
      - uses: costgate/costgate/.github/actions/costgate@v0.1.0
        with:
          paths: specs
          fail-on: new
";

/// What `init` writes, relative to its folder, and the text.
pub(crate) fn files(a: &InitArgs) -> Vec<(PathBuf, String)> {
    let p = profile(a.like);
    vec![
        (
            PathBuf::from("specs").join(format!("{}.yaml", p.id)),
            spec_text(a.like, &a.tiers, &a.model),
        ),
        (PathBuf::from("costgate.toml"), costgate::policy::defaults_toml()),
        (PathBuf::from(".github/workflows/costgate.yml"), WORKFLOW.to_string()),
    ]
}

/// Whether anything is at `path` (a file, a folder, a link, even a broken one).
fn occupied(path: &Path) -> Option<String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Some("a symbolic link".into()),
        Ok(m) => Some(costgate::fsutil::kind_of(&m).to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => Some(format!("unreadable ({})", costgate::fsutil::plain(&e))),
    }
}

pub fn run(a: &InitArgs) -> Result<i32, Failure> {
    let mut seen = Vec::new();
    for t in &a.tiers {
        if seen.contains(t) {
            return Err(Failure::Usage(format!("--tiers names `{}` twice", name_of(t))));
        }
        seen.push(*t);
    }
    if a.model.is_empty()
        || !a
            .model
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | ':' | '@'))
    {
        return Err(Failure::Usage(format!(
            "--model `{}` is not a model name (letters, digits and . - _ / : @)",
            clean(&a.model)
        )));
    }
    let files = files(a);
    // Nothing is written when anything is in the way.
    let taken: Vec<String> = files
        .iter()
        .filter_map(|(rel, _)| {
            let at = a.output.join(rel);
            occupied(&at).map(|what| format!("{} ({what})", at.display()))
        })
        .collect();
    if !taken.is_empty() {
        return Err(Failure::CantCreate(format!(
            "costgate init writes nothing over an existing file: {} already there; nothing was written",
            taken.join(", ")
        )));
    }
    // The catalog `costgate check` would use in that folder.
    let inputs = Inputs::resolve(std::slice::from_ref(&a.output), Choice::default(), today()?)?;
    if inputs.catalog.find(&a.model).is_none() {
        let (_, hint) = costgate::pricing::unknown_model(&a.model, &inputs.catalog);
        return Err(Failure::Usage(format!(
            "--model `{}` is not in the price catalog ({}){}\n  hint: `costgate pricing list` shows its models",
            a.model,
            inputs.catalog.name(),
            if hint.is_empty() {
                String::new()
            } else {
                format!("; {hint}")
            }
        )));
    }
    let mut said = String::new();
    for (rel, text) in &files {
        let at = a.output.join(rel);
        if let Some(dir) = at.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                Failure::CantCreate(format!(
                    "cannot create {}: {}",
                    dir.display(),
                    costgate::fsutil::plain(&e)
                ))
            })?;
        }
        costgate::fsutil::write_atomic(&at, text.as_bytes())?;
        said.push_str(&format!("wrote {}\n", clean(&at.display().to_string())));
    }
    let spec = clean(&a.output.join(&files[0].0).display().to_string()).into_owned();
    said.push_str(&format!(
        "next: edit {spec} (every number is a starting point), then `costgate check {spec}`\n"
    ));
    output::print(&said)?;
    Ok(0)
}

/// `costgate init --help`'s epilogue.
pub const INIT_HELP: &str = "\
Writes, under -o DIR (default: the current folder):
  specs/<feature>.yaml            a commented starter spec (tokens per call from a public trace: --like)
  costgate.toml                   the built-in policy written out (as `costgate policy --defaults`)
  .github/workflows/costgate.yml  the GitHub workflow that runs the check on pull requests
Nothing is overwritten: if any of the three exists, nothing is written.

Exit status:
  0   written
  64  usage error: bad flags, or a --model the price catalog does not list
  65  invalid input: the policy or price catalog found there cannot be read
  73  a file is already there, or cannot be written";
