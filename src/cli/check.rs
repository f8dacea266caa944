//! `costgate check` and the hidden `bench`.

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use costgate::check::{self, Choice, Inputs, Request};
use costgate::policy::{self, Policy};
use costgate::report::{self, table};
use costgate::sim;

use super::{BenchArgs, CheckArgs, CheckFormat, Failure, RunArgs, SimArgs, today};

/// The policy to use: `--policy`, else `costgate.toml` above the first path.
pub fn load_policy(explicit: Option<&Path>, paths: &[PathBuf]) -> Result<Policy, Failure> {
    check::load_policy(explicit, paths).map_err(Failure::Input)
}

/// Whether `produce_with` prints its notes (prices downloaded today) and the
/// simulation's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Notes {
    Print,
    Quiet,
}

/// What `produce_with` makes of a folder that holds no spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmptyFolder {
    /// An error, as any path without specs.
    Refused,
    /// An empty report (a base ref before the first spec).
    Allowed,
}

/// The fewest `--trials` a run that gates (`check`, `comment`) accepts
/// without `--allow-few-trials`: the month at p95 of fewer months rests on
/// a handful of them (50 months beyond it at 1,000 trials).
pub const MIN_GATING_TRIALS: u64 = 1_000;

/// Refuse `--trials` below [`MIN_GATING_TRIALS`] for `command` (a run that
/// gates) unless `--allow-few-trials` is given: a usage error (64).
pub fn gate_trials(a: &SimArgs, command: &str) -> Result<(), Failure> {
    if a.trials >= MIN_GATING_TRIALS || a.allow_few_trials {
        return Ok(());
    }
    Err(Failure::Usage(format!(
        "--trials {} is below the minimum of {} for `{command}`, which gates on the month's cost at the policy's \
         confidence: that figure from so few months is mostly noise. Give --trials {} or more, or \
         --allow-few-trials to run anyway with a warning of its standard error",
        a.trials,
        costgate::fmt::count(MIN_GATING_TRIALS as f64),
        MIN_GATING_TRIALS,
    )))
}

/// With `--allow-few-trials` below [`MIN_GATING_TRIALS`]: a warning per
/// simulated feature on standard error, with the figure the verdict reads
/// (the month's cost at the policy's confidence) and its standard error.
pub fn warn_few_trials(report: &costgate::report::CheckReport, a: &SimArgs) {
    if a.trials >= MIN_GATING_TRIALS {
        return;
    }
    for line in few_trials_warnings(report) {
        eprintln!("{line}");
    }
}

/// The lines of [`warn_few_trials`].
fn few_trials_warnings(report: &costgate::report::CheckReport) -> Vec<String> {
    use costgate::fmt::{count, plural, quantile_label, usd};
    let months = plural(report.trials, "trial", "trials");
    report
        .features
        .iter()
        .filter_map(|f| {
            let s = f.simulation.as_ref()?;
            let q = quantile_label(s.cost.at_quantile);
            let figure = s.cost.at_confidence.map_or("not computed".into(), usd);
            let se = match s.cost.at_confidence_se {
                Some(se) => format!("± {} (one standard error)", usd(se)),
                None => format!("its standard error cannot be estimated from {months}"),
            };
            Some(format!(
                "warning: {months}, below the minimum of {} for a run that gates (--allow-few-trials): \
                 `{}` month at {q} {figure} {se}; the verdict may change with more trials",
                count(MIN_GATING_TRIALS as f64),
                costgate::untrusted::clean(&f.id),
            ))
        })
        .collect()
}

pub fn sim_options(a: &SimArgs, progress_ok: bool) -> sim::Options {
    let trials = a.trials as usize;
    sim::Options {
        seed: a.seed,
        trials,
        threads: a.threads.map(|t| t as usize),
        confidence: 0.95,
        progress: progress_ok
            && trials >= 50_000
            && std::io::stderr().is_terminal()
            && std::env::var_os("CI").is_none(),
        label: String::new(),
        sensitivity: a.sensitivity,
    }
}

/// Check `paths` with the policy and prices they resolve to, with usage
/// logs to compare the one spec with (`--observed`) and the deployed gateway
/// (`--runtime`): the one pipeline behind `check`, `diff`, `report` and `comment`.
pub fn produce_with(
    paths: &[PathBuf],
    run: &RunArgs,
    notes: Notes,
    empty: EmptyFolder,
    observed: Option<&costgate::check::observed::Observed>,
    runtime: Option<&costgate::runtime::Deployed>,
) -> Result<costgate::report::CheckReport, Failure> {
    produce_what_if(paths, run, notes, empty, observed, runtime, &[])
}

/// [`produce_with`], with `--set` overrides applied to the specs (a what-if run).
pub fn produce_what_if(
    paths: &[PathBuf],
    run: &RunArgs,
    notes: Notes,
    empty: EmptyFolder,
    observed: Option<&costgate::check::observed::Observed>,
    runtime: Option<&costgate::runtime::Deployed>,
    set: &[costgate::spec::overrides::Override],
) -> Result<costgate::report::CheckReport, Failure> {
    let choice = Choice {
        policy: run.policy.as_deref(),
        pricing: run.pricing.as_deref(),
    };
    let inputs = Inputs::resolve(paths, choice, today()?)?;
    if let Some(url) = inputs.pricing.live_url()
        && notes == Notes::Print
    {
        eprintln!(
            "note: prices read from {} today; `costgate pricing update` pins them so every run of a commit prices the same",
            costgate::untrusted::redact_url(url)
        );
    }
    // A folder that exists but holds no spec is empty, not an error, when
    // allowed; a path that does not exist is still a mistake.
    let paths: Vec<PathBuf> = match empty {
        EmptyFolder::Allowed => paths
            .iter()
            .filter(|p| !p.is_dir() || check::spec_files(std::slice::from_ref(p)).is_ok())
            .cloned()
            .collect(),
        EmptyFolder::Refused => paths.to_vec(),
    };
    let req = Request {
        paths,
        policy: &inputs.policy,
        catalog: &inputs.catalog,
        sim: sim_options(&run.sim, notes == Notes::Print),
        today: today()?,
    };
    if req.paths.is_empty() {
        return Ok(check::empty_report(&req));
    }
    Ok(check::run_what_if(&req, observed, runtime, set)?)
}

/// The same paths at a git ref, checked.
pub fn produce_at_ref(rev: &str, paths: &[PathBuf], run: &RunArgs) -> Result<costgate::report::CheckReport, Failure> {
    produce_at_ref_with(rev, paths, run, &[])
}

/// Deployed gateway configuration files read for `--runtime` (none: `None`).
pub fn read_runtime(paths: &[PathBuf]) -> Result<Option<costgate::runtime::Deployed>, Failure> {
    if paths.is_empty() {
        return Ok(None);
    }
    costgate::runtime::read(paths).map(Some).map_err(Failure::Input)
}

/// [`produce_at_ref`], with the gateway configuration files at `runtime`
/// as they are at the same ref (those that exist there).
pub fn produce_at_ref_with(
    rev: &str,
    paths: &[PathBuf],
    run: &RunArgs,
    runtime: &[PathBuf],
) -> Result<costgate::report::CheckReport, Failure> {
    let first = paths.first().map_or(Path::new("."), PathBuf::as_path);
    let top = costgate::gitref::toplevel(first).map_err(Failure::Usage)?;
    let rel: Vec<PathBuf> = paths
        .iter()
        .map(|p| costgate::gitref::relative(&top, p))
        .collect::<Result<_, _>>()
        .map_err(Failure::Usage)?;
    let rel_runtime: Vec<PathBuf> = runtime
        .iter()
        .map(|p| costgate::gitref::relative(&top, p))
        .collect::<Result<_, _>>()
        .map_err(Failure::Usage)?;
    let mut wanted = rel.clone();
    wanted.extend(rel_runtime.iter().cloned());
    let snap = costgate::gitref::snapshot(&top, rev, &wanted).map_err(Failure::Usage)?;
    let (spec_paths, runtime_paths) = snap.paths.split_at(rel.len());
    let runtime_at_ref: Vec<PathBuf> = runtime_paths.iter().filter(|p| p.is_file()).cloned().collect();
    let deployed = read_runtime(&runtime_at_ref)?;
    // The base's own policy (found inside the snapshot, whose `.git` ends the
    // search: never a file above it, in the temporary folder), else the head's.
    let policy: Option<PathBuf> = match &run.policy {
        Some(p) => Some(p.clone()),
        None => snap
            .paths
            .first()
            .and_then(|p| policy::discover(p))
            .or_else(|| paths.first().and_then(|p| policy::discover(p))),
    };
    let run = RunArgs {
        policy,
        pricing: run.pricing.clone(),
        sim: run.sim.clone(),
    };
    produce_with(
        spec_paths,
        &run,
        Notes::Quiet,
        EmptyFolder::Allowed,
        None,
        deployed.as_ref(),
    )
}

pub fn run(a: &CheckArgs, color: bool) -> Result<i32, Failure> {
    if std::env::var_os("COSTGATE_TEST_PANIC").is_some() {
        // Test hook (tests/cli.rs): a bug must become exit 70, not a crash.
        panic!("COSTGATE_TEST_PANIC is set");
    }
    gate_trials(&a.run.sim, "check")?;
    let notes = if a.quiet { Notes::Quiet } else { Notes::Print };
    let set = a.what_if.overrides()?;
    let observed = if a.observed.is_empty() {
        None
    } else {
        let o = super::calibrate::read_with_progress(
            &a.observed,
            &a.logs_how,
            &costgate::calibrate::Options::default(),
            &costgate::pricing::builtin(),
        )?;
        if !a.quiet {
            super::calibrate::warn_bad_records(&o);
        }
        Some(o)
    };
    let deployed = read_runtime(&a.runtime)?;
    let mut report = produce_what_if(
        &a.paths,
        &a.run,
        notes,
        EmptyFolder::Refused,
        observed.as_ref(),
        deployed.as_ref(),
        &set,
    )?;
    if let Some(rev) = &a.baseline_ref {
        let base = produce_at_ref(rev, &a.paths, &a.run)?;
        let fail_on = match a.fail_on {
            super::FailOn::Any => check::FailOn::Any,
            super::FailOn::New => check::FailOn::New,
        };
        let count = check::apply_baseline(&mut report, &base, fail_on);
        if !a.quiet {
            eprintln!(
                "baseline {}: {} new, {} already there{}",
                costgate::untrusted::clean(rev),
                costgate::fmt::plural(count.new, "deny finding", "deny findings"),
                count.already_there,
                if fail_on == check::FailOn::New {
                    " (not blocking with --fail-on new)"
                } else {
                    ""
                }
            );
        }
    }
    if !a.quiet {
        warn_few_trials(&report, &a.run.sim);
    }
    let style = table::Style {
        color: color && a.output.is_none(),
        width: if a.output.is_none() { terminal_width() } else { None },
    };
    let format = a.format.unwrap_or(CheckFormat::Table);
    let text = match format {
        CheckFormat::Json => report::json(&report),
        CheckFormat::Table => table::render(&report, style),
        CheckFormat::Markdown => report::markdown::render(&report),
        CheckFormat::Junit => report::junit::render(&report),
        CheckFormat::Sarif => report::sarif::render(&report),
        CheckFormat::Github => report::github::render(&report),
        CheckFormat::Gitlab => report::gitlab::render(&report),
    };
    match &a.output {
        Some(path) => costgate::fsutil::write_atomic(path, text.as_bytes())?,
        None if !a.quiet => super::output::print(&text)?,
        None => {}
    }
    // The verdict and exit code end every run: the table's last line, else on
    // standard error (standard output holds a machine format or nothing).
    if !a.quiet && (format != CheckFormat::Table || a.output.is_some()) {
        eprintln!("{}", table::final_line(&report));
    }
    // Under GitHub Actions the findings also go on the spec lines of the PR,
    // unless a format was asked for explicitly.
    if a.format.is_none() && !a.quiet && std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        super::output::print(&report::github::annotations(&report))?;
    }
    append_step_summary(&report);
    Ok(report.exit_code)
}

/// The width the table is fitted to on standard output: `COLUMNS` when set
/// to a number, else the terminal's width when standard output is one, else
/// none (a pipe or a CI log gets the lines whole).
pub fn terminal_width() -> Option<usize> {
    match std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
    {
        Some(c) if c > 0 => Some(c),
        _ if std::io::stdout().is_terminal() => {
            terminal_size::terminal_size().map(|(terminal_size::Width(w), _)| usize::from(w))
        }
        _ => None,
    }
}

/// When `$GITHUB_STEP_SUMMARY` names a file, append the Markdown summary to
/// it. A summary that cannot be written does not change the verdict.
fn append_step_summary(report: &report::CheckReport) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let md = report::markdown::render(report);
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, md.as_bytes()));
    if let Err(e) = written {
        eprintln!(
            "warning: cannot append the summary to $GITHUB_STEP_SUMMARY ({}): {e}",
            std::path::Path::new(&path).display()
        );
    }
}

/// `bench --tune`: the time of `costgate tune` on a spec.
fn bench_tune(a: &BenchArgs, spec_path: &Path) -> Result<i32, Failure> {
    let policy = load_policy(None, &[spec_path.to_path_buf()])?;
    let catalog = costgate::pricing::builtin();
    let loaded = check::load_all(&[spec_path.to_path_buf()], &catalog).map_err(Failure::Input)?;
    let opts = costgate::tune::Options {
        objective: costgate::tune::Objective::Paying,
        vary: costgate::tune::Vary::default(),
        tiers: Vec::new(),
        candidates: costgate::tune::DEFAULT_CANDIDATES,
        max_p95_usd: None,
        sim: sim_options(&a.sim, false),
        today: super::today()?,
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..a.runs.max(1) {
        let start = std::time::Instant::now();
        last = Some(costgate::tune::tune(&loaded[0], &policy, &opts));
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let t = last.expect("one run");
    let candidates: usize = t.frontiers.iter().map(|f| f.points.len()).sum();
    super::output::print(&format!(
        "tune {} · {} limits, {} candidates · {} trials each · {} simulations{} · median {:.3} s, min {:.3} s over {} runs · peak RSS {} MB\n",
        spec_path.display(),
        t.frontiers.len(),
        candidates,
        opts.sim.trials,
        t.simulations,
        if t.coupled {
            " (coupled: steps simulated whole)"
        } else {
            ""
        },
        times[times.len() / 2],
        times[0],
        times.len(),
        peak_rss_mb().map_or("?".into(), |m| format!("{m:.0}"))
    ))?;
    Ok(0)
}

pub fn bench(a: &BenchArgs) -> Result<i32, Failure> {
    let Some(spec_path) = &a.spec else {
        return bench_logs(a.log_records.unwrap_or(1_000_000));
    };
    if a.tune {
        return bench_tune(a, spec_path);
    }
    let policy = load_policy(None, std::slice::from_ref(spec_path))?;
    let catalog = costgate::pricing::builtin();
    let spec = costgate::spec::load_file(spec_path).map_err(Failure::Input)?;
    let priced = costgate::pricing::resolve(&spec, &catalog).map_err(Failure::Input)?;
    check::within_limits(&spec, a.sim.trials as usize).map_err(|p| Failure::Input(vec![p]))?;
    let th = policy.thresholds_for(spec.feature.value.as_ref().map(|v| v.kind));
    let mut model = costgate::economics::Model::new(&spec, &priced, th.worst_case_quantile);
    for t in &mut model.tiers {
        match &mut t.customers {
            costgate::economics::Customers::Users(d) => *d = d.scaled(a.scale_users),
            costgate::economics::Customers::Tenants { users_per_tenant, .. } => {
                *users_per_tenant = users_per_tenant.scaled(a.scale_users)
            }
        }
    }
    let opts = sim::Options {
        confidence: th.confidence,
        ..sim_options(&a.sim, false)
    };
    let users: f64 = costgate::sim::typical(&model).tiers.iter().map(|t| t.users).sum();
    let mut times = Vec::new();
    let mut p95 = 0.0;
    for _ in 0..a.runs.max(1) {
        let start = std::time::Instant::now();
        let r = sim::simulate(&model, &opts);
        times.push(start.elapsed().as_secs_f64());
        p95 = r.cost.p95.unwrap_or(f64::NAN);
    }
    times.sort_by(f64::total_cmp);
    let peak = peak_rss_mb();
    let mut o = String::new();
    let _ = writeln!(
        o,
        "spec {} · {} typical users · {} trials · {}",
        spec_path.display(),
        costgate::fmt::count(users),
        opts.trials,
        costgate::fmt::plural(
            opts.threads.unwrap_or_else(rayon::current_num_threads),
            "thread",
            "threads"
        )
    );
    let _ = writeln!(
        o,
        "wall time: median {:.3} s, min {:.3} s over {} runs · peak RSS {} · p95 month {}",
        times[times.len() / 2],
        times[0],
        times.len(),
        peak.map_or("n/a".into(), |m| format!("{m:.0} MB")),
        costgate::fmt::usd(p95)
    );
    if a.sim.sensitivity {
        let mut times = Vec::new();
        let mut inputs = 0;
        for _ in 0..a.runs.max(1) {
            let start = std::time::Instant::now();
            let s = sim::sensitivity::analyse(&model, &opts);
            times.push(start.elapsed().as_secs_f64());
            inputs = s.inputs.len();
        }
        times.sort_by(f64::total_cmp);
        let _ = writeln!(
            o,
            "sensitivity: {inputs} uncertain inputs x 2 ends · wall time: median {:.3} s, min {:.3} s over {} runs",
            times[times.len() / 2],
            times[0],
            times.len(),
        );
    }
    super::output::print(&o)?;
    Ok(0)
}

/// The usage-log benchmark: `records` calls of 100,000 users over 30 days
/// written as CSV to a temporary folder, then read and fitted as
/// `calibrate` reads and fits them.
fn bench_logs(records: u64) -> Result<i32, Failure> {
    use std::io::Write as _;
    let dir = tempfile::tempdir().map_err(|e| Failure::CantCreate(format!("cannot make a temporary folder: {e}")))?;
    let path = dir.path().join("bench-usage.csv");
    let gen_start = std::time::Instant::now();
    {
        let f = std::fs::File::create(&path).map_err(|e| Failure::CantCreate(format!("cannot write the log: {e}")))?;
        let mut w = std::io::BufWriter::new(f);
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut line = String::new();
        writeln!(w, "ts,user,session,input,output,model").map_err(|e| Failure::CantCreate(e.to_string()))?;
        let t0: u64 = 1_764_547_200;
        for i in 0..records {
            let r = next();
            let user = r % 100_000;
            let day = (i * 30) / records;
            let session = i / 3;
            let input = 200 + (next() % 8000);
            let output = 20 + (next() % 1500);
            line.clear();
            let _ = std::fmt::Write::write_fmt(
                &mut line,
                format_args!(
                    "{},u{user},s{session},{input},{output},claude-sonnet-4-5\n",
                    t0 + day * 86_400 + (r >> 40) % 86_000
                ),
            );
            w.write_all(line.as_bytes())
                .map_err(|e| Failure::CantCreate(e.to_string()))?;
        }
        w.flush().map_err(|e| Failure::CantCreate(e.to_string()))?;
    }
    let generated = gen_start.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let opts = costgate::calibrate::Options {
        population: Some(200_000.0),
        ..costgate::calibrate::Options::default()
    };
    let start = std::time::Instant::now();
    let o = costgate::check::observed::read_logs(
        std::slice::from_ref(&path),
        costgate::check::observed::LogChoice::Csv,
        Some("time=ts,user=user,session=session,input=input,output=output,model=model"),
        &opts,
        &costgate::pricing::builtin(),
        &mut |_| {},
    )
    .map_err(Failure::Input)?;
    let read = start.elapsed().as_secs_f64();
    let cal = costgate::calibrate::fit(&o.observations, &opts);
    let total = start.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "usage log: {} records, {:.0} MB CSV (generated in {generated:.1} s), {} users, {} user-days",
        costgate::fmt::count(records as f64),
        bytes as f64 / 1e6,
        costgate::fmt::count(cal.provenance.users as f64),
        costgate::fmt::count(cal.provenance.user_days as f64)
    );
    let _ = writeln!(
        out,
        "read: {read:.2} s ({} records/s, {:.0} MB/s) · read and fit: {total:.2} s · {} quantities fitted · peak RSS {}",
        costgate::fmt::count(records as f64 / read),
        bytes as f64 / 1e6 / read,
        cal.fitted.len(),
        peak.map_or("n/a".into(), |m| format!("{m:.0} MB"))
    );
    super::output::print(&out)?;
    Ok(0)
}

/// Peak resident memory of this process (Linux), in MB.
fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
