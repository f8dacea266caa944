//! Exec approvals bound to the numbers.
//!
//! When a feature's figures pass an `approve`-level threshold, launching it is
//! a business decision. `costgate approve` records that decision in an
//! approval record beside the spec (`<spec>.approval.toml`): who approved,
//! their role, when, until when, why, and a fingerprint of what was approved:
//! the spec's economic inputs, the prices used and the figures that needed
//! approval, those two kept in clear in the record so a reviewer reads them.
//!
//! A later run lets an `approve` finding through while the record has not
//! expired and the finding's figure is not worse than approved by more than
//! the policy's `[approvals] max_drift`; otherwise the finding says why the
//! approval no longer covers it. An approval never covers a `deny` finding.
//!
//! The record binds every field it shows: a `[seal]` holds a digest of each
//! field (so an edit is detected and named), the spec's path within the
//! repository is one of them (so a record moved or copied beside another
//! spec does not cover it), and a detached SSH signature beside the record
//! (`<record>.sig`, see [`crate::signers`]) makes it authentic when the
//! policy names who may sign. See `docs/approvals.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fmt;
use crate::policy::rules::ApprovalState;
use crate::policy::{Finding, Level, Policy};
use crate::pricing::PricedModels;
use crate::signers;
use crate::source::{Loc, Problem, Span};
use crate::spec::Spec;

/// Version of the approval record format. Format 1 did not bind who
/// approved, the expiry or the spec's path; it is no longer read.
pub const FORMAT: u32 = 2;

/// The suffix that replaces a spec's extension to name its approval record.
pub const SUFFIX: &str = ".approval.toml";

/// Where the approval record of a spec is kept: beside it, with the spec's
/// extension replaced (`specs/chat.yaml` -> `specs/chat.approval.toml`).
pub fn record_path(spec_file: &Path) -> PathBuf {
    let stem = spec_file
        .file_stem()
        .map_or_else(|| "spec".to_string(), |s| s.to_string_lossy().to_string());
    spec_file.with_file_name(format!("{stem}{SUFFIX}"))
}

/// Where the detached signature of a record is kept (`<record>.sig`, the
/// name `ssh-keygen -Y sign` gives it).
pub fn signature_path(record: &Path) -> PathBuf {
    let mut s = record.as_os_str().to_owned();
    s.push(signers::SIG_SUFFIX);
    PathBuf::from(s)
}

/// The spec's path within its git repository (`specs/chat.yaml`, with `/`),
/// which an approval record binds. The repository is the nearest folder
/// above the spec holding `.git`; outside a repository, the spec's file name.
pub fn spec_path_in_repo(spec_file: &Path) -> String {
    let name = || {
        spec_file
            .file_name()
            .map_or_else(|| spec_file.display().to_string(), |n| n.to_string_lossy().to_string())
    };
    let Ok(abs) = std::fs::canonicalize(spec_file) else {
        return name();
    };
    let Some(top) = abs.parent().and_then(crate::fsutil::repo_root) else {
        return name();
    };
    match abs.strip_prefix(&top) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_string())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => name(),
    }
}

/// One figure that needed approval, as it was approved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovedFigure {
    /// The rule code of the finding.
    pub rule: String,
    /// The figure's name (`cost_revenue_ratio`, ...); absent for a finding
    /// without a figure, which is then bound to its message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The figure's value when approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// The policy threshold it was above when approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// The finding as it read when approved (for the reviewer).
    pub message: String,
}

impl ApprovedFigure {
    fn of(f: &Finding) -> Self {
        ApprovedFigure {
            rule: f.rule.code().to_string(),
            name: f.figure.as_ref().map(|x| x.name.clone()),
            value: f.figure.as_ref().map(|x| x.value),
            threshold: f.figure.as_ref().map(|x| x.threshold),
            message: f.message.clone(),
        }
    }

    /// The value as people read it (`31%`, `$18,838`).
    pub fn shown(&self) -> String {
        match (&self.name, self.value) {
            (Some(n), Some(v)) => fmt::figure(n, v),
            _ => "as it read then".to_string(),
        }
    }
}

/// A model price that went into the figures, in USD per million tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceUsed {
    /// The key under `models:` in the spec.
    pub model: String,
    /// The model the key resolved to.
    pub id: String,
    /// Input tokens, USD per million.
    pub input_usd_per_mtok: f64,
    /// Output tokens, USD per million.
    pub output_usd_per_mtok: f64,
    /// Cached input tokens, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input_usd_per_mtok: Option<f64>,
    /// Writing the prompt cache, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_usd_per_mtok: Option<f64>,
    /// Long-context pricing: above this many input tokens a request is billed
    /// at the `long_*` rates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context_threshold_tokens: Option<f64>,
    /// Input tokens past the long-context threshold, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_input_usd_per_mtok: Option<f64>,
    /// Output tokens past the long-context threshold, USD per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_output_usd_per_mtok: Option<f64>,
}

/// What the figures were computed from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// SHA-256 of the spec's economic inputs: the spec as data, without its
    /// comments, layout, display names and user-facing messages.
    pub spec_sha256: String,
    /// The price of each model the spec uses.
    pub prices: Vec<PriceUsed>,
}

/// An approval record, as kept in `<spec>.approval.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The record format version.
    pub format: u32,
    /// The feature id it approves.
    pub feature: String,
    /// The spec it belongs to: its path within the repository.
    pub spec: String,
    /// Who approved.
    pub by: String,
    /// Their role (`CFO`), if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Why the figures are accepted.
    pub reason: String,
    /// YYYY-MM-DD.
    pub approved_on: String,
    /// The last day it covers (YYYY-MM-DD).
    pub expires: String,
    /// `sha256:` of the feature id, the inputs and the figures.
    pub fingerprint: String,
    /// The costgate version that computed the figures.
    pub costgate_version: String,
    /// The policy the figures were judged by.
    pub policy: String,
    /// The simulation seed of the approved run.
    pub seed: u64,
    /// The simulated months of the approved run.
    pub trials: u64,
    /// The approved figures, one per `approve` finding.
    pub figures: Vec<ApprovedFigure>,
    /// What the figures were computed from.
    pub inputs: Inputs,
    /// A digest of every field above, by name: which ones were edited.
    pub seal: BTreeMap<String, String>,
}

impl Record {
    /// Every field of the record but the seal, in the record's order, each
    /// as canonical JSON: the seal binds whatever the record holds, so a
    /// field added to [`Record`] is sealed without another list to keep in
    /// step.
    fn canonical(&self) -> Vec<(String, String)> {
        let fields = toml::Table::try_from(self).expect("a record serialises as a table");
        fields
            .into_iter()
            .filter(|(name, _)| name != "seal")
            .map(|(name, value)| {
                let json = serde_json::to_string(&value).expect("a TOML value serialises as JSON");
                (name, json)
            })
            .collect()
    }

    /// The seal of the record's current contents: per field, the first 16
    /// hex digits of SHA-256 over `costgate-approval`, the name and the value.
    pub fn compute_seal(&self) -> BTreeMap<String, String> {
        self.canonical()
            .into_iter()
            .map(|(name, value)| {
                let mut h = Sha256::new();
                h.update(b"costgate-approval\0");
                h.update(name.as_bytes());
                h.update(b"\0");
                h.update(value.as_bytes());
                let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
                (name, hex[..16].to_string())
            })
            .collect()
    }

    /// The fields whose contents no longer match the seal: edited or added
    /// (in the record's order), then removed since it was computed.
    pub fn changed_fields(&self) -> Vec<String> {
        let now = self.compute_seal();
        let order = self.canonical().into_iter().map(|(name, _)| name);
        let gone = self.seal.keys().filter(|k| !now.contains_key(*k)).cloned();
        order.chain(gone).filter(|n| self.seal.get(n) != now.get(n)).collect()
    }

    /// "cfo@example.com (CFO)".
    pub fn who(&self) -> String {
        match &self.role {
            Some(r) if !r.is_empty() => format!("{} ({r})", self.by),
            _ => self.by.clone(),
        }
    }

    /// The fingerprint its own contents give; differs from `fingerprint` when
    /// the record was edited by hand.
    pub fn computed_fingerprint(&self) -> String {
        fingerprint(&self.feature, &self.inputs, &self.figures)
    }

    /// The record as TOML, with a header that says what it is. The seal is
    /// computed here, over the contents written.
    pub fn to_toml(&self) -> String {
        let sealed = Record {
            seal: self.compute_seal(),
            ..self.clone()
        };
        let body = toml::to_string(&sealed).expect("approval records serialise");
        format!(
            "# costgate approval record: written by `costgate approve`; review it like code.\n\
             # It lets the `approve` findings listed under [[figures]] through `costgate check`\n\
             # until `expires`, while each figure is not worse than approved by more than the\n\
             # policy's [approvals] max_drift. It never covers a `deny` finding.\n\
             # [seal] binds every field (a hand edit is detected and named); a signature, if any,\n\
             # is in the .sig file beside it. Record a new approval instead of editing this one.\n\n{body}"
        )
    }

    /// Read a record from its TOML text (`display` names the file in problems).
    pub fn parse(display: &str, text: &str) -> Result<Record, Vec<Problem>> {
        let file: Arc<str> = Arc::from(display);
        let problem = |loc: Loc, message: String, hint: Option<String>| {
            vec![Problem {
                code: crate::source::ProblemCode::InvalidValue,
                span: Span::new(&file, loc, ""),
                message,
                hint,
            }]
        };
        // The format first (the only check of it: a record of this format
        // parses below): an older record lacks fields this one requires.
        if let Ok(t) = toml::from_str::<toml::Table>(text)
            && let Some(f) = t.get("format").and_then(toml::Value::as_integer)
            && f != i64::from(FORMAT)
        {
            let why = if f == 1 {
                ": format 1 did not bind who approved, the expiry or the spec's path"
            } else {
                ""
            };
            return Err(problem(
                Loc::UNKNOWN,
                format!("approval record format {f} is not the one this costgate reads ({FORMAT}){why}"),
                Some("record it again with this costgate's `costgate approve`".into()),
            ));
        }
        let r: Record = toml::from_str(text).map_err(|e| {
            let loc = e.span().map_or(Loc::UNKNOWN, |s| Loc::from_offset(text, s.start));
            problem(
                loc,
                format!("not a valid approval record: {}", e.message()),
                Some("record it again with `costgate approve`".into()),
            )
        })?;
        for (what, s) in [("approved_on", &r.approved_on), ("expires", &r.expires)] {
            if s.parse::<jiff::civil::Date>().is_err() {
                return Err(problem(
                    Loc::UNKNOWN,
                    format!("`{what} = \"{s}\"` is not a date"),
                    Some("write YYYY-MM-DD".into()),
                ));
            }
        }
        Ok(r)
    }

    /// Read the record of a spec, if there is one.
    pub fn load_for(spec_file: &Path) -> Result<Option<Record>, Vec<Problem>> {
        OnFile::load_for(spec_file).map(|o| o.map(|o| o.record))
    }
}

/// An approval record as found beside a spec: the record, its exact text
/// (what a signature signs) and its detached signature, if any.
#[derive(Clone, Debug)]
pub struct OnFile {
    /// The record.
    pub record: Record,
    /// Its exact text.
    pub text: String,
    /// The text of `<record>.sig`.
    pub signature: Option<String>,
}

impl OnFile {
    /// Read the record of a spec and its signature, if there are.
    pub fn load_for(spec_file: &Path) -> Result<Option<OnFile>, Vec<Problem>> {
        let path = record_path(spec_file);
        // Only a record that is not there is "no record": a dangling link,
        // a loop or a FIFO is an error below, never skipped.
        if std::fs::symlink_metadata(&path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
            return Ok(None);
        }
        let display = path.display().to_string();
        let fail_at = |loc: Loc, m: String| {
            vec![Problem {
                code: crate::source::ProblemCode::Unreadable,
                span: Span::new(&Arc::from(display.as_str()), loc, ""),
                message: m,
                hint: None,
            }]
        };
        let fail = |m: String| fail_at(Loc::UNKNOWN, m);
        let text = crate::input::read_text(&path).map_err(|e| fail_at(e.loc, e.message))?;
        let record = Record::parse(&display, &text)?;
        let signature = signers::read_signature(&signature_path(&path)).map_err(fail)?;
        Ok(Some(OnFile {
            record,
            text,
            signature,
        }))
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of what in a spec moves the numbers. The spec is taken as data
/// (comments and layout are gone already), and what does not change a
/// figure is left out: where each value sits, its provenance label, the
/// feature's display name and owner, and the messages users are shown.
pub fn spec_inputs_sha256(spec: &Spec) -> String {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for k in ["line", "column", "origin", "message", "loc"] {
                    m.remove(k);
                }
                m.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(spec).expect("specs serialise");
    if let serde_json::Value::Object(m) = &mut v {
        m.remove("file");
        if let Some(serde_json::Value::Object(f)) = m.get_mut("feature") {
            f.remove("name");
            f.remove("owner");
        }
    }
    strip(&mut v);
    sha256_hex(v.to_string().as_bytes())
}

/// The prices a run used, in the spec's model order.
pub fn prices_used(priced: &PricedModels) -> Vec<PriceUsed> {
    priced
        .models
        .iter()
        .map(|m| {
            let p = &m.price;
            PriceUsed {
                model: m.key.clone(),
                id: p.id.clone(),
                input_usd_per_mtok: p.input_usd_per_mtok,
                output_usd_per_mtok: p.output_usd_per_mtok,
                cached_input_usd_per_mtok: p.cached_input_usd_per_mtok,
                cache_write_usd_per_mtok: p.cache_write_usd_per_mtok,
                long_context_threshold_tokens: p.above.as_ref().map(|a| a.threshold_tokens),
                long_input_usd_per_mtok: p.above.as_ref().map(|a| a.input_usd_per_mtok),
                long_output_usd_per_mtok: p.above.as_ref().map(|a| a.output_usd_per_mtok),
            }
        })
        .collect()
}

/// The fingerprint of an approval: SHA-256 over the feature id, the inputs
/// and the figures (rule, name, value, threshold; not the wording).
pub fn fingerprint(feature: &str, inputs: &Inputs, figures: &[ApprovedFigure]) -> String {
    let figs: Vec<_> = figures
        .iter()
        .map(|f| serde_json::json!([f.rule, f.name, f.value, f.threshold]))
        .collect();
    let doc = serde_json::json!({
        "format": FORMAT,
        "feature": feature,
        "spec_sha256": inputs.spec_sha256,
        "prices": inputs.prices,
        "figures": figs,
    });
    format!("sha256:{}", sha256_hex(doc.to_string().as_bytes()))
}

/// The first 12 hex digits, for display.
pub fn short(fingerprint: &str) -> &str {
    let hex = fingerprint.strip_prefix("sha256:").unwrap_or(fingerprint);
    &hex[..hex.len().min(12)]
}

/// What a run knows of the approval of one feature: what an approval of this
/// run would bind to, and the record on file, if any.
#[derive(Clone, Debug, Serialize)]
pub struct ApprovalReport {
    /// Where the approval record of the spec is, or would be, kept.
    pub file: String,
    /// The fingerprint an approval of this run would carry.
    pub fingerprint: String,
    /// The figures an approval of this run would bind (the `approve` findings).
    pub figures: Vec<ApprovedFigure>,
    /// What the figures of this run were computed from.
    pub inputs: Inputs,
    /// `[approvals] max_drift` of the policy.
    pub max_drift: f64,
    /// The record on file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordStatus>,
}

/// The approval record on file for a feature, judged against this run.
#[derive(Clone, Debug, Serialize)]
pub struct RecordStatus {
    /// Who approved.
    pub by: String,
    /// Their role, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Why.
    pub reason: String,
    /// The day it was recorded (YYYY-MM-DD).
    pub approved_on: String,
    /// The last day it covers (YYYY-MM-DD).
    pub expires: String,
    /// The record's fingerprint.
    pub fingerprint: String,
    /// The figures it approved.
    pub figures: Vec<ApprovedFigure>,
    /// Whether its expiry has passed.
    pub expired: bool,
    /// The record's fingerprint matches this run's: nothing changed.
    pub matches: bool,
    /// The record's contents do not match its seal or its fingerprint.
    pub edited: bool,
    /// The fields edited since it was recorded (by its seal).
    pub changed: Vec<String>,
    /// The spec path the record is bound to (within the repository).
    pub spec: String,
    /// Whether that is this spec's path: false for a record moved or copied.
    pub same_spec: bool,
    /// What its signature shows.
    pub signature: SignatureStatus,
}

/// What the signature of a record shows.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureStatus {
    /// `unsigned`; `verified` (an allowed signer's key for the approver);
    /// `unchecked` (a valid signature, but the policy names no
    /// allowed_signers); `invalid` (it does not count: see `note`).
    pub state: &'static str,
    /// `SHA256:...` of the signing key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Why, in words (who signed, or why it does not count).
    pub note: String,
}

impl SignatureStatus {
    /// How a covering note ends: whether and by whom it is signed.
    fn words(&self) -> String {
        match self.state {
            "unsigned" => "; unsigned".into(),
            _ => format!("; {}", self.note),
        }
    }
}

/// Check the signature of a record against the policy.
fn signature_status(on: &OnFile, policy: &Policy, today: jiff::civil::Date) -> SignatureStatus {
    let rec = &on.record;
    let Some(pem) = &on.signature else {
        return SignatureStatus {
            state: "unsigned",
            key: None,
            note: "unsigned".into(),
        };
    };
    let signers = policy.signers.as_deref();
    match signers::verify(on.text.as_bytes(), pem, &rec.by, signers, today) {
        Ok(v) if v.allowed => SignatureStatus {
            state: "verified",
            note: format!(
                "signed by {} (SSH key {}, an allowed signer in {})",
                rec.by,
                v.key,
                signers.map_or("", |s| s.file.as_str())
            ),
            key: Some(v.key),
        },
        Ok(v) => SignatureStatus {
            state: "unchecked",
            note: format!(
                "signed with SSH key {}, not checked against allowed signers: the policy names no `allowed_signers`",
                v.key
            ),
            key: Some(v.key),
        },
        Err(why) => SignatureStatus {
            state: "invalid",
            key: None,
            note: why,
        },
    }
}

/// The approval a run would record for these findings.
pub fn binding(spec: &Spec, priced: &PricedModels, findings: &[Finding]) -> (Inputs, Vec<ApprovedFigure>, String) {
    let inputs = Inputs {
        spec_sha256: spec_inputs_sha256(spec),
        prices: prices_used(priced),
    };
    let figures: Vec<ApprovedFigure> = findings
        .iter()
        .filter(|f| f.level == Level::Approve)
        .map(ApprovedFigure::of)
        .collect();
    let fp = fingerprint(&spec.feature.id, &inputs, &figures);
    (inputs, figures, fp)
}

/// Judge the `approve` findings of a feature against its approval record:
/// each gets an [`ApprovalState`] saying whether the record covers it and
/// why, or why not. Call between `evaluate` and `verdict_of`.
pub fn apply(
    spec: &Spec,
    priced: &PricedModels,
    record: Option<&OnFile>,
    findings: &mut [Finding],
    policy: &Policy,
    today: jiff::civil::Date,
) -> ApprovalReport {
    let (inputs, figures, fp) = binding(spec, priced, findings);
    let drift = policy.approvals.max_drift;
    let mut report = ApprovalReport {
        file: record_path(Path::new(&*spec.file)).display().to_string(),
        fingerprint: fp.clone(),
        figures,
        inputs,
        max_drift: drift,
        record: None,
    };
    let Some(on) = record else {
        return report;
    };
    let rec = &on.record;
    let expires: Option<jiff::civil::Date> = rec.expires.parse().ok();
    let expired = expires.is_none_or(|d| d < today);
    let mut changed = rec.changed_fields();
    if changed.is_empty() && rec.computed_fingerprint() != rec.fingerprint {
        changed.push("fingerprint".into());
    }
    let edited = !changed.is_empty();
    let matches = !edited && rec.fingerprint == fp;
    let here = spec_path_in_repo(Path::new(&*spec.file));
    let same_spec = rec.spec == here;
    let signature = signature_status(on, policy, today);
    report.record = Some(RecordStatus {
        by: rec.by.clone(),
        role: rec.role.clone(),
        reason: rec.reason.clone(),
        approved_on: rec.approved_on.clone(),
        expires: rec.expires.clone(),
        fingerprint: rec.fingerprint.clone(),
        figures: rec.figures.clone(),
        expired,
        matches,
        edited,
        changed: changed.clone(),
        spec: rec.spec.clone(),
        same_spec,
        signature: signature.clone(),
    });
    let by = format!("{} on {}", rec.who(), rec.approved_on);
    let signed = on.signature.is_some();
    // Why the record as a whole cannot cover anything, if so.
    let void = if !spec.overrides.is_empty() {
        Some(format!(
            "this run overrides the spec with --set (a what-if): the approval by {by} covers the spec as written, never an overridden run"
        ))
    } else if rec.feature != spec.feature.id {
        Some(format!(
            "the approval record {} is for feature `{}`, not `{}`",
            report.file, rec.feature, spec.feature.id
        ))
    } else if !same_spec {
        Some(format!(
            "the approval record {} is for the spec `{}`, not `{}`: a record covers only the spec it was recorded for; record one for this spec with `costgate approve`",
            report.file, rec.spec, here
        ))
    } else if edited {
        let names: Vec<String> = changed.iter().map(|c| format!("`{c}`")).collect();
        Some(format!(
            "approval edited after {}: {} changed (the record {} no longer matches its seal); record it again with `costgate approve`",
            if signed { "signing" } else { "it was recorded" },
            names.join(", "),
            report.file
        ))
    } else if signature.state == "invalid" {
        Some(format!(
            "the approval by {by} has a signature that does not count: {}; record and sign it again",
            signature.note
        ))
    } else if policy.approvals.require_signature && signature.state != "verified" {
        Some(format!(
            "the approval by {by} is unsigned, and the policy requires a signature by an allowed signer; sign it with `costgate approve --sign-with KEY` or `ssh-keygen -Y sign -n {} -f KEY {}`",
            signers::NAMESPACE,
            report.file
        ))
    } else if expired {
        Some(format!(
            "the approval by {by} expired on {}; record a new one with `costgate approve`",
            rec.expires
        ))
    } else {
        None
    };
    let mut seen: Vec<(&'static str, usize)> = Vec::new();
    for f in findings.iter_mut() {
        match f.level {
            Level::Approve => {}
            Level::Deny => {
                // Say so where the record approved the same figure.
                let name = f.figure.as_ref().map(|x| x.name.as_str());
                if let Some(a) = rec.figures.iter().find(|a| name.is_some() && a.name.as_deref() == name) {
                    f.approval = Some(ApprovalState {
                        covered: false,
                        note: format!(
                            "approved at {} by {by}, but an approval never covers a `deny` finding",
                            a.shown()
                        ),
                    });
                }
                continue;
            }
            _ => continue,
        }
        let code = f.rule.code();
        let k = match seen.iter_mut().find(|(c, _)| *c == code) {
            Some((_, n)) => {
                *n += 1;
                *n - 1
            }
            None => {
                seen.push((code, 1));
                0
            }
        };
        let state = match &void {
            Some(why) => ApprovalState {
                covered: false,
                note: why.clone(),
            },
            None => {
                let mut s = judge(f, rec, k, &by, drift, matches);
                if s.covered {
                    s.note.push_str(&signature.words());
                }
                s
            }
        };
        f.approval = Some(state);
    }
    report
}

/// Whether the `k`-th finding of its rule is covered by the record.
fn judge(f: &Finding, rec: &Record, k: usize, by: &str, drift: f64, matches: bool) -> ApprovalState {
    let code = f.rule.code();
    let Some(a) = rec.figures.iter().filter(|a| a.rule == code).nth(k) else {
        let n = rec.figures.iter().filter(|a| a.rule == code).count();
        let note = if n == 0 {
            let covers: Vec<&str> = rec.figures.iter().map(|a| a.rule.as_str()).collect();
            format!(
                "the approval by {by} does not cover `{code}` (it covers: {})",
                if covers.is_empty() {
                    "nothing".into()
                } else {
                    covers.join(", ")
                }
            )
        } else {
            format!(
                "the approval by {by} covers {n} finding(s) of `{code}`; this run has more: {}",
                f.message
            )
        };
        return ApprovalState { covered: false, note };
    };
    let until = format!("until {}", rec.expires);
    match (&f.figure, &a.name, a.value) {
        (Some(now), Some(name), Some(then)) if *name == now.name => {
            let allowed = then * (1.0 + drift);
            if now.value <= allowed {
                let changed = if matches {
                    String::new()
                } else {
                    format!(
                        "; the spec, its prices or the figures changed since, within the {} drift the policy allows",
                        fmt::drift(drift)
                    )
                };
                ApprovalState {
                    covered: true,
                    note: format!(
                        "approved at {} by {by}, {until}; now {}{changed}",
                        a.shown(),
                        fmt::figure(name, now.value)
                    ),
                }
            } else {
                ApprovalState {
                    covered: false,
                    note: format!(
                        "approved at {} by {by}; now {}, worse by more than the {} drift the policy allows (at most {})",
                        a.shown(),
                        fmt::figure(name, now.value),
                        fmt::drift(drift),
                        fmt::figure(name, allowed)
                    ),
                }
            }
        }
        _ if a.name.is_none() && f.figure.is_none() && a.message == f.message => ApprovalState {
            covered: true,
            note: format!("approved by {by}, {until}"),
        },
        _ => ApprovalState {
            covered: false,
            note: format!(
                "the approval by {by} was for a different finding of `{code}` (\"{}\"); record a new one",
                a.message
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Rule;
    use crate::policy::rules::Figure;

    fn finding(value: f64) -> Finding {
        Finding {
            rule: Rule::CostRevenueNeedsApproval,
            level: Level::Approve,
            feature: "f".into(),
            message: "m".into(),
            help: "h".into(),
            span: None,
            figure: Some(Figure {
                name: "cost_revenue_ratio".into(),
                value,
                threshold: 0.2,
            }),
            exception: None,
            approval: None,
        }
    }

    fn record(value: f64) -> Record {
        let inputs = Inputs {
            spec_sha256: "x".into(),
            prices: vec![],
        };
        let figures = vec![ApprovedFigure::of(&finding(value))];
        Record {
            format: FORMAT,
            feature: "f".into(),
            spec: "f.yaml".into(),
            by: "cfo@example.com".into(),
            role: Some("CFO".into()),
            reason: "r".into(),
            approved_on: "2026-11-28".into(),
            expires: "2027-02-28".into(),
            fingerprint: fingerprint("f", &inputs, &figures),
            costgate_version: "0".into(),
            policy: "p".into(),
            seed: 1,
            trials: 1,
            figures,
            inputs,
            seal: BTreeMap::new(),
        }
    }

    #[test]
    fn drift_bounds_what_an_approval_covers() {
        let rec = record(0.30);
        let by = "cfo@example.com (CFO) on 2026-11-28";
        let ok = judge(&finding(0.31), &rec, 0, by, 0.05, false);
        assert!(ok.covered, "{ok:?}");
        assert!(
            ok.note
                .starts_with("approved at 30% by cfo@example.com (CFO) on 2026-11-28, until 2027-02-28; now 31%")
        );
        let bad = judge(&finding(0.38), &rec, 0, by, 0.05, false);
        assert!(!bad.covered);
        assert_eq!(
            bad.note,
            "approved at 30% by cfo@example.com (CFO) on 2026-11-28; now 38%, worse by more than the 5% drift the policy allows (at most 32%)"
        );
        // no drift: not a hair above
        assert!(!judge(&finding(0.3000001), &rec, 0, by, 0.0, false).covered);
        assert!(judge(&finding(0.30), &rec, 0, by, 0.0, true).covered);
        // a second finding of the rule is not covered by the first approval
        assert!(!judge(&finding(0.30), &rec, 1, by, 0.05, true).covered);
    }

    #[test]
    fn records_round_trip_and_detect_hand_edits() {
        let rec = record(0.3123456789);
        let text = rec.to_toml();
        let back = Record::parse("f.approval.toml", &text).unwrap();
        assert_eq!(
            back,
            Record {
                seal: rec.compute_seal(),
                ..rec.clone()
            }
        );
        assert_eq!(back.computed_fingerprint(), back.fingerprint);
        assert!(back.changed_fields().is_empty(), "{:?}", back.changed_fields());
        let edited = text.replace("value = 0.3123456789", "value = 0.5");
        assert_ne!(edited, text);
        let e = Record::parse("f.approval.toml", &edited).unwrap();
        assert_ne!(e.computed_fingerprint(), e.fingerprint);
        assert_eq!(e.changed_fields(), ["figures"]);
        let err = Record::parse("f.approval.toml", "format = 2\nfeature = 3\n").unwrap_err();
        assert_eq!(err[0].span.line, 2, "{err:?}");
        let old = Record::parse("f.approval.toml", "format = 1\nfeature = \"f\"\n").unwrap_err();
        assert!(old[0].message.contains("format 1 did not bind who approved"), "{old:?}");
    }

    /// Every field the record shows is bound: an edit of any one is detected
    /// and named, and the fingerprint alone (the economic inputs) does not
    /// cover `by`, `expires` and the rest.
    #[test]
    fn the_seal_names_every_edited_field() {
        let text = record(0.3).to_toml();
        for (from, to, field) in [
            ("expires = \"2027-02-28\"", "expires = \"9999-12-31\"", "expires"),
            ("by = \"cfo@example.com\"", "by = \"intern@example.com\"", "by"),
            ("role = \"CFO\"", "role = \"CEO\"", "role"),
            ("reason = \"r\"", "reason = \"because\"", "reason"),
            ("spec = \"f.yaml\"", "spec = \"g.yaml\"", "spec"),
            ("feature = \"f\"", "feature = \"g\"", "feature"),
            (
                "approved_on = \"2026-11-28\"",
                "approved_on = \"2026-12-28\"",
                "approved_on",
            ),
            ("seed = 1", "seed = 2", "seed"),
            ("threshold = 0.2", "threshold = 0.3", "figures"),
            ("spec_sha256 = \"x\"", "spec_sha256 = \"y\"", "inputs"),
        ] {
            assert!(text.contains(from), "{from} not in\n{text}");
            let e = Record::parse("f.approval.toml", &text.replace(from, to)).unwrap();
            assert_eq!(e.changed_fields(), [field], "{from}");
        }
    }

    #[test]
    fn record_path_sits_beside_the_spec() {
        assert_eq!(
            record_path(Path::new("specs/chat.yaml")),
            PathBuf::from("specs/chat.approval.toml")
        );
        assert!(!crate::check::is_spec_name("chat.approval.toml"));
    }

    #[test]
    fn the_inputs_hash_follows_the_economics_not_the_layout() {
        let base = "costgate: 1
feature: {id: f, name: A, owner: x, value: {kind: revenue}}
models: {primary: claude-sonnet-4-5}
interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 2, max_input_tokens: 4000, max_output_tokens: 1000}
usage: {active_share: 1, interactions_per_active_day: 10}
tiers:
  - {name: pro, users: 1000, price_usd_per_month: 20, model: primary, limit: {daily_tokens: 9000, on_limit: block, message: \"m\"}}
";
        let h = |y: &str| spec_inputs_sha256(&crate::spec::load_str("s.yaml", y).unwrap());
        let same = [
            format!("# a comment\n\n{base}"),
            base.replace("name: A, owner: x", "name: Another name, owner: team-b"),
            base.replace("message: \"m\"", "message: \"reworded\""),
        ];
        for y in &same {
            assert_eq!(h(y), h(base), "{y}");
        }
        // the same spec as TOML-flavoured YAML blocks
        let blocky = base.replace(
            "interaction: {input_tokens: 1000, output_tokens: 500, max_calls: 2, max_input_tokens: 4000, max_output_tokens: 1000}",
            "interaction:\n  input_tokens: 1000\n  output_tokens: 500\n  max_calls: 2\n  max_input_tokens: 4000\n  max_output_tokens: 1000",
        );
        assert_eq!(h(&blocky), h(base));
        for y in [
            base.replace("input_tokens: 1000,", "input_tokens: 1100,"),
            base.replace("daily_tokens: 9000", "daily_tokens: 9001"),
            base.replace("price_usd_per_month: 20", "price_usd_per_month: 19"),
            base.replace("{primary: claude-sonnet-4-5}", "{primary: claude-haiku-4-5}"),
        ] {
            assert_ne!(h(&y), h(base), "{y}");
        }
    }

    #[test]
    fn figures_format_by_unit() {
        assert_eq!(fmt::figure("cost_revenue_ratio", 0.314), "31%");
        assert_eq!(fmt::figure("p95_monthly_usd", 18838.2), "$18,838");
        assert_eq!(fmt::drift(0.05), "5%");
        assert_eq!(fmt::drift(0.025), "2.5%");
    }
}
