//! `costgate approve`: record an executive's approval of a spec's `approve`
//! findings, bound to the figures that needed it.

use costgate::approval::{self, Record};
use costgate::check::{self, Loaded};
use costgate::policy::Level;
use costgate::untrusted::clean;
use std::fmt::Write as _;

use super::check::{load_policy, sim_options};
use super::{ApproveArgs, Failure, today};

fn required(flag: &str, v: &str, what: &str) -> Result<String, Failure> {
    let v = v.trim();
    if v.is_empty() {
        return Err(Failure::Usage(format!("{flag} is empty: {what}")));
    }
    Ok(v.to_string())
}

pub fn run(a: &ApproveArgs) -> Result<i32, Failure> {
    let today = today()?;
    let by = required("--by", &a.by, "say who approves")?;
    let reason = required(
        "--reason",
        &a.reason,
        "say why launching at these economics is acceptable",
    )?;
    let expires: jiff::civil::Date = a
        .expires
        .trim()
        .parse()
        .map_err(|_| Failure::Usage(format!("--expires `{}` is not a date: write YYYY-MM-DD", a.expires)))?;
    if expires < today {
        return Err(Failure::Usage(format!(
            "--expires {expires} is in the past (today is {today}): an approval has to cover today at least"
        )));
    }
    let role = a
        .role
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(String::from);

    let policy = load_policy(a.run.policy.as_deref(), std::slice::from_ref(&a.spec))?;
    // Priced as `check` prices it, so the approval binds the same figures.
    let (catalog, _) = costgate::check::load_catalog(a.run.pricing.as_deref(), &policy, &a.spec, today)?;
    let spec = costgate::spec::load_file(&a.spec).map_err(Failure::Input)?;
    let priced = costgate::pricing::resolve(&spec, &catalog).map_err(Failure::Input)?;
    // Judge the spec afresh: an approval on file does not change what needs one.
    let loaded = Loaded {
        spec,
        priced,
        approval: None,
    };
    let sim = sim_options(&a.run.sim, true);
    let f = check::analyse(&loaded, &policy, &sim, today).map_err(|p| Failure::Input(vec![p]))?;
    let file = a.spec.display().to_string();
    if f.approval.figures.is_empty() {
        return Err(Failure::Usage(format!(
            "{file} needs no approval: it has no `approve` finding under {} (verdict: {}); nothing was recorded",
            policy.describe(),
            costgate::report::doc::verdict_label(f.verdict).to_lowercase()
        )));
    }
    let record = Record {
        format: approval::FORMAT,
        feature: f.id.clone(),
        spec: approval::spec_path_in_repo(&a.spec),
        by,
        role,
        reason,
        approved_on: today.to_string(),
        expires: expires.to_string(),
        fingerprint: f.approval.fingerprint.clone(),
        costgate_version: env!("CARGO_PKG_VERSION").to_string(),
        policy: policy.describe(),
        seed: sim.seed,
        trials: sim.trials as u64,
        figures: f.approval.figures.clone(),
        inputs: f.approval.inputs.clone(),
        seal: Default::default(),
    };
    let path = approval::record_path(&a.spec);
    let sig_path = approval::signature_path(&path);
    let text = record.to_toml();
    // Signed before anything is written: a key that cannot sign, or is not an
    // allowed signer for the approver, records nothing.
    let signed = match &a.sign_with {
        None => None,
        Some(key) => {
            let (pem, fp) = costgate::signers::sign(key, text.as_bytes()).map_err(Failure::Usage)?;
            if let Some(s) = policy.signers.as_deref() {
                costgate::signers::verify(text.as_bytes(), &pem, &record.by, Some(s), today)
                    .map_err(|why| Failure::Usage(format!("{why}; nothing was recorded")))?;
            }
            Some((pem, fp))
        }
    };
    // The record and its signature are two files: refuse before writing
    // either when the signature's place cannot take one (a folder there), so
    // a run never leaves a new record beside a stale or missing signature.
    if std::fs::symlink_metadata(&sig_path).is_ok_and(|m| m.is_dir()) {
        return Err(Failure::CantCreate(format!(
            "cannot write {}: it is a folder; nothing was recorded",
            sig_path.display()
        )));
    }
    let previous = Record::load_for(&a.spec).ok().flatten();
    costgate::fsutil::write_atomic(&path, text.as_bytes())?;
    match &signed {
        Some((pem, _)) => costgate::fsutil::write_atomic(&sig_path, pem.as_bytes())?,
        // The signature of the record this one replaces signs other bytes.
        None => match std::fs::remove_file(&sig_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Failure::CantCreate(format!(
                    "cannot remove the previous record's signature {}: {e}",
                    sig_path.display()
                )));
            }
            _ => {}
        },
    }

    let mut o = String::new();
    let _ = writeln!(
        o,
        "Recorded the approval of `{}` by {}, until {}, in {}.",
        f.id,
        clean(&record.who()),
        record.expires,
        path.display()
    );
    for x in &record.figures {
        let th = match (&x.name, x.threshold) {
            (Some(n), Some(t)) => format!(" (approval above {})", costgate::fmt::figure(n, t)),
            _ => String::new(),
        };
        let _ = writeln!(
            o,
            "  {}: {} {}{th}",
            x.rule,
            x.name.as_deref().unwrap_or("finding"),
            x.shown()
        );
    }
    let _ = writeln!(o, "  fingerprint {}", record.fingerprint);
    let _ = match &signed {
        Some((_, fp)) => writeln!(
            o,
            "  signed with SSH key {fp} (namespace {}) in {}",
            costgate::signers::NAMESPACE,
            sig_path.display()
        ),
        None => writeln!(
            o,
            "  unsigned{}; to sign it: ssh-keygen -Y sign -n {} -f KEY {}",
            if policy.approvals.require_signature {
                " (the policy requires a signature: it covers nothing until signed)"
            } else {
                ""
            },
            costgate::signers::NAMESPACE,
            path.display()
        ),
    };
    if let Some(p) = previous {
        let _ = writeln!(
            o,
            "  replaces the approval by {} of {} (until {})",
            clean(&p.who()),
            clean(&p.approved_on),
            clean(&p.expires)
        );
    }
    let _ = writeln!(
        o,
        "`costgate check` lets these findings through until {} while each figure stays within {} of what was approved.",
        record.expires,
        costgate::fmt::drift(policy.approvals.max_drift)
    );
    super::output::print(&o)?;
    let deny = f.findings.iter().filter(|x| x.level == Level::Deny).count();
    if deny > 0 {
        eprintln!(
            "note: {file} is also blocked by {}; an approval never covers those, so `costgate check` fails until they are fixed.",
            costgate::fmt::plural(deny, "`deny` finding", "`deny` findings")
        );
    }
    Ok(0)
}
