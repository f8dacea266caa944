//! `costgate export --to GATEWAY`: each spec's caps, budgets and breakers
//! written as the gateway's configuration, and what it cannot express.

use std::path::{Path, PathBuf};

use costgate::check::{Choice, Inputs};
use costgate::runtime::{self, Gateway};
use costgate::untrusted::clean;

use super::{ExportArgs, ExportFormat, Failure, GatewayArg};

fn gateway(g: GatewayArg) -> Gateway {
    match g {
        GatewayArg::Litellm => Gateway::Litellm,
        GatewayArg::Envoy => Gateway::Envoy,
        GatewayArg::Portkey => Gateway::Portkey,
        GatewayArg::Kong => Gateway::Kong,
    }
}

/// A feature id as one folder name: never `.`, `..` or hidden.
fn folder(id: &str) -> String {
    let s: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.strip_prefix('.') {
        Some(rest) => format!("_{rest}"),
        None if s.is_empty() => "_".into(),
        None => s,
    }
}

fn make_dir(dir: &Path) -> Result<(), Failure> {
    if let Ok(m) = std::fs::symlink_metadata(dir)
        && !m.is_dir()
    {
        return Err(Failure::CantCreate(format!(
            "cannot write into {}: it is not a folder",
            clean(&dir.display().to_string())
        )));
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::CantCreate(format!(
            "cannot create {}: {}",
            clean(&dir.display().to_string()),
            costgate::fsutil::plain(&e)
        ))
    })
}

pub fn run(a: &ExportArgs) -> Result<i32, Failure> {
    let g = gateway(a.to);
    let choice = Choice {
        policy: None,
        pricing: a.pricing.as_deref(),
    };
    let inputs = Inputs::resolve(&a.paths, choice, super::today()?)?;
    let files = costgate::check::spec_files(&a.paths).map_err(Failure::Input)?;
    let loaded = costgate::check::load_all(&files, &inputs.catalog).map_err(Failure::Input)?;
    // Everything is computed before anything is written.
    let exports: Vec<(PathBuf, &costgate::check::Loaded, runtime::Export)> = loaded
        .iter()
        .map(|l| {
            let dir = a.output.join(folder(&l.spec.feature.id)).join(g.as_str());
            (dir, l, runtime::export(&l.spec, &l.priced, g))
        })
        .collect();
    let mut json = Vec::new();
    let mut text = String::new();
    for (dir, l, e) in &exports {
        make_dir(dir)?;
        let mut names = Vec::new();
        for f in &e.files {
            let path = dir.join(&f.name);
            costgate::fsutil::write_atomic(&path, &f.bytes)?;
            #[cfg(unix)]
            if f.executable {
                use std::os::unix::fs::PermissionsExt;
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
                }
            }
            names.push(f.name.clone());
        }
        let spec_file = l.spec.file.to_string();
        match a.format {
            ExportFormat::Json => json.push(serde_json::json!({
                "feature": l.spec.feature.id,
                "spec": spec_file,
                "gateway": g,
                "folder": dir.display().to_string(),
                "files": names,
                "limits": e.plan.wants,
                "gaps": e.plan.gaps.iter().map(|gap| serde_json::json!({
                    "kind": gap.kind,
                    "spec_path": gap.spec_path,
                    "line": gap.spec_loc.line,
                    "column": gap.spec_loc.column,
                    "message": gap.message,
                })).collect::<Vec<_>>(),
            })),
            ExportFormat::Text => {
                text.push_str(&format!(
                    "{} -> {}: {} limit{} in {}/ ({})\n",
                    clean(&l.spec.feature.id),
                    g.title(),
                    e.plan.wants.len(),
                    if e.plan.wants.len() == 1 { "" } else { "s" },
                    clean(&dir.display().to_string()),
                    names.join(", ")
                ));
                if e.plan.gaps.is_empty() {
                    text.push_str("  every limit is expressed exactly\n");
                } else {
                    text.push_str(&format!(
                        "  what {} cannot express exactly ({}):\n",
                        g.title(),
                        e.plan.gaps.len()
                    ));
                    for line in runtime::gap_lines(&spec_file, &e.plan.gaps) {
                        text.push_str(&format!("  - {line}\n"));
                    }
                }
            }
        }
    }
    let out = match a.format {
        ExportFormat::Json => {
            let mut s = serde_json::to_string_pretty(&json).map_err(|e| Failure::Internal(e.to_string()))?;
            s.push('\n');
            costgate::untrusted::json_inert(s)
        }
        ExportFormat::Text => text,
    };
    super::output::print(&out)?;
    Ok(0)
}
