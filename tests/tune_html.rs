//! `costgate tune --html FILE`: a self-contained page with the
//! recommendation and its check verdict, one chart and one table per
//! frontier with the recommended point marked and the policy's limit drawn,
//! what was not tuned, and, when nothing passes, why; every string from the
//! spec escaped; written atomically (a failed run or write leaves the
//! previous page as it was).

#[path = "support/cmd.rs"]
mod cmd;

use std::path::Path;

use costgate::fmt::{count, usd};

const GOOD: &str = include_str!("support/good.yaml");
const TRIALS: &str = "600";

/// The free tier of GOOD renamed to markup and terminal escapes.
fn hostile() -> String {
    GOOD.replace(
        "- name: free",
        "- name: \"free <script>alert(1)</script>\\e[31mRED\\e]8;;http://e.test\\aX\"",
    )
}

/// `costgate tune SPEC --format json ARGS` in `dir`: exit status, the JSON, stderr.
fn tune(dir: &Path, spec: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = cmd::costgate_on("2026-11-28")
        .current_dir(dir)
        .arg("tune")
        .arg(spec)
        .args([
            "--trials",
            TRIALS,
            "--allow-few-trials",
            "--candidates",
            "6",
            "--format",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json, err)
}

fn label(verdict: &str) -> &'static str {
    match verdict {
        "pass" => "PASS",
        "needs_approval" => "NEEDS APPROVAL",
        "blocked" => "BLOCKED",
        v => panic!("verdict {v}"),
    }
}

/// The `k`th `<figure class="chart frontier">` of the page.
fn figure(page: &str, k: usize) -> &str {
    let start = page
        .match_indices("<figure class=\"chart frontier\">")
        .nth(k)
        .expect("a figure")
        .0;
    let end = start + page[start..].find("</figure>").unwrap();
    &page[start..end]
}

#[test]
fn the_page_has_a_chart_and_a_table_per_frontier_with_the_choice_marked_and_names_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("good.yaml");
    std::fs::write(&spec, hostile()).unwrap();
    // The month with every limit at the spec's value, from a first run.
    let (_, j, err) = tune(tmp.path(), &spec, &[]);
    let f0 = &j["tuning"]["frontiers"][0];
    let at_spec = f0["points"]
        .as_array()
        .unwrap_or_else(|| panic!("{err}"))
        .iter()
        .find(|p| p["cap"] == f0["current"])
        .expect("the spec's value is a point")["cost_at_confidence"]
        .as_f64()
        .unwrap();
    // A policy the spec's limits miss by 10%: the search has to tighten.
    let limit = (at_spec * 0.9).round();
    std::fs::write(
        tmp.path().join("costgate.toml"),
        format!("[thresholds]\np95_monthly_usd = {limit}\n"),
    )
    .unwrap();
    let page_path = tmp.path().join("tune.html");
    let (code, j, err) = tune(tmp.path(), &spec, &["--html", page_path.to_str().unwrap()]);
    let t = &j["tuning"];
    assert_eq!(code, 0, "{err}{j:#}");
    assert_eq!(t["passes"], true);
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("Content-Security-Policy"));

    // The recommendation and the check verdict of the spec with it.
    let verdict = label(j["recommended_verdict"].as_str().unwrap());
    assert!(
        page.contains(&format!(
            "<code>costgate check</code> of the spec with them: <strong>{verdict}</strong>"
        )),
        "{page}"
    );

    // One chart and one table per frontier; in each, the recommended point
    // (and only it) is marked, with its value.
    let frontiers = t["frontiers"].as_array().unwrap();
    assert_eq!(frontiers.len(), 2, "GOOD caps two tiers");
    assert_eq!(
        page.matches("<figure class=\"chart frontier\">").count(),
        frontiers.len()
    );
    assert_eq!(
        page.matches("<table class=\"data nowrap frontier\">").count(),
        frontiers.len()
    );
    assert_eq!(page.matches("<tr class=\"chosen\">").count(), frontiers.len());
    let mut tightened = false;
    for (k, f) in frontiers.iter().enumerate() {
        let chosen = f["chosen"].as_u64().unwrap() as usize;
        let points = f["points"].as_array().unwrap();
        let cap = points[chosen]["cap"].as_f64().unwrap();
        tightened |= cap < f["current"].as_f64().unwrap();
        let fig = figure(&page, k);
        assert_eq!(fig.matches("<circle class=\"chosen\"").count(), 1, "{fig}");
        let rec = format!(
            "recommended {}: {}",
            count(cap),
            usd(points[chosen]["cost_at_confidence"].as_f64().unwrap())
        );
        assert!(fig.contains(&rec), "frontier {k}: {rec} not in\n{fig}");
        // a dot per point, the line through them
        assert_eq!(fig.matches("<circle cx=").count(), points.len(), "{fig}");
        // the policy's limit on the month, dashed
        assert!(fig.contains("class=\"policy-line\""), "{fig}");
        assert!(fig.contains(&format!("at most {}", usd(limit))), "{fig}");
        // the table: every point, the chosen row with the chosen value
        let table_at = page
            .match_indices("<table class=\"data nowrap frontier\">")
            .nth(k)
            .unwrap()
            .0;
        let table = &page[table_at..table_at + page[table_at..].find("</table>").unwrap()];
        assert_eq!(table.matches("<tr").count(), points.len() + 1);
        let row = table
            .split("<tr class=\"chosen\">")
            .nth(1)
            .unwrap()
            .split("</tr>")
            .next()
            .unwrap();
        assert!(
            row.starts_with(&format!("<td class=\"num\">{}</td>", count(cap))),
            "{row}"
        );
        assert!(row.contains("recommended"), "{row}");
    }
    assert!(tightened, "a limit was lowered to meet the policy");

    // The hostile tier name reads as text: no markup, no terminal escape.
    assert!(!page.contains("<script"), "{page}");
    assert!(page.contains("free &lt;script&gt;alert(1)&lt;/script&gt;"), "{page}");
    assert!(
        !page.chars().any(|c| c.is_control() && c != '\n'),
        "a control character"
    );
    assert!(page.contains("\\u{1b}[31mRED"), "the escape shown, inert");
}

#[test]
fn when_nothing_passes_the_page_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("cheap.yaml");
    // The paying tier pays a cent a month: no cap can fix cost/revenue.
    std::fs::write(
        &spec,
        hostile().replace("price_usd_per_month: 20", "price_usd_per_month: 0.01"),
    )
    .unwrap();
    let page_path = tmp.path().join("tune.html");
    let (code, j, err) = tune(tmp.path(), &spec, &["--html", page_path.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.contains("<h2>Nothing in the searched range passes</h2>"), "{page}");
    let why = j["tuning"]["why_not"].as_str().unwrap();
    assert!(why.contains("the price or the model must change"), "{why}");
    assert!(page.contains("the price or the model must change"), "{page}");
    assert!(!page.contains("Recommended limits</h2>"));
    assert_eq!(
        page.matches("<figure class=\"chart frontier\">").count(),
        j["tuning"]["frontiers"].as_array().unwrap().len()
    );
}

#[test]
fn a_failed_run_or_write_leaves_the_previous_page_intact() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = tmp.path().join("good.yaml");
    std::fs::write(&spec, GOOD).unwrap();
    let page_path = tmp.path().join("tune.html");
    let previous = "<!DOCTYPE html><p>the previous page</p>\n";

    // A spec that does not validate: exit 65, nothing written.
    std::fs::write(&page_path, previous).unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, GOOD.replace("daily_tokens: 20000", "daily_tokens: -5")).unwrap();
    let (code, _, err) = tune(tmp.path(), &bad, &["--html", page_path.to_str().unwrap()]);
    assert_eq!(code, 65, "{err}");
    assert_eq!(std::fs::read_to_string(&page_path).unwrap(), previous);

    // A page that cannot be replaced (read-only): exit 73, named, intact.
    let mut perms = std::fs::metadata(&page_path).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&page_path, perms.clone()).unwrap();
    let (code, _, err) = tune(tmp.path(), &spec, &["--html", page_path.to_str().unwrap()]);
    assert_eq!(code, 73, "{err}");
    assert!(err.contains("cannot write") && err.contains("tune.html"), "{err}");
    assert_eq!(std::fs::read_to_string(&page_path).unwrap(), previous);
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&page_path, perms).unwrap();

    // A folder where the page would go is not replaced.
    let folder = tmp.path().join("folder.html");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("keep"), "kept").unwrap();
    let (code, _, err) = tune(tmp.path(), &spec, &["--html", folder.to_str().unwrap()]);
    assert_eq!(code, 73, "{err}");
    assert!(err.contains("is a folder"), "{err}");
    assert_eq!(std::fs::read_to_string(folder.join("keep")).unwrap(), "kept");

    // And a run that succeeds replaces the page whole, leaving no temporary file.
    let (code, _, err) = tune(tmp.path(), &spec, &["--html", page_path.to_str().unwrap()]);
    assert!(code == 0 || code == 1, "{err}");
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.ends_with("</html>\n") && !page.contains("the previous page"));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
