//! The command line, as clap-derive types. Parsing only: the commands in
//! `cli::*` turn these into library requests.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

pub const EXIT_CODES: &str = "\
Exit status:
  0   passed (warnings may be printed)
  1   blocked: a `deny` finding
  2   exec approval required: an `approve` finding with no valid approval covering it
  64  usage error (bad flags)
  65  invalid input: a spec, policy or price catalog that cannot be read or validated
  69  a pricing source needed for the run is unreachable and nothing pinned stands in
  70  internal error
  73  an output cannot be written (-o, the pinned prices, an approval record, standard output)";

#[derive(Debug, Parser)]
#[command(
    name = "costgate",
    version,
    about = "Gate AI features on their unit economics: price the spec, simulate a month, enforce the cost policy.",
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// When to use colour: auto honours NO_COLOR and whether stdout is a terminal.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check unit-economics specs against the policy; the exit status is the verdict.
    #[command(after_help = EXIT_CODES)]
    Check(CheckArgs),
    /// Price catalogs: list models, show a model's prices, pin a snapshot.
    #[command(after_help = EXIT_CODES)]
    Pricing(PricingArgs),
    /// What a change does to each feature's cost: two spec files or folders, or the specs now against a git ref.
    #[command(after_help = EXIT_CODES)]
    Diff(DiffArgs),
    /// Write the report an executive reads and signs (HTML), or the same in Markdown or JSON.
    #[command(after_help = REPORT_HELP)]
    Report(ReportArgs),
    /// Record an executive's approval of a spec's `approve` findings, bound to its figures.
    #[command(after_help = APPROVE_HELP)]
    Approve(ApproveArgs),
    /// Post the report as one pull-request comment that updates itself (GitHub).
    #[command(after_help = EXIT_CODES)]
    Comment(CommentArgs),
    /// List the rule codes with their default levels, or document one rule.
    Rules(RulesArgs),
    /// Fit a spec's usage and interaction figures from usage logs (OpenTelemetry, LiteLLM, mapped CSV / JSON Lines).
    #[command(after_help = CALIBRATE_HELP)]
    Calibrate(CalibrateArgs),
    /// Search the most generous caps that pass the policy; each tier's frontier; --write the spec with them.
    #[command(after_help = TUNE_HELP)]
    Tune(TuneArgs),
    /// Write each spec's caps, budgets and breakers as a gateway's configuration (LiteLLM, Envoy, Portkey, Kong).
    #[command(after_help = EXPORT_HELP)]
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(after_help = super::shell::COMPLETIONS_HELP)]
    Completions(super::shell::CompletionsArgs),
    /// Print the man page (roff), or write every page with --dir.
    Man(super::shell::ManArgs),
    /// Run the simulation benchmark (speed and memory) on a spec.
    #[command(hide = true)]
    Bench(BenchArgs),
    /// Read, validate and price specs and the policy without simulating (editors, pre-commit).
    #[command(after_help = EXIT_CODES)]
    Validate(super::validate::ValidateArgs),
    /// Write a starter spec, a costgate.toml with the defaults and a GitHub workflow (never overwrites).
    #[command(after_help = super::init::INIT_HELP)]
    Init(super::init::InitArgs),
    /// The policy in effect here; --defaults prints the built-in policy as a costgate.toml.
    Policy(super::policy::PolicyArgs),
    /// Print the JSON Schema of the spec or of costgate.toml, for editors.
    #[command(after_help = super::schema::SCHEMA_HELP)]
    Schema(super::schema::SchemaArgs),
}

pub const TUNE_HELP: &str = "\
Objectives:
  paying  pass the policy while blocking or degrading the fewest paying users (default)
  cost    the cheapest caps that pass, each tier still serving all but max_unserved_share of its demand
  users   the fewest users hitting a cap with the month at confidence under --max-p95-usd
Every candidate is simulated with the same seed and trials (common random numbers).
Exit status: 0 a recommendation passes; 1 nothing in the searched range passes (why is printed);
64 usage; 65 invalid input; 73 --write cannot write, or what it would write does not read back
as the recommendation (nothing is written).";

pub const EXPORT_HELP: &str = "\
Gateways:
  litellm   LiteLLM proxy: config.yaml, budgets.json and teams.json (management API bodies), apply.sh
  envoy     Envoy AI Gateway + Envoy Gateway: AIGatewayRoute costs and BackendTrafficPolicy rate limits
  portkey   Portkey usage-limit and rate-limit policies (policies.json)
  kong      Kong ai-rate-limiting-advanced (kong.yaml, decK declarative config)
Files go to DIR/<feature-id>/<gateway>/. What the gateway cannot express exactly is printed,
never dropped; `costgate check SPEC --runtime FILES` compares a deployed configuration with the spec.
See docs/runtime.md for the mapping tables.

Exit status:
  0   written (the gaps are printed)
  64  usage error (bad flags)
  65  invalid input: a spec or price catalog that cannot be read or validated
  69  a pricing source needed is unreachable
  73  a file cannot be written";

pub const CALIBRATE_HELP: &str = "\
Log formats (detected from the file, or --log-format):
  otlp      OpenTelemetry GenAI spans as the Collector's file exporter writes OTLP/JSON
  litellm   LiteLLM proxy spend logs: the /spend/logs JSON array, or its CSV
  csv       any CSV, with --map
  jsonl     any JSON Lines, with --map
  gzip-compressed files are read as they are.

--map names the columns: time=ts,user=customer_id,tenant=org_id,session=conversation_id,
  model=model,input=prompt_tokens,output=completion_tokens,cached=cache_read,spend=cost
  (input and output are required).

Exit status:
  0   calibrated
  64  usage error (a bad --map)
  65  invalid input: a spec that does not validate; a log that cannot be read, is in no known format
      without --map, or is mostly bad records
  73  the output could not be written";

/// How tail figures are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FitArg {
    /// The upper end of each tail figure's 90% bootstrap interval.
    Tail,
    /// The point estimates.
    Central,
}

/// A usage log's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    /// OpenTelemetry GenAI spans, OTLP/JSON (the Collector's file exporter).
    Otlp,
    /// LiteLLM spend logs (JSON from /spend/logs, or CSV).
    Litellm,
    /// CSV with --map.
    Csv,
    /// JSON Lines with --map.
    Jsonl,
}

/// The report format of `calibrate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CalibrateFormat {
    /// Readable text.
    Text,
    /// The whole calibration as JSON.
    Json,
    /// GitHub Flavored Markdown.
    Markdown,
}

/// Which usage logs to read, and how.
#[derive(Clone, Debug, Args)]
pub struct LogArgs {
    /// The logs' format (default: detected from each file).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
    /// Column mapping for CSV and JSON Lines (see --help).
    #[arg(long, value_name = "KEY=COLUMN,...")]
    pub map: Option<String>,
}

/// What `tune` optimises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ObjectiveArg {
    /// Fewest paying users blocked or degraded, passing the policy.
    Paying,
    /// Cheapest passing caps.
    Cost,
    /// Fewest users hitting a cap under --max-p95-usd.
    Users,
}

/// A kind of limit `tune` varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VaryArg {
    /// Each tier's `limit.daily_tokens` (else `monthly_tokens`).
    Caps,
    /// Each tier's `tenant_budget.monthly_usd` (budgets with `on_limit: block`).
    Budgets,
    /// Each breaker's `limit` (breakers that cut: not `on_trip: notify`).
    Breakers,
    /// What each tier's cap does past it (`on_limit`: block, throttle, shrink
    /// or a fallback to another of the spec's models), at the recommended
    /// caps: the most graceful way that still passes.
    OnLimit,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// The spec to tune.
    pub spec: PathBuf,
    /// Only this tier (repeatable; default: every tier with a cap).
    #[arg(long = "tier", value_name = "NAME")]
    pub tiers: Vec<String>,
    /// What to optimise.
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Paying)]
    pub objective: ObjectiveArg,
    /// With --objective users: the month at confidence may not pass this (USD).
    #[arg(long, value_name = "USD", required_if_eq("objective", "users"))]
    pub max_p95_usd: Option<f64>,
    /// Candidate values per limit (a geometric grid: caps from one interaction to 8x the spec's cap; budgets and breakers from 1/16 to 8x the spec's).
    #[arg(long, default_value_t = costgate::tune::DEFAULT_CANDIDATES as u64, value_parser = clap::value_parser!(u64).range(2..=200))]
    pub candidates: u64,
    /// The limits to vary (comma-separated): tiers' token caps, blocking tenant budgets, breakers' limits;
    /// add on-limit for what each cap does past it.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [VaryArg::Caps, VaryArg::Budgets, VaryArg::Breakers])]
    pub vary: Vec<VaryArg>,
    /// Write SPEC again with the recommended caps (comments and layout kept), when they pass.
    #[arg(long)]
    pub write: bool,
    /// Write the frontiers as an SVG chart to this file (the month at confidence by cap, per tier).
    #[arg(long, value_name = "FILE.svg")]
    pub chart: Option<PathBuf>,
    /// Write the tuning as a self-contained HTML page to this file (atomically): the recommendation and its check verdict, each frontier's table and chart, what was not tuned.
    #[arg(long, value_name = "FILE.html")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub what_if: SetArgs,
    /// With --write: write the tuned spec to this file instead of SPEC (atomically).
    #[arg(long, short = 'o', value_name = "FILE", requires = "write")]
    pub output: Option<PathBuf>,
    /// text, or JSON (every frontier point).
    #[arg(long, value_enum, default_value_t = ExportFormat::Text)]
    pub format: ExportFormat,
    #[command(flatten)]
    pub run: RunArgs,
}

/// The gateways `export --to` writes for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GatewayArg {
    /// LiteLLM proxy.
    Litellm,
    /// Envoy AI Gateway with Envoy Gateway rate limits.
    Envoy,
    /// Portkey policies.
    Portkey,
    /// Kong ai-rate-limiting-advanced.
    Kong,
}

/// The output of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// What was written and the gaps, for people.
    Text,
    /// The same as JSON: every limit exported and every gap.
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The gateway to write configuration for.
    #[arg(long, value_enum)]
    pub to: GatewayArg,
    /// Spec files or folders of specs.
    #[arg(default_value = "specs")]
    pub paths: Vec<PathBuf>,
    /// The folder the files go to (DIR/<feature-id>/<gateway>/), created if needed.
    #[arg(long, short = 'o', value_name = "DIR", default_value = "costgate-export")]
    pub output: PathBuf,
    /// What is printed: text, or JSON (every limit and gap).
    #[arg(long, value_enum, default_value_t = ExportFormat::Text)]
    pub format: ExportFormat,
    /// Price catalog (as for check): token caps are converted to USD and costs counted with it.
    #[arg(long, value_name = "SOURCE")]
    pub pricing: Option<String>,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// Usage log files.
    #[arg(required = true, value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// The spec to calibrate: written again with the fitted fields replaced (marked measured), everything else kept.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// Write the calibrated spec (or, without --spec, the fragment) to this file, atomically; default: after the report on stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub logs_how: LogArgs,
    /// The feature's users, active or not (default: the spec's tiers at their central figures); gives the active share.
    #[arg(long, value_name = "N")]
    pub population: Option<f64>,
    /// Tail figures at the upper end of their 90% interval (tail), or the point estimates (central).
    #[arg(long, value_enum, default_value_t = FitArg::Tail)]
    pub fit: FitArg,
    /// Seconds between a user's calls that start a new interaction, when the logs have no trace or session id.
    #[arg(long, value_name = "SECONDS", default_value_t = costgate::calibrate::DEFAULT_GAP_S)]
    pub gap: f64,
    /// Power users: mean interactions per active day above K times the median user's.
    #[arg(long, value_name = "K", default_value_t = costgate::calibrate::DEFAULT_POWER_K)]
    pub power_k: f64,
    /// Seed of the bootstrap intervals.
    #[arg(long, default_value_t = costgate::calibrate::DEFAULT_SEED)]
    pub seed: u64,
    /// The report's format.
    #[arg(long, value_enum, default_value_t = CalibrateFormat::Text)]
    pub format: CalibrateFormat,
    /// Price catalog for the recorded-spend reconciliation (as for check).
    #[arg(long, value_name = "SOURCE")]
    pub pricing: Option<String>,
}

#[derive(Clone, Debug, Args)]
pub struct SimArgs {
    /// Seed of the simulation: the same spec and seed give the same bytes.
    #[arg(long, default_value_t = costgate::sim::DEFAULT_SEED)]
    pub seed: u64,
    /// Simulated months.
    #[arg(long, default_value_t = costgate::sim::DEFAULT_TRIALS as u64, value_parser = clap::value_parser!(u64).range(1..=costgate::sim::limits::MAX_TRIALS))]
    pub trials: u64,
    /// Run `check` or `comment` with fewer than 1,000 trials (the minimum for a run that
    /// gates), with a warning giving the standard error of the month's cost at the policy's confidence.
    #[arg(long)]
    pub allow_few_trials: bool,
    /// Worker threads (default: all cores). The output does not depend on it.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Also run the sensitivity analysis: each uncertain input at its low
    /// and high end, the month's cost and cost/revenue at confidence (always
    /// on in `report`).
    #[arg(long)]
    pub sensitivity: bool,
}

/// What every command that checks specs reads besides them: the policy, the
/// price catalog and the simulation settings.
#[derive(Clone, Debug, Args)]
pub struct RunArgs {
    /// Policy file (default: costgate.toml found by walking up from the first spec, else built-in defaults).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Price catalog: a file, an https:// URL or `builtin` (default: the pinned
    /// costgate-prices.lock.toml, else the policy's `[pricing] source`, else built-in).
    #[arg(long, value_name = "SOURCE")]
    pub pricing: Option<String>,
    #[command(flatten)]
    pub sim: SimArgs,
}

/// `--set`: what-if overrides of spec fields for one run (`check`, `report`,
/// `diff`; flatten it into any command that checks specs).
#[derive(Clone, Debug, Default, Args)]
pub struct SetArgs {
    /// Override a spec field for this run only (repeatable): PATH is dot-separated keys, a list
    /// item by its name or index (`tiers.pro`, `tiers[1]`); VALUE is YAML (`20000`, `'{p50: 5, p95: 14}'`).
    /// FEATURE: applies it to that feature's spec only (default: every spec).
    #[arg(long = "set", value_name = "[FEATURE:]PATH=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Spec files or folders of specs.
    #[arg(default_value = "specs")]
    pub paths: Vec<PathBuf>,
    /// Output format (default: table; under GitHub Actions the table and annotations on the spec lines).
    #[arg(long, value_enum)]
    pub format: Option<CheckFormat>,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Print nothing; only the exit status tells.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Compare with the specs, policy and pinned prices at this git ref (see --fail-on).
    #[arg(long, value_name = "REF")]
    pub baseline_ref: Option<String>,
    /// `any` deny finding blocks; `new`: only deny findings the --baseline-ref did not have.
    #[arg(long, value_enum, default_value_t = FailOn::Any, requires_if("new", "baseline_ref"))]
    pub fail_on: FailOn,
    /// Usage logs of the one feature checked: each measured quantity is compared with the spec's
    /// (`observed-above-model`) and the month is simulated again with the observed figures.
    #[arg(long, value_name = "LOGS", num_args = 1..)]
    pub observed: Vec<PathBuf>,
    #[command(flatten)]
    pub logs_how: LogArgs,
    /// Deployed gateway configuration (LiteLLM config.yaml and API JSON, Envoy manifests, Portkey
    /// policies, Kong config): every cap, budget and breaker the spec relies on must be enforced there
    /// (`runtime-limit-missing`, `-looser`, `-tighter`).
    #[arg(long, value_name = "CONFIG", num_args = 1..)]
    pub runtime: Vec<PathBuf>,
    #[command(flatten)]
    pub what_if: SetArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Only read, validate and price the specs and the policy, as `costgate validate`: no simulation, no verdict.
    #[arg(long, conflicts_with_all = ["format", "output", "baseline_ref", "observed", "runtime"])]
    pub no_simulate: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Any,
    New,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// BASE HEAD (two spec files or folders), or with --base-ref the spec paths to compare (default: specs);
    /// with --set, one PATH compares it as written (base) with it overridden (head).
    pub paths: Vec<PathBuf>,
    /// Compare PATHs with the same paths at this git ref.
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Table)]
    pub format: DiffFormat,
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Deployed gateway configuration compared with both sides (with --base-ref: the same files at
    /// the ref for the base), so a change that loosens the gateway shows as new runtime findings.
    #[arg(long, value_name = "CONFIG", num_args = 1..)]
    pub runtime: Vec<PathBuf>,
    /// Overrides applied to the head only: the what-if is compared with the base.
    #[command(flatten)]
    pub what_if: SetArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    #[command(subcommand)]
    pub target: CommentTarget,
}

#[derive(Debug, Subcommand)]
pub enum CommentTarget {
    /// Post or update costgate's comment on a GitHub pull request. The token
    /// comes from GITHUB_TOKEN (never a flag) and is never printed. Exits with
    /// the gate's verdict once the comment is posted; 69 when GitHub cannot be
    /// reached or refuses.
    #[command(after_help = EXIT_CODES)]
    Github(CommentGithubArgs),
}

#[derive(Debug, Args)]
pub struct CommentGithubArgs {
    /// Spec files or folders.
    #[arg(default_value = "specs")]
    pub paths: Vec<PathBuf>,
    /// The pull request's number.
    #[arg(long)]
    pub pr: u64,
    /// owner/name (default: GITHUB_REPOSITORY).
    #[arg(long, env = "GITHUB_REPOSITORY")]
    pub repo: Option<String>,
    /// The API's base URL (default: GITHUB_API_URL, else https://api.github.com).
    /// Credentials in it are never shown (`--help` hides the variable's value).
    #[arg(
        long,
        env = "GITHUB_API_URL",
        hide_env_values = true,
        default_value = "https://api.github.com"
    )]
    pub api_url: String,
    /// Add what the pull request changes against this git ref.
    #[arg(long, value_name = "REF")]
    pub base_ref: Option<String>,
    #[arg(long, value_enum, default_value_t = CommentBehavior::Update)]
    pub behavior: CommentBehavior,
    /// Leave the comment alone when its text would not change.
    #[arg(long)]
    pub skip_if_unchanged: bool,
    /// Deployed gateway configuration compared with the specs (as `check --runtime`; with
    /// --base-ref, the same files at the ref for the base).
    #[arg(long, value_name = "CONFIG", num_args = 1..)]
    pub runtime: Vec<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CommentBehavior {
    Update,
    New,
    DeleteAndNew,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Table,
    Markdown,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Readable terminal tables.
    Table,
    /// The full result, versioned (`schema_version`).
    Json,
    /// The report in GitHub Flavored Markdown (a PR comment, the job summary).
    Markdown,
    /// JUnit XML: a test suite per feature, a test case per rule.
    Junit,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the spec lines.
    Github,
    /// GitLab Code Quality report (`artifacts:reports:codequality`).
    Gitlab,
}

pub const REPORT_HELP: &str = "\
The HTML report is one self-contained file (no script, no external request),
readable on a laptop and printable to PDF. Exit status: 0 when the report was
written, whatever the verdict (use `costgate check` to gate); 64 usage error;
65 invalid input; 70 internal error; 73 the report cannot be written.";

pub const APPROVE_HELP: &str = "\
The approval is written atomically to `<spec>.approval.toml` beside the spec
(the spec is not touched). `costgate check` then lets the approved findings
through until --expires, while each approved figure is not worse by more than
`[approvals] max_drift` of the policy (default 5%). It never covers `deny`.

Exit status:
  0   recorded
  64  usage error: bad flags, an expiry in the past, or a spec that needs no approval
  65  invalid input: a spec, policy or price catalog that cannot be read or validated
  70  internal error
  73  the record cannot be written";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// For executives: one self-contained file with charts, printable to PDF.
    Html,
    /// The same content in GitHub Flavored Markdown.
    Markdown,
    /// The full result, as `check --format json`.
    Json,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Spec files or folders of specs.
    #[arg(default_value = "specs")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Write the report to this file (atomically) instead of stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub what_if: SetArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The spec whose `approve` findings are approved.
    pub spec: PathBuf,
    /// Who approves (a name or an email).
    #[arg(long)]
    pub by: String,
    /// Why launching at these economics is acceptable.
    #[arg(long)]
    pub reason: String,
    /// The last day the approval covers (YYYY-MM-DD).
    #[arg(long)]
    pub expires: String,
    /// The approver's role (CFO, VP Finance, ...).
    #[arg(long)]
    pub role: Option<String>,
    /// Sign the record with this OpenSSH private key (ed25519, ECDSA or RSA;
    /// not passphrase-protected): writes `<record>.sig`, as `ssh-keygen -Y sign
    /// -n costgate-approval` does.
    #[arg(long, value_name = "KEY")]
    pub sign_with: Option<PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(Debug, Args)]
pub struct PricingArgs {
    #[command(subcommand)]
    pub command: PricingCommand,
}

#[derive(Debug, Subcommand)]
pub enum PricingCommand {
    /// List the models of the catalog in effect, with their prices per million tokens.
    List(PricingListArgs),
    /// Show every price of one model, per million tokens, with its source and date.
    Show(PricingShowArgs),
    /// Read a catalog and pin it as costgate-prices.lock.toml at the repository root
    /// (or in the current folder outside a repository); print what changed since the last pin.
    Update(PricingUpdateArgs),
}

/// Which catalog a `pricing` command reads.
#[derive(Debug, Args)]
pub struct PricingSourceArgs {
    /// Price catalog: a file, an https:// URL or `builtin` (default: the pinned
    /// costgate-prices.lock.toml, else the policy's `[pricing] source`, else built-in).
    #[arg(long, value_name = "SOURCE")]
    pub pricing: Option<String>,
    /// Policy file (default: costgate.toml found by walking up from the current folder).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PricingListArgs {
    /// Only this provider's models (`openai`, `anthropic`, `google`, ...).
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(flatten)]
    pub source: PricingSourceArgs,
}

#[derive(Debug, Args)]
pub struct PricingShowArgs {
    /// The model, as a spec would name it (`claude-sonnet-4-5`, `gemini/gemini-2.5-pro`, ...).
    pub model: String,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    #[command(flatten)]
    pub source: PricingSourceArgs,
}

#[derive(Debug, Args)]
pub struct PricingUpdateArgs {
    /// The catalog to pin: a file, an https:// URL or `builtin` (default: the policy's `[pricing] source`).
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    /// Pin only these providers' models (repeatable).
    #[arg(long)]
    pub provider: Vec<String>,
    /// Policy file (default: costgate.toml found by walking up from the current folder).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The spec to simulate.
    #[arg(required_unless_present = "log_records")]
    pub spec: Option<PathBuf>,
    /// Instead of simulating: generate a CSV usage log of N records (100,000 users over 30 days)
    /// in a temporary folder, then read and fit it as `calibrate` does: records per second and peak memory.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    pub log_records: Option<u64>,
    /// Scale every tier's customer count by this factor.
    #[arg(long, default_value_t = 1.0)]
    pub scale_users: f64,
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// Time `costgate tune` on the spec (every tier with a cap, 32 candidates each) instead of one simulation.
    #[arg(long)]
    pub tune: bool,
    #[command(flatten)]
    pub sim: SimArgs,
}

#[derive(Clone, Debug, Args)]
pub struct RulesArgs {
    /// A rule code (`free-tier-without-hard-cap`): print its full
    /// documentation (default level, summary, fix, what it checks, an example).
    pub code: Option<String>,
}
