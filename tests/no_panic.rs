//! Bad input never panics: every example spec, mangled at random (bytes
//! changed, lines dropped or repeated, numbers replaced with extremes), goes
//! through loading, pricing and the deterministic economics; the result is
//! either a model or a list of problems.

use proptest::prelude::*;

fn examples() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().to_string(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[derive(Clone, Debug)]
enum Edit {
    Byte(usize, u8),
    DropLine(usize),
    RepeatLine(usize),
    Number(usize, &'static str),
}

fn edits() -> impl Strategy<Value = Vec<Edit>> {
    let extreme = prop_oneof![
        Just("0"),
        Just("-1"),
        Just("1e308"),
        Just("-1e308"),
        Just(".nan"),
        Just(".inf"),
        Just("nan"),
        Just("inf"),
        Just("18446744073709551616"),
        Just("0.0000001"),
        Just("{}"),
        Just("[]"),
        Just("\"\""),
        Just("~"),
    ];
    proptest::collection::vec(
        prop_oneof![
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
            any::<usize>().prop_map(Edit::DropLine),
            any::<usize>().prop_map(Edit::RepeatLine),
            (any::<usize>(), extreme).prop_map(|(i, x)| Edit::Number(i, x)),
        ],
        1..6,
    )
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        match e {
            Edit::Byte(i, b) => {
                let mut bytes = lines.join("\n").into_bytes();
                let n = bytes.len();
                bytes[i % n] = *b;
                lines = String::from_utf8_lossy(&bytes).lines().map(String::from).collect();
            }
            Edit::DropLine(i) => {
                let n = lines.len();
                lines.remove(i % n);
            }
            Edit::RepeatLine(i) => {
                let n = lines.len();
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::Number(i, x) => {
                // replace the i-th number in the text
                let joined = lines.join("\n");
                let spans: Vec<(usize, usize)> = joined
                    .char_indices()
                    .filter(|(_, c)| c.is_ascii_digit())
                    .map(|(k, _)| k)
                    .fold(Vec::new(), |mut acc: Vec<(usize, usize)>, k| {
                        match acc.last_mut() {
                            Some(last) if last.1 == k => last.1 = k + 1,
                            _ => acc.push((k, k + 1)),
                        }
                        acc
                    });
                if spans.is_empty() {
                    continue;
                }
                let (a, b) = spans[i % spans.len()];
                let out = format!("{}{}{}", &joined[..a], x, &joined[b..]);
                lines = out.lines().map(String::from).collect();
            }
        }
    }
    lines.join("\n") + "\n"
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mangled_specs_load_or_fail_cleanly(which in 0usize..4, e in edits()) {
        let ex = examples();
        let (name, text) = &ex[which % ex.len()];
        let mangled = apply(text, &e);
        match costgate::spec::load_str(name, &mangled) {
            Err(problems) => {
                prop_assert!(!problems.is_empty());
                for p in problems {
                    prop_assert!(!p.message.is_empty());
                }
            }
            Ok(spec) => {
                if let Ok(priced) = costgate::pricing::resolve(&spec, &costgate::pricing::builtin()) {
                    let m = costgate::economics::Model::new(&spec, &priced, 0.999);
                    let _ = costgate::economics::unit_costs(&m);
                    let w = costgate::economics::worst_case(&m);
                    let t = costgate::sim::typical(&m);
                    prop_assert!(t.cost.is_finite() && t.cost >= 0.0, "typical cost {}", t.cost);
                    if let Some(x) = w.monthly_usd {
                        prop_assert!(x.is_finite() || x == f64::INFINITY);
                    }
                }
            }
        }
    }
}
