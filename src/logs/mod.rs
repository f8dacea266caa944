//! Usage logs: streaming readers for the records `costgate calibrate` and
//! `costgate check --observed` fit and compare (OpenTelemetry GenAI spans as
//! OTLP/JSON, LiteLLM spend logs as JSON or CSV, any CSV or JSON Lines with a
//! column mapping; gzip accepted).
//!
//! A reader turns each record into a [`Call`] and hands it to a sink, one at
//! a time: nothing here holds more than one record, so memory does not grow
//! with the file. Identifiers (users, tenants, traces, sessions) are kept as
//! 64-bit hashes ([`id_hash`]), never as the strings the log carries.
//!
//! The formats, the fields each one reads and the rules (which id is the
//! user, how times are read, when a file is refused) are documented in
//! `docs/logs.md`.
//!
//! - [`read`] streams one file: a record longer than [`MAX_RECORD_BYTES`]
//!   (an OTLP line: [`MAX_OTLP_LINE_BYTES`]) is a bad record, not an
//!   allocation; a malformed record is counted and reported by line
//!   ([`BadRecord`]), never dropped silently; a file with more bad records
//!   than good ones is refused ([`LogError::MostlyBad`], exit 65).
//! - [`detect`] tells the self-describing formats (OTLP/JSON, LiteLLM) apart
//!   from the first bytes; any other CSV or JSON Lines needs a [`Mapping`].

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::source::{Loc, Problem, ProblemCode, Span};
use crate::untrusted::clean;

mod litellm;
mod mapped;
mod otlp;
mod scan;
mod time;

pub use mapped::Mapping;

/// The longest record (a CSV row, a JSON Lines line, an element of a JSON
/// array) read, in bytes: a longer one is a bad record, skipped without
/// being held in memory.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

/// The longest line of an OTLP/JSON file, in bytes: one line is one export
/// request, a batch of spans (the Collector's batch processor sends 8,192
/// spans a batch by default), so the bound is larger than a row's.
pub const MAX_OTLP_LINE_BYTES: usize = 64 << 20;

/// How many bad records a [`LogFile`] keeps to show (all are counted).
pub const MAX_BAD_KEPT: usize = 20;

/// One model call read from a log.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// When the call started, in seconds since the Unix epoch (UTC); `None`
    /// when the record has no time.
    pub time_s: Option<f64>,
    /// The user (hashed with [`id_hash`]), if the record names one.
    pub user: Option<u64>,
    /// The tenant (organisation, team; hashed), if the record names one.
    pub tenant: Option<u64>,
    /// The interaction this call belongs to (trace id, else session or
    /// conversation id; hashed), if the record has one.
    pub interaction: Option<u64>,
    /// The model, as the log names it (the response model before the
    /// request model), if the record names one.
    pub model: Option<String>,
    /// Input tokens, cached ones included (the OpenTelemetry convention).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Of the input tokens, those read from the cache, if the record says.
    pub cached_tokens: Option<u64>,
    /// What the log itself recorded the call cost, in USD (LiteLLM's
    /// `spend`), if it did.
    pub spend_usd: Option<f64>,
}

/// The 64-bit hash an identifier from a log is kept as: FNV-1a, fixed, so
/// the same id hashes the same on every run and machine.
pub fn id_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A log format.
#[derive(Clone, Debug, PartialEq)]
pub enum Format {
    /// OpenTelemetry GenAI spans as OTLP/JSON (the Collector's file exporter:
    /// one `ExportTraceServiceRequest` JSON object a line).
    Otlp,
    /// LiteLLM proxy spend logs (`LiteLLM_SpendLogs` rows): a JSON array (the
    /// `/spend/logs` answer), JSON Lines of rows, or CSV with the table's
    /// column names.
    LiteLlm,
    /// Any CSV with a header row, read through a column mapping.
    Csv(Mapping),
    /// Any JSON Lines (or JSON array of objects), read through a mapping.
    JsonLines(Mapping),
}

impl Format {
    /// The format's name as messages say it.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Otlp => "OTLP/JSON",
            Format::LiteLlm => "LiteLLM spend logs",
            Format::Csv(_) => "CSV",
            Format::JsonLines(_) => "JSON Lines",
        }
    }
}

/// How many leading bytes [`detect`] and [`mapped_format`] look at (after
/// decompression when the file is gzip).
pub const SNIFF_BYTES: usize = 64 << 10;

/// The leading bytes of `head` as text to sniff: decompressed when `head`
/// starts with the gzip magic, without a UTF-8 byte order mark.
fn sniffable(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut d = flate2::read::MultiGzDecoder::new(head);
        let mut buf = [0u8; 8192];
        // A truncated head ends the stream early: keep what came out.
        while out.len() < SNIFF_BYTES {
            match d.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    } else {
        out.extend_from_slice(&head[..head.len().min(SNIFF_BYTES)]);
    }
    if out.starts_with(b"\xef\xbb\xbf") {
        out.drain(..3);
    }
    out
}

/// The self-describing format of a file from its first bytes (`head`, gzip
/// or not; [`SNIFF_BYTES`] are enough): OTLP/JSON when the first JSON value
/// has `"resourceSpans"`, LiteLLM when the first JSON row (of an array or
/// of JSON Lines) or the CSV header has `startTime`, `prompt_tokens` and
/// `completion_tokens`. `None` for anything else: a generic CSV or JSON
/// Lines file needs a [`Mapping`] ([`mapped_format`]). The path is not
/// used to decide (an extension says nothing reliable about the content);
/// it is taken so a later rule can.
pub fn detect(_path: &Path, head: &[u8]) -> Option<Format> {
    let text = sniffable(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let body = &text[start..];
    let has = |needle: &[u8]| body.windows(needle.len()).any(|w| w == needle);
    match body[0] {
        b'{' | b'[' => {
            if body[0] == b'{' && has(b"\"resourceSpans\"") {
                Some(Format::Otlp)
            } else if has(b"\"startTime\"") && has(b"\"prompt_tokens\"") && has(b"\"completion_tokens\"") {
                Some(Format::LiteLlm)
            } else {
                None
            }
        }
        _ => {
            let line_end = body.iter().position(|&b| b == b'\n').unwrap_or(body.len());
            let header = String::from_utf8_lossy(&body[..line_end]);
            let names = scan::split_csv_line(header.trim_end_matches('\r'));
            let has_col = |c: &str| names.iter().any(|n| n == c);
            if has_col("startTime") && has_col("prompt_tokens") && has_col("completion_tokens") {
                Some(Format::LiteLlm)
            } else {
                None
            }
        }
    }
}

/// The format to read a file with through `mapping`: JSON Lines when its
/// first non-blank byte (after decompression) opens a JSON object or array,
/// CSV otherwise.
pub fn mapped_format(head: &[u8], mapping: Mapping) -> Format {
    let text = sniffable(head);
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | Some(b'[') => Format::JsonLines(mapping),
        _ => Format::Csv(mapping),
    }
}

/// The first [`SNIFF_BYTES`] of the regular file at `path` (for [`detect`]).
pub fn head(path: &Path) -> Result<Vec<u8>, LogError> {
    let f = open_regular(path)?;
    let mut out = Vec::new();
    (&f).take(SNIFF_BYTES as u64)
        .read_to_end(&mut out)
        .map_err(|e| LogError::unreadable(path, format!("cannot read the file: {}", crate::fsutil::plain(&e))))?;
    Ok(out)
}

/// A record that could not be read as a call, and where.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BadRecord {
    /// 1-based line where the record (or the problem in it) is.
    pub line: u64,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// The field at fault (`prompt_tokens`, a CSV column's name,
    /// `resourceSpans[0].scopeSpans[0].spans[3].gen_ai.usage.input_tokens`),
    /// empty for the record as a whole. Names from the log are made inert.
    pub path: String,
    /// What is wrong (input it quotes is made inert).
    pub message: String,
    /// The kind of problem, as input problems are coded elsewhere.
    #[serde(serialize_with = "code_str")]
    pub code: ProblemCode,
}

fn code_str<S: serde::Serializer>(c: &ProblemCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.as_str())
}

impl BadRecord {
    pub(crate) fn new(
        line: u64,
        column: Option<u64>,
        path: &str,
        message: impl Into<String>,
        code: ProblemCode,
    ) -> Self {
        BadRecord {
            line,
            column,
            path: clean(path).into_owned(),
            message: crate::untrusted::clean_message(&message.into()),
            code,
        }
    }

    fn problem(&self, file: &std::sync::Arc<str>) -> Problem {
        Problem {
            code: self.code,
            span: Span::new(
                file,
                Loc::new(
                    u32::try_from(self.line).unwrap_or(u32::MAX),
                    u32::try_from(self.column.unwrap_or(1)).unwrap_or(u32::MAX),
                ),
                self.path.clone(),
            ),
            message: self.message.clone(),
            hint: None,
        }
    }
}

/// What reading one log file found.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LogFile {
    /// The file as named.
    pub path: String,
    /// SHA-256 (lowercase hex) of the file's bytes as stored (compressed,
    /// when the file is gzip).
    pub sha256: String,
    /// Bytes read from the file as stored.
    pub bytes: u64,
    /// Calls read (each handed to the sink once).
    pub records: u64,
    /// Malformed records (not calls; see [`LogFile::first_bad`]).
    pub bad: u64,
    /// Records that are well-formed but not model calls, left out on
    /// purpose: OTLP spans without token usage (HTTP, database, agent and
    /// tool spans), LiteLLM rows of failed requests.
    pub skipped: u64,
    /// The first [`MAX_BAD_KEPT`] bad records, in file order.
    pub first_bad: Vec<BadRecord>,
    /// The earliest call time (Unix seconds, UTC) among the calls that have one.
    pub first_time_s: Option<f64>,
    /// The latest call time.
    pub last_time_s: Option<f64>,
    /// Whether the file was gzip-compressed.
    pub gzip: bool,
}

impl LogFile {
    fn new(path: &Path) -> Self {
        LogFile {
            path: path.display().to_string(),
            sha256: String::new(),
            bytes: 0,
            records: 0,
            bad: 0,
            skipped: 0,
            first_bad: Vec::new(),
            first_time_s: None,
            last_time_s: None,
            gzip: false,
        }
    }

    /// The bad records kept, as input problems (file, line, column, field).
    pub fn problems(&self) -> Vec<Problem> {
        let file: std::sync::Arc<str> = self.path.as_str().into();
        self.first_bad.iter().map(|b| b.problem(&file)).collect()
    }
}

/// Counts what a reader finds and hands calls to the sink.
pub(crate) struct Tally<'s> {
    pub(crate) file: LogFile,
    sink: &'s mut dyn FnMut(&Call),
}

impl Tally<'_> {
    pub(crate) fn call(&mut self, c: &Call) {
        self.file.records += 1;
        if let Some(t) = c.time_s {
            self.file.first_time_s = Some(self.file.first_time_s.map_or(t, |f| f.min(t)));
            self.file.last_time_s = Some(self.file.last_time_s.map_or(t, |l| l.max(t)));
        }
        (self.sink)(c);
    }

    pub(crate) fn bad(&mut self, b: BadRecord) {
        self.file.bad += 1;
        if self.file.first_bad.len() < MAX_BAD_KEPT {
            self.file.first_bad.push(b);
        }
    }

    pub(crate) fn skipped(&mut self) {
        self.file.skipped += 1;
    }
}

/// Why a log file could not be read.
#[derive(Clone, Debug, PartialEq)]
pub enum LogError {
    /// The file cannot be read: missing, not a regular file, an I/O error,
    /// corrupt gzip data.
    Unreadable {
        /// The file as named.
        path: String,
        /// Why, in plain words.
        message: String,
    },
    /// The file's structure is wrong as a whole: a CSV header without a
    /// mapped column, a header that is not text.
    Invalid {
        /// The file as named.
        path: String,
        /// 1-based line.
        line: u64,
        /// 1-based column.
        column: u64,
        /// The field (a mapping key, a column).
        field: String,
        /// What is wrong (quotes input; made inert when shown).
        message: String,
        /// The kind of problem.
        code: ProblemCode,
    },
    /// More records are malformed than read: the file is not in the format
    /// it was read as (or is mostly garbage), and nothing fitted from it
    /// could be trusted.
    MostlyBad(Box<LogFile>),
}

impl LogError {
    pub(crate) fn unreadable(path: &Path, message: impl Into<String>) -> Self {
        LogError::Unreadable {
            path: path.display().to_string(),
            message: message.into(),
        }
    }

    /// The error as input problems (exit 65), `FILE:LINE:COL: `field`: message [code]`.
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            LogError::Unreadable { path, message } => vec![Problem {
                code: ProblemCode::Unreadable,
                span: Span::new(&path.as_str().into(), Loc::UNKNOWN, ""),
                message: message.clone(),
                hint: None,
            }],
            LogError::Invalid {
                path,
                line,
                column,
                field,
                message,
                code,
            } => {
                vec![BadRecord::new(*line, Some(*column), field, message.clone(), *code).problem(&path.as_str().into())]
            }
            LogError::MostlyBad(f) => {
                let mut v = f.problems();
                v.push(Problem {
                    code: ProblemCode::Syntax,
                    span: Span::new(&f.path.as_str().into(), Loc::UNKNOWN, ""),
                    message: format!(
                        "{} of {} records are malformed (more than the {} read): the file is not read{}",
                        f.bad,
                        f.bad + f.records,
                        f.records,
                        if f.bad as usize > f.first_bad.len() {
                            format!("; the first {} are listed", f.first_bad.len())
                        } else {
                            String::new()
                        }
                    ),
                    hint: Some(
                        "check the format (`--map` for a CSV or JSON Lines file) and that the file is a usage log"
                            .into(),
                    ),
                });
                v
            }
        }
    }
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ps = self.problems();
        for (i, p) in ps.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LogError {}

/// Open `path` for reading if it is a regular file (never blocking on a FIFO).
fn open_regular(path: &Path) -> Result<std::fs::File, LogError> {
    crate::fsutil::open_regular(path).map_err(|m| LogError::unreadable(path, m))
}

/// The file as stored, hashed and counted as it is read.
struct Tap<'p> {
    file: std::fs::File,
    hasher: sha2::Sha256,
    bytes: u64,
    progress: &'p mut dyn FnMut(u64),
}

impl Read for Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use sha2::Digest;
        let n = self.file.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        (self.progress)(self.bytes);
        Ok(n)
    }
}

const BUF_BYTES: usize = 256 << 10;

/// The decoded stream a reader parses.
enum Source<'p> {
    Plain(BufReader<Tap<'p>>),
    Gzip(Box<BufReader<flate2::read::MultiGzDecoder<BufReader<Tap<'p>>>>>),
}

impl Read for Source<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Gzip(r) => r.read(buf),
        }
    }
}

impl BufRead for Source<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Plain(r) => r.fill_buf(),
            Source::Gzip(r) => r.fill_buf(),
        }
    }
    fn consume(&mut self, n: usize) {
        match self {
            Source::Plain(r) => r.consume(n),
            Source::Gzip(r) => r.consume(n),
        }
    }
}

impl Source<'_> {
    /// Read what is left of the stored file (for its hash), and give the
    /// hash and the byte count.
    fn finish(self) -> io::Result<(String, u64)> {
        use sha2::Digest;
        let mut tap = match self {
            Source::Plain(r) => r.into_inner(),
            Source::Gzip(r) => r.into_inner().into_inner().into_inner(),
        };
        io::copy(&mut tap, &mut io::sink())?;
        let hex = tap.hasher.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok((hex, tap.bytes))
    }
}

/// Read the log at `path` as `format`, streaming: each call is handed to
/// `sink` once, in file order, and forgotten; `progress` is told the number
/// of bytes read from the file (as stored) after every read. Gzip input is
/// recognised by its magic bytes whatever the file's name.
///
/// Malformed records are counted and the first [`MAX_BAD_KEPT`] kept in
/// the result; when they outnumber the calls read the file is refused with
/// [`LogError::MostlyBad`] (the sink has then seen the calls that were
/// read: a caller aggregating several files must drop what it got from
/// this one, or stop).
pub fn read(
    path: &Path,
    format: &Format,
    progress: &mut dyn FnMut(u64),
    sink: &mut dyn FnMut(&Call),
) -> Result<LogFile, LogError> {
    let file = open_regular(path)?;
    let tap = Tap {
        file,
        hasher: <sha2::Sha256 as sha2::Digest>::new(),
        bytes: 0,
        progress,
    };
    let mut raw = BufReader::with_capacity(BUF_BYTES, tap);
    let io_error = |e: &io::Error, gzip: bool| {
        let what = crate::fsutil::plain(e);
        if gzip
            && matches!(
                e.kind(),
                io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::UnexpectedEof
            )
        {
            LogError::unreadable(path, format!("the gzip data is corrupt or cut short: {what}"))
        } else {
            LogError::unreadable(path, format!("cannot read the file: {what}"))
        }
    };
    let head = raw.fill_buf().map_err(|e| io_error(&e, false))?;
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        // the Collector's file exporter can write zstd (`compression: zstd`)
        return Err(LogError::unreadable(
            path,
            "the file is zstd-compressed, which costgate does not read; decompress it first (`zstd -d`) or write gzip",
        ));
    }
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let mut src = if gzip {
        Source::Gzip(Box::new(BufReader::with_capacity(
            BUF_BYTES,
            flate2::read::MultiGzDecoder::new(raw),
        )))
    } else {
        Source::Plain(raw)
    };
    let mut tally = Tally {
        file: LogFile::new(path),
        sink,
    };
    tally.file.gzip = gzip;
    let parsed = match format {
        Format::Otlp => otlp::read(&mut src, &mut tally),
        Format::LiteLlm => litellm::read(&mut src, &mut tally, path),
        Format::Csv(m) => mapped::read_csv(&mut src, &mut tally, m, path),
        Format::JsonLines(m) => mapped::read_json(&mut src, &mut tally, m),
    };
    match parsed {
        Ok(()) => {}
        Err(ReadError::Io(e)) => return Err(io_error(&e, gzip)),
        Err(ReadError::Log(e)) => return Err(e),
    }
    let (sha, bytes) = src.finish().map_err(|e| io_error(&e, false))?;
    let mut file = tally.file;
    file.sha256 = sha;
    file.bytes = bytes;
    if file.bad > file.records {
        return Err(LogError::MostlyBad(Box::new(file)));
    }
    Ok(file)
}

/// Why a reader stopped.
pub(crate) enum ReadError {
    Io(io::Error),
    Log(LogError),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

impl From<LogError> for ReadError {
    fn from(e: LogError) -> Self {
        ReadError::Log(e)
    }
}
