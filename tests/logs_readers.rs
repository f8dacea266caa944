//! The usage-log readers (`costgate::logs`) on real-shaped fixtures
//! (fixtures/logs/README.md says where each shape comes from), on a real
//! production trace, and on hostile input.

use std::io::Write;
use std::path::{Path, PathBuf};

use costgate::logs::{self, Call, Format, LogError, LogFile, Mapping, id_hash};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/logs").join(name)
}

fn read_all(path: &Path, format: &Format) -> Result<(LogFile, Vec<Call>), LogError> {
    let mut calls = Vec::new();
    let f = logs::read(path, format, &mut |_| {}, &mut |c| calls.push(c.clone()))?;
    Ok((f, calls))
}

fn call(time_s: Option<f64>, input: u64, output: u64) -> Call {
    Call {
        time_s,
        user: None,
        tenant: None,
        interaction: None,
        model: None,
        input_tokens: input,
        output_tokens: output,
        cached_tokens: None,
        spend_usd: None,
    }
}

/// Calls equal, times within a microsecond (text and nanosecond times go
/// through f64 seconds).
fn assert_calls(got: &[Call], want: &[Call]) {
    assert_eq!(got.len(), want.len(), "{got:#?}");
    for (g, w) in got.iter().zip(want) {
        match (g.time_s, w.time_s) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-6, "time {a} vs {b}"),
            (a, b) => assert_eq!(a, b),
        }
        let strip = |c: &Call| Call {
            time_s: None,
            ..c.clone()
        };
        assert_eq!(strip(g), strip(w));
    }
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn map(s: &str) -> Mapping {
    Mapping::parse(s).unwrap()
}

#[test]
fn otlp_genai_spans_become_calls_and_other_spans_are_skipped() {
    let (f, calls) = read_all(&fixture("otlp-genai.jsonl"), &Format::Otlp).unwrap();
    let trace = id_hash("5b8efff798038103d269b633813fc60c");
    let want = vec![
        Call {
            user: Some(id_hash("user-17")),
            interaction: Some(trace),
            model: Some("gpt-4o-2024-08-06".into()),
            cached_tokens: Some(1024),
            ..call(Some(1_793_006_104.123), 1200, 300)
        },
        // the same trace in upper case; the user from the older `enduser.id`;
        // `intValue` as a JSON number
        Call {
            user: Some(id_hash("user-17")),
            interaction: Some(trace),
            model: Some("gpt-4o".into()),
            ..call(Some(1_793_006_107.0), 1650, 120)
        },
        // no trace id: the session is the interaction; the user from the resource;
        // an embedding has no output tokens
        Call {
            user: Some(id_hash("batch-indexer")),
            interaction: Some(id_hash("00112233-4455-6677-8899-aabbccddeeff")),
            model: Some("text-embedding-3-small".into()),
            ..call(Some(1_793_009_700.0), 8000, 0)
        },
    ];
    assert_calls(&calls, &want);
    assert_eq!(
        (f.records, f.bad, f.skipped),
        (3, 0, 2),
        "an HTTP span and an invoke_agent span skipped"
    );
    assert!(!f.gzip);
    let bytes = std::fs::read(fixture("otlp-genai.jsonl")).unwrap();
    assert_eq!(f.sha256, sha256_hex(&bytes));
    assert_eq!(f.bytes, bytes.len() as u64);
    assert!((f.first_time_s.unwrap() - 1_793_006_104.123).abs() < 1e-6);
    assert_eq!(f.last_time_s, Some(1_793_009_700.0));
}

#[test]
fn the_proto_example_pretty_printed_is_read_and_has_no_call() {
    let (f, calls) = read_all(&fixture("otlp-proto-example-trace.json"), &Format::Otlp).unwrap();
    assert!(calls.is_empty());
    assert_eq!((f.records, f.bad, f.skipped), (0, 0, 1));
}

fn litellm_calls() -> Vec<Call> {
    let session = id_hash("0af76519-16cd-43dd-8448-eb211c80319c");
    let team = Some(id_hash("team-support"));
    vec![
        // `end_user` (the customer) is the user when set
        Call {
            user: Some(id_hash("cust-a")),
            tenant: team,
            interaction: Some(session),
            model: Some("gpt-4o".into()),
            cached_tokens: Some(1024),
            spend_usd: Some(0.006),
            ..call(Some(1_793_610_904.123), 1200, 300)
        },
        // no end user: the key's owner; metadata as JSON text
        Call {
            user: Some(id_hash("alice@example.com")),
            tenant: team,
            interaction: Some(session),
            model: Some("claude-sonnet-4-5".into()),
            cached_tokens: Some(500),
            spend_usd: Some(0.00885),
            ..call(Some(1_793_610_909.5), 2000, 150)
        },
        // (the failed request is skipped) a zone-less time is UTC; an empty
        // model falls back to the model group
        Call {
            user: Some(id_hash("cust-b")),
            interaction: Some(id_hash("8c7b6a59-4e3d-4c2b-a190-f0e1d2c3b4a5")),
            model: Some("gpt-4o-mini".into()),
            spend_usd: Some(0.000051),
            ..call(Some(1_793_613_600.0), 180, 40)
        },
    ]
}

#[test]
fn litellm_spend_logs_as_json_read_exactly() {
    let (f, calls) = read_all(&fixture("litellm-spend-logs.json"), &Format::LiteLlm).unwrap();
    assert_calls(&calls, &litellm_calls());
    assert_eq!((f.records, f.bad, f.skipped), (3, 0, 1));
}

#[test]
fn litellm_spend_logs_as_csv_read_the_same_calls() {
    let (f, calls) = read_all(&fixture("litellm-spend-logs.csv"), &Format::LiteLlm).unwrap();
    assert_calls(&calls, &litellm_calls());
    assert_eq!((f.records, f.bad, f.skipped), (3, 0, 1));
}

const ISSUE_MAP: &str = "time=ts,user=customer_id,input=prompt_tokens,output=completion_tokens,cached=cache_read,model=model,session=conversation_id,tenant=org_id,spend=cost";

#[test]
fn a_mapped_csv_reads_every_mapped_column() {
    let (f, calls) = read_all(&fixture("mapped-usage.csv"), &Format::Csv(map(ISSUE_MAP))).unwrap();
    let acme = Some(id_hash("acme"));
    let want = vec![
        Call {
            user: Some(id_hash("c-001")),
            tenant: acme,
            interaction: Some(id_hash("conv-1")),
            model: Some("gpt-4o-mini".into()),
            cached_tokens: Some(0),
            spend_usd: Some(0.0002),
            ..call(Some(1_793_606_400.0), 850, 120)
        },
        Call {
            user: Some(id_hash("c-001")),
            tenant: acme,
            interaction: Some(id_hash("conv-1")),
            model: Some("gpt-4o-mini".into()),
            cached_tokens: Some(768),
            spend_usd: Some(0.00012),
            ..call(Some(1_793_606_405.0), 1020, 95)
        },
        Call {
            user: Some(id_hash("c-002")),
            tenant: Some(id_hash("globex")),
            interaction: Some(id_hash("conv-2")),
            model: Some("claude-haiku-4-5".into()),
            spend_usd: Some(0.005),
            ..call(Some(1_793_611_800.0), 3000, 400)
        },
        // Unix seconds; empty tenant and cost are none
        Call {
            user: Some(id_hash("c-003")),
            interaction: Some(id_hash("conv-3")),
            model: Some("gpt-4o".into()),
            cached_tokens: Some(0),
            ..call(Some(1_793_000_000.0), 500, 60)
        },
    ];
    assert_calls(&calls, &want);
    assert_eq!((f.records, f.bad), (4, 0));
}

#[test]
fn mapped_json_lines_reach_nested_fields() {
    let m = map(
        "time=ts,user=customer_id,tenant=org_id,session=conversation_id,model=model,input=usage.prompt_tokens,output=usage.completion_tokens,cached=usage.cache_read,spend=cost",
    );
    let (f, calls) = read_all(&fixture("mapped-usage.jsonl"), &Format::JsonLines(m)).unwrap();
    let want = vec![
        Call {
            user: Some(id_hash("c-001")),
            tenant: Some(id_hash("acme")),
            interaction: Some(id_hash("conv-1")),
            model: Some("gpt-4o-mini".into()),
            cached_tokens: Some(0),
            spend_usd: Some(0.0002),
            ..call(Some(1_793_606_400.0), 850, 120)
        },
        // Unix milliseconds, a numeric user id, a null tenant, a count as text
        Call {
            user: Some(id_hash("42")),
            interaction: Some(id_hash("conv-3")),
            model: Some("gpt-4o".into()),
            ..call(Some(1_793_000_000.0), 500, 60)
        },
    ];
    assert_calls(&calls, &want);
    assert_eq!((f.records, f.bad), (2, 0));
}

/// The Azure trace summed without the reader: split lines and commas.
fn azure_sums(bytes: &[u8]) -> (u64, u64, u64) {
    let text = std::str::from_utf8(bytes).unwrap();
    let mut n = 0;
    let (mut input, mut output) = (0u64, 0u64);
    for line in text.lines().skip(1) {
        let cols: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
        input += cols[1].parse::<u64>().unwrap();
        output += cols[2].parse::<u64>().unwrap();
        n += 1;
    }
    (n, input, output)
}

#[test]
fn the_azure_production_trace_reads_every_request() {
    let path = fixture("azure-llm-inference-2023-code.csv");
    let bytes = std::fs::read(&path).unwrap();
    let (n, input, output) = azure_sums(&bytes);
    assert_eq!(n, 8819, "the trace's documented request count");
    let m = map("time=TIMESTAMP,input=ContextTokens,output=GeneratedTokens");
    let (mut got_in, mut got_out, mut count) = (0u64, 0u64, 0u64);
    let f = logs::read(&path, &Format::Csv(m), &mut |_| {}, &mut |c| {
        got_in += c.input_tokens;
        got_out += c.output_tokens;
        count += 1;
        assert!(c.user.is_none() && c.model.is_none() && c.time_s.is_some());
    })
    .unwrap();
    assert_eq!((f.records, count, f.bad), (n, n, 0));
    assert_eq!((got_in, got_out), (input, output));
    assert_eq!(f.sha256, sha256_hex(&bytes));
    // 2023-11-16 18:17:03.9799600 and 19:14:19.9280160, UTC (7 fractional digits, no zone)
    assert!((f.first_time_s.unwrap() - 1_700_158_623.979_96).abs() < 1e-5);
    assert!((f.last_time_s.unwrap() - 1_700_162_059.928_016).abs() < 1e-5);
}

#[test]
fn gzip_is_recognised_by_its_magic_bytes_and_hashed_as_stored() {
    let dir = tempfile::tempdir().unwrap();
    let plain = std::fs::read(fixture("azure-llm-inference-2023-code.csv")).unwrap();
    let gz = gzip(&plain);
    // no .gz in the name: the content decides
    let p = write(&dir, "trace.csv", &gz);
    let m = map("time=TIMESTAMP,input=ContextTokens,output=GeneratedTokens");
    let (n, input, _) = azure_sums(&plain);
    let mut sum = 0u64;
    let mut seen = Vec::new();
    let f = logs::read(&p, &Format::Csv(m.clone()), &mut |b| seen.push(b), &mut |c| {
        sum += c.input_tokens
    })
    .unwrap();
    assert!(f.gzip);
    assert_eq!((f.records, sum), (n, input));
    assert_eq!(f.sha256, sha256_hex(&gz), "the hash is of the bytes as stored");
    assert_eq!(f.bytes, gz.len() as u64);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]) && seen.last() == Some(&(gz.len() as u64)));
    // detection looks through gzip
    assert_eq!(logs::detect(&p, &gz[..gz.len().min(logs::SNIFF_BYTES)]), None);
    let otlp_gz = gzip(&std::fs::read(fixture("otlp-genai.jsonl")).unwrap());
    assert_eq!(logs::detect(Path::new("x"), &otlp_gz), Some(Format::Otlp));

    // two gzip members one after the other (`cat a.gz b.gz`) are one stream
    let mut two = gz.clone();
    two.extend_from_slice(&gzip(b"\r\n2023-11-16 20:00:00,5,6\r\n"));
    let p2 = write(&dir, "two.gz", &two);
    let (f2, calls) = read_all(&p2, &Format::Csv(m.clone())).unwrap();
    assert_eq!(f2.records, n + 1);
    assert_eq!(
        (calls.last().unwrap().input_tokens, calls.last().unwrap().output_tokens),
        (5, 6)
    );

    // cut short: refused as unreadable, not read as a shorter log
    let p3 = write(&dir, "cut.gz", &gz[..gz.len() / 2]);
    match read_all(&p3, &Format::Csv(m)) {
        Err(LogError::Unreadable { message, .. }) => assert!(message.contains("gzip"), "{message}"),
        other => panic!("{:?}", other.map(|r| r.0)),
    }
}

#[test]
fn formats_are_detected_from_their_first_bytes() {
    let det = |name: &str| {
        let p = fixture(name);
        logs::detect(&p, &logs::head(&p).unwrap())
    };
    assert_eq!(det("otlp-genai.jsonl"), Some(Format::Otlp));
    assert_eq!(det("otlp-proto-example-trace.json"), Some(Format::Otlp));
    assert_eq!(det("litellm-spend-logs.json"), Some(Format::LiteLlm));
    assert_eq!(det("litellm-spend-logs.csv"), Some(Format::LiteLlm));
    assert_eq!(det("mapped-usage.csv"), None);
    assert_eq!(det("mapped-usage.jsonl"), None);
    assert_eq!(det("azure-llm-inference-2023-code.csv"), None);
    let m = map("input=a,output=b");
    assert_eq!(
        logs::mapped_format(b"  {\"a\":1}", m.clone()),
        Format::JsonLines(m.clone())
    );
    assert_eq!(logs::mapped_format(b"a,b\n1,2\n", m.clone()), Format::Csv(m));
}

#[test]
fn bad_records_are_counted_and_placed_by_line_column_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        &dir,
        "u.csv",
        b"ts,in,out\n\
2026-11-02T08:00:00Z,10,1\n\
2026-11-02T08:00:01Z,abc,2\n\
2026-11-02T08:00:02Z,10,1\n\
2026-11-02T08:00:03Z,10,-4\n\
2026-11-02T08:00:04Z,10\n\
yesterday,10,1\n\
2026-11-02T08:00:05Z,10,1\n\
2026-11-02T08:00:06Z,10,1\n\
2026-11-02T08:00:07Z,10,1\n\
2026-11-02T08:00:08Z,10,1\n",
    );
    let (f, calls) = read_all(&p, &Format::Csv(map("time=ts,input=in,output=out"))).unwrap();
    assert_eq!((f.records, f.bad, calls.len()), (6, 4, 6));
    let placed: Vec<(u64, Option<u64>, &str)> = f
        .first_bad
        .iter()
        .map(|b| (b.line, b.column, b.path.as_str()))
        .collect();
    assert_eq!(
        placed,
        [
            (3, Some(22), "in"),
            (5, Some(25), "out"),
            (6, Some(24), "out"),
            (7, Some(1), "ts")
        ]
    );
    assert!(
        f.first_bad[0].message.contains("`abc` is not a token count"),
        "{:?}",
        f.first_bad[0]
    );
    assert!(
        f.first_bad[2].message.contains("the row has 2 fields"),
        "{:?}",
        f.first_bad[2]
    );
    // as problems: FILE:LINE:COL: `field`: message [code]
    let shown = f.problems()[0].to_string();
    assert!(
        shown.starts_with(&format!("{}:3:22: `in`: `abc` is not a token count", p.display()))
            && shown.ends_with("[invalid-value]"),
        "{shown}"
    );

    // JSON: a broken line, a line that is not an object, placed by line
    let p = write(
        &dir,
        "u.jsonl",
        b"{\"i\":1,\"o\":2}\n{\"i\":1,\"o\"\n[1,2]\n{\"i\":3,\"o\":4}\n{\"i\":5,\"o\":6}\n",
    );
    let (f, calls) = read_all(&p, &Format::JsonLines(map("input=i,output=o"))).unwrap();
    assert_eq!((f.records, f.bad), (3, 2));
    assert_eq!(calls[2].input_tokens, 5);
    assert_eq!((f.first_bad[0].line, f.first_bad[1].line), (2, 3));
    assert!(
        f.first_bad[0].message.contains("not valid JSON"),
        "{:?}",
        f.first_bad[0]
    );
    assert!(
        f.first_bad[1].message.contains("not a JSON object"),
        "{:?}",
        f.first_bad[1]
    );

    // a LiteLLM array with a bad element: placed at the element's line
    let p = write(
        &dir,
        "l.json",
        b"[\n{\"startTime\":\"2026-11-02T08:00:00Z\",\"prompt_tokens\":1,\"completion_tokens\":2},\n{\"startTime\":\"2026-11-02T08:00:00Z\",\"prompt_tokens\":\"x\",\"completion_tokens\":2},\n{\"startTime\":\"2026-11-02T08:00:00Z\",\"prompt_tokens\":3,\"completion_tokens\":4}\n]\n",
    );
    let (f, _) = read_all(&p, &Format::LiteLlm).unwrap();
    assert_eq!((f.records, f.bad), (2, 1));
    assert_eq!(
        (f.first_bad[0].line, f.first_bad[0].path.as_str()),
        (3, "prompt_tokens")
    );

    // an OTLP span with a token count that is not one, and one whose cached
    // tokens exceed its input: bad, with the span's path
    let span = |input: &str, cached: &str| {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"traceId":"ab","attributes":[{{"key":"gen_ai.usage.input_tokens","value":{input}}},{{"key":"gen_ai.usage.output_tokens","value":{{"intValue":"3"}}}}{cached}]}}]}}]}}]}}"#
        )
    };
    let text = [
        span(r#"{"intValue":"10"}"#, ""),
        span(r#"{"intValue":"ten"}"#, ""),
        span(
            r#"{"intValue":"10"}"#,
            r#",{"key":"gen_ai.usage.cache_read.input_tokens","value":{"intValue":"11"}}"#,
        ),
        span(r#"{"intValue":"10"}"#, ""),
        span(r#"{"intValue":"10"}"#, ""),
    ]
    .join("\n");
    let p = write(&dir, "o.jsonl", text.as_bytes());
    let (f, _) = read_all(&p, &Format::Otlp).unwrap();
    assert_eq!((f.records, f.bad), (3, 2));
    assert_eq!(f.first_bad[0].line, 2);
    assert_eq!(
        f.first_bad[0].path,
        "resourceSpans[0].scopeSpans[0].spans[0].gen_ai.usage.input_tokens"
    );
    assert_eq!(f.first_bad[1].line, 3);
    assert!(
        f.first_bad[1].message.contains("input tokens include the cached ones"),
        "{:?}",
        f.first_bad[1]
    );
}

#[test]
fn a_file_that_is_mostly_garbage_is_refused_with_its_problems() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(&dir, "g.csv", b"in,out\n1,2\nx,y\n\x00\x01,z\n");
    match read_all(&p, &Format::Csv(map("input=in,output=out"))) {
        Err(LogError::MostlyBad(f)) => {
            assert_eq!((f.records, f.bad), (1, 2));
            let e = LogError::MostlyBad(f.clone());
            let problems = e.problems();
            assert_eq!(problems.len(), 3);
            assert!(
                problems[0]
                    .to_string()
                    .starts_with(&format!("{}:3:1: `in`:", p.display()))
            );
            let last = problems[2].to_string();
            assert!(last.contains("2 of 3 records are malformed"), "{last}");
            // no raw control character reaches the message
            assert!(!e.to_string().chars().any(|c| c.is_control() && c != '\n'), "{e}");
        }
        other => panic!("{:?}", other.map(|r| r.0)),
    }
    // as many bad as good is still read (the rule is "more bad than good")
    let p = write(&dir, "h.csv", b"in,out\n1,2\nx,y\n");
    let (f, _) = read_all(&p, &Format::Csv(map("input=in,output=out"))).unwrap();
    assert_eq!((f.records, f.bad), (1, 1));
    // a whole file in another format: refused
    let (_, _) = read_all(&fixture("otlp-genai.jsonl"), &Format::Otlp).unwrap();
    assert!(matches!(
        read_all(&fixture("azure-llm-inference-2023-code.csv"), &Format::Otlp),
        Err(LogError::MostlyBad(_))
    ));
}

#[test]
fn a_mapped_column_missing_from_the_header_is_an_error_naming_it() {
    let m = map("time=TIMESTAMP,input=ContextToken,output=GeneratedTokens");
    match read_all(&fixture("azure-llm-inference-2023-code.csv"), &Format::Csv(m)) {
        Err(e @ LogError::Invalid { .. }) => {
            let shown = e.to_string();
            assert!(
                shown.contains(":1:1: `input`:") && shown.contains("`input=ContextToken`"),
                "{shown}"
            );
            assert!(shown.contains("did you mean `ContextTokens`"), "{shown}");
            assert!(shown.ends_with("[missing-field]"), "{shown}");
        }
        other => panic!("{:?}", other.map(|r| r.0)),
    }
}

#[test]
fn hostile_input_is_refused_or_counted_without_panic_or_unbounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let m = map("input=in,output=out,model=model,user=u");
    // a 5 MiB line between good ones: one bad record, not an allocation
    let mut text = b"in,out,model,u\n1,2,m,a\n".to_vec();
    text.extend(std::iter::repeat_n(b'9', logs::MAX_RECORD_BYTES + 1024));
    text.extend_from_slice(b"\n3,4,m,a\n5,6,m,a\n");
    let p = write(&dir, "huge.csv", &text);
    let (f, calls) = read_all(&p, &Format::Csv(m.clone())).unwrap();
    assert_eq!((f.records, f.bad), (3, 1));
    assert_eq!(f.first_bad[0].line, 3);
    assert!(f.first_bad[0].message.contains("more than the"), "{:?}", f.first_bad[0]);
    assert_eq!(calls[1].input_tokens, 3);

    // deep nesting in JSON: a bad record (serde_json's recursion limit), no stack overflow
    let mut deep = b"{\"in\":1,\"out\":1}\n{\"in\":1,\"out\":1}\n".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 500_000));
    deep.extend(std::iter::repeat_n(b']', 500_000));
    deep.extend_from_slice(b"\n{\"in\":2,\"out\":2}\n");
    let p = write(&dir, "deep.jsonl", &deep);
    let (f, _) = read_all(&p, &Format::JsonLines(map("input=in,output=out"))).unwrap();
    assert_eq!((f.records, f.bad), (3, 1));
    // the same inside a LiteLLM array element
    let mut arr =
        b"[{\"prompt_tokens\":1,\"completion_tokens\":2},{\"prompt_tokens\":1,\"completion_tokens\":2},".to_vec();
    arr.extend(std::iter::repeat_n(b'[', 200_000));
    arr.extend_from_slice(b"]]");
    let p = write(&dir, "deep.json", &arr);
    let (f, _) = read_all(&p, &Format::LiteLlm).unwrap();
    // the element, and the missing `]` at the end
    assert_eq!((f.records, f.bad), (2, 2));

    // NUL in an id is an id; NUL, terminal escapes or non-UTF-8 in a number
    // make a bad record whose message is inert
    let p = write(
        &dir,
        "esc.csv",
        b"in,out,model,u\n1,2,\x1b[31mred\x1b[0m,a\x00b\n\x1b]0;pwned\x07,2,m,a\n1,\xff\xfe,m,a\n7,8,m,a\n9,9,m,a\n",
    );
    let (f, calls) = read_all(&p, &Format::Csv(m.clone())).unwrap();
    assert_eq!((f.records, f.bad), (3, 2));
    assert_eq!(calls[0].user, Some(id_hash("a\u{0}b")));
    // the model is kept as the log wrote it (renderers clean it) …
    assert_eq!(calls[0].model.as_deref(), Some("\u{1b}[31mred\u{1b}[0m"));
    // … but nothing from the log reaches a message raw
    for p in f.problems() {
        let s = p.to_string();
        assert!(!s.contains('\u{1b}') && !s.contains('\u{7}'), "{s:?}");
    }
    assert!(
        f.first_bad[0].message.contains("\\u{1b}]0;pwned\\u{7}"),
        "{:?}",
        f.first_bad[0]
    );
    assert!(f.first_bad[1].message.contains("not UTF-8"), "{:?}", f.first_bad[1]);

    // a model name of 300 characters is not a model name
    let long = format!("in,out,model,u\n1,2,{},a\n3,4,m,a\n5,6,m,a\n", "x".repeat(300));
    let p = write(&dir, "model.csv", long.as_bytes());
    let (f, _) = read_all(&p, &Format::Csv(m.clone())).unwrap();
    assert_eq!((f.records, f.bad), (2, 1));

    // non-UTF-8 and escapes inside JSON
    let p = write(
        &dir,
        "bin.jsonl",
        b"{\"in\":1,\"out\":1}\n{\"in\":\"\xff\",\"out\":1}\n{\"in\":1,\"out\":1,\"model\":\"\\u001b[2J\"}\n{\"in\":1,\"out\":1}\n",
    );
    let (f, calls) = read_all(&p, &Format::JsonLines(map("input=in,output=out,model=model"))).unwrap();
    assert_eq!((f.records, f.bad), (3, 1));
    assert_eq!(calls[1].model.as_deref(), Some("\u{1b}[2J"));

    // binary garbage as each format: refused, not a panic
    let garbage: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let p = write(&dir, "garbage.bin", &garbage);
    for format in [
        Format::Otlp,
        Format::LiteLlm,
        Format::Csv(m.clone()),
        Format::JsonLines(m.clone()),
    ] {
        match read_all(&p, &format) {
            Err(LogError::MostlyBad(_)) | Err(LogError::Invalid { .. }) => {}
            Ok((f, _)) => assert_eq!(f.records, 0, "{format:?}"),
            Err(e) => panic!("{format:?}: {e}"),
        }
    }

    // not a regular file
    match read_all(dir.path(), &Format::Otlp) {
        Err(LogError::Unreadable { message, .. }) => assert!(message.contains("not a regular file"), "{message}"),
        other => panic!("{:?}", other.map(|r| r.0)),
    }
    // zstd (the Collector's file exporter can write it): said, not read as garbage
    let p = write(&dir, "spans.jsonl.zst", b"\x28\xb5\x2f\xfd\x04\x58\x00\x00");
    match read_all(&p, &Format::Otlp) {
        Err(LogError::Unreadable { message, .. }) => assert!(message.contains("zstd"), "{message}"),
        other => panic!("{:?}", other.map(|r| r.0)),
    }
    // an empty file is an empty log
    let p = write(&dir, "empty.csv", b"");
    let (f, _) = read_all(&p, &Format::Csv(m)).unwrap();
    assert_eq!((f.records, f.bad), (0, 0));
}

#[test]
fn a_large_file_streams_each_record_once_and_keeps_no_per_record_state() {
    let dir = tempfile::tempdir().unwrap();
    let n: u64 = 200_000;
    let mut text = String::from("ts,user,in,out\n");
    for i in 0..n {
        // every third row is malformed after the first half: counted, not kept
        if i >= n / 2 && i % 3 == 0 {
            text.push_str("bad,row,x,y\n");
        } else {
            text.push_str(&format!("{},{},{},{}\n", 1_790_000_000 + i, i % 977, i, i % 7));
        }
    }
    let p = write(&dir, "big.csv", text.as_bytes());
    let m = map("time=ts,user=user,input=in,output=out");
    let (mut seen, mut sum, mut last) = (0u64, 0u64, None::<u64>);
    let f = logs::read(&p, &Format::Csv(m), &mut |_| {}, &mut |c| {
        // file order, each once
        assert!(last.is_none_or(|l| c.input_tokens > l));
        last = Some(c.input_tokens);
        seen += 1;
        sum += c.input_tokens;
    })
    .unwrap();
    let bad = (n / 2..n).filter(|i| i % 3 == 0).count() as u64;
    let want_sum: u64 = (0..n).filter(|i| !(*i >= n / 2 && i % 3 == 0)).sum();
    assert_eq!((f.records, seen, f.bad), (n - bad, n - bad, bad));
    assert_eq!(sum, want_sum);
    // what the reader keeps is counters and the first few bad records, whatever the size
    assert_eq!(f.first_bad.len(), logs::MAX_BAD_KEPT);
    let first_bad = (n / 2..n).find(|i| i % 3 == 0).unwrap();
    assert_eq!(
        f.first_bad[0].line,
        first_bad + 2,
        "the header is line 1, row i is line i + 2"
    );
    let last_good = (0..n).rev().find(|i| !(*i >= n / 2 && i % 3 == 0)).unwrap();
    assert_eq!(f.first_time_s, Some(1_790_000_000.0));
    assert_eq!(f.last_time_s, Some((1_790_000_000 + last_good) as f64));
}
