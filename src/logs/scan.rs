//! Splitting a stream into records without holding more than one: CSV rows
//! (RFC 4180 quoting, a quoted field may span lines) and JSON values (JSON
//! Lines, the elements of a top-level array, or concatenated values),
//! each with the line and column it starts at. A record longer than the
//! bound is scanned to its end without being kept.

use std::io::{self, BufRead};

/// One record's bytes (in the splitter's buffer) and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct At {
    /// 1-based line of the record's first byte.
    pub line: u64,
    /// 1-based column (characters) of the record's first byte.
    pub column: u64,
    /// The record was longer than the bound: its bytes were not kept.
    pub too_long: bool,
    /// How many bytes the record had (counted even when not kept).
    pub len: u64,
}

/// The line and column of byte `offset` of a record that starts at `at`.
pub(crate) fn loc_in(buf: &[u8], offset: usize, at: At) -> (u64, u64) {
    let before = &buf[..offset.min(buf.len())];
    let newlines = before.iter().filter(|&&b| b == b'\n').count() as u64;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let chars = before[line_start..].iter().filter(|&&b| b & 0xC0 != 0x80).count() as u64;
    if newlines == 0 {
        (at.line, at.column + chars)
    } else {
        (at.line + newlines, chars + 1)
    }
}

/// CSV rows, one at a time.
pub(crate) struct CsvSplitter {
    pub buf: Vec<u8>,
    max: usize,
    line: u64,
    first: bool,
}

impl CsvSplitter {
    pub(crate) fn new(max: usize) -> Self {
        CsvSplitter {
            buf: Vec::with_capacity(4096),
            max,
            line: 1,
            first: true,
        }
    }

    /// The next row (its bytes in `self.buf`, without the line break), or
    /// `None` at the end. Blank lines are skipped.
    pub(crate) fn next(&mut self, r: &mut dyn BufRead) -> io::Result<Option<At>> {
        loop {
            self.buf.clear();
            let at_line = self.line;
            let mut in_quotes = false;
            let mut len: u64 = 0;
            let mut too_long = false;
            let mut ended = false;
            let mut any = false;
            loop {
                let chunk = r.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                any = true;
                let mut i = 0;
                let mut end = None;
                while let Some(k) = memchr::memchr2(b'"', b'\n', &chunk[i..]) {
                    i += k;
                    if chunk[i] == b'"' {
                        in_quotes = !in_quotes;
                    } else if in_quotes {
                        self.line += 1;
                    } else {
                        end = Some(i);
                        break;
                    }
                    i += 1;
                }
                let take = end.unwrap_or(chunk.len());
                len += take as u64;
                if !too_long {
                    if self.buf.len() + take > self.max {
                        too_long = true;
                        self.buf.clear();
                    } else {
                        self.buf.extend_from_slice(&chunk[..take]);
                    }
                }
                if end.is_some() {
                    r.consume(take + 1);
                    self.line += 1;
                    ended = true;
                    break;
                }
                r.consume(take);
            }
            if !any && !ended && len == 0 {
                return Ok(None);
            }
            if self.buf.last() == Some(&b'\r') {
                self.buf.pop();
            }
            if self.first {
                self.first = false;
                if self.buf.starts_with(b"\xef\xbb\xbf") {
                    self.buf.drain(..3);
                }
            }
            if !too_long && self.buf.iter().all(|b| b.is_ascii_whitespace()) {
                if ended {
                    continue;
                }
                return Ok(None);
            }
            return Ok(Some(At {
                line: at_line,
                column: 1,
                too_long,
                len,
            }));
        }
    }
}

/// The fields of one CSV row: RFC 4180 (`"` quotes a field, `""` is a
/// quote inside one); text after a closing quote is kept as is.
pub(crate) struct Fields {
    /// Unquoted field bytes, one after another.
    pub data: Vec<u8>,
    /// Each field's range in `data`, and its byte offset in the row.
    pub spans: Vec<(usize, usize, usize)>,
}

impl Fields {
    pub(crate) fn new() -> Self {
        Fields {
            data: Vec::with_capacity(256),
            spans: Vec::with_capacity(16),
        }
    }

    /// Split `row` into fields (replacing the previous row's).
    pub(crate) fn split(&mut self, row: &[u8]) {
        self.data.clear();
        self.spans.clear();
        let mut i = 0;
        loop {
            let start_in_row = i;
            let start = self.data.len();
            if i < row.len() && row[i] == b'"' {
                i += 1;
                loop {
                    if i >= row.len() {
                        break;
                    }
                    if row[i] == b'"' {
                        if i + 1 < row.len() && row[i + 1] == b'"' {
                            self.data.push(b'"');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    self.data.push(row[i]);
                    i += 1;
                }
                // text after the closing quote, up to the separator
                while i < row.len() && row[i] != b',' {
                    self.data.push(row[i]);
                    i += 1;
                }
            } else {
                let end = memchr::memchr(b',', &row[i..]).map_or(row.len(), |p| i + p);
                self.data.extend_from_slice(&row[i..end]);
                i = end;
            }
            self.spans.push((start, self.data.len(), start_in_row));
            if i >= row.len() {
                break;
            }
            i += 1; // the comma
        }
    }

    /// Field `k`'s bytes.
    pub(crate) fn get(&self, k: usize) -> Option<&[u8]> {
        self.spans.get(k).map(|&(a, b, _)| &self.data[a..b])
    }

    /// Field `k`'s byte offset in the row.
    pub(crate) fn offset(&self, k: usize) -> usize {
        self.spans.get(k).map_or(0, |s| s.2)
    }

    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }
}

/// A CSV header line's names (for sniffing).
pub(crate) fn split_csv_line(line: &str) -> Vec<String> {
    let mut f = Fields::new();
    f.split(line.as_bytes());
    (0..f.len())
        .map(|k| String::from_utf8_lossy(f.get(k).unwrap_or_default()).trim().to_string())
        .collect()
}

/// How the JSON stream is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Not known yet (before the first value).
    Unknown,
    /// One value a line (JSON Lines).
    Lines,
    /// Values laid out over several lines, one after another.
    Concatenated,
    /// Inside a top-level array: each element is a record.
    Array,
    /// After the top-level array's `]`.
    AfterArray,
}

/// What the JSON splitter gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A record (its bytes in the buffer).
    Record(At),
    /// Something that is not a record where one was expected: an empty
    /// array element, text after the array, a missing `]`.
    Stray(At, &'static str),
}

/// JSON records, one at a time: the lines of a JSON Lines file, the
/// elements of a top-level array, or values written over several lines one
/// after another (when the first value does not end on its first line).
pub(crate) struct JsonSplitter {
    pub buf: Vec<u8>,
    max: usize,
    line: u64,
    column: u64,
    layout: Layout,
    first: bool,
}

/// Bytes seen of the record being read.
struct Taken {
    len: u64,
    too_long: bool,
}

impl JsonSplitter {
    pub(crate) fn new(max: usize) -> Self {
        JsonSplitter {
            buf: Vec::with_capacity(4096),
            max,
            line: 1,
            column: 1,
            layout: Layout::Unknown,
            first: true,
        }
    }

    /// Advance the position over `b`.
    #[inline]
    fn step(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if b & 0xC0 != 0x80 {
            self.column += 1;
        }
    }

    #[inline]
    fn push(&mut self, b: u8, t: &mut Taken) {
        t.len += 1;
        if !t.too_long {
            if self.buf.len() >= self.max {
                t.too_long = true;
                self.buf = Vec::with_capacity(4096);
            } else {
                self.buf.push(b);
            }
        }
    }

    fn here(&self) -> At {
        At {
            line: self.line,
            column: self.column,
            too_long: false,
            len: 0,
        }
    }

    /// Skip whitespace (and a leading byte order mark); the next byte, not consumed.
    fn skip_ws(&mut self, r: &mut dyn BufRead) -> io::Result<Option<u8>> {
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                return Ok(None);
            }
            if self.first {
                self.first = false;
                if chunk.starts_with(b"\xef\xbb\xbf") {
                    r.consume(3);
                    continue;
                }
            }
            let mut used = 0;
            let mut found = None;
            for &b in chunk {
                if b.is_ascii_whitespace() {
                    used += 1;
                    self.step(b);
                } else {
                    found = Some(b);
                    break;
                }
            }
            r.consume(used);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// The next record or stray piece, or `None` at the end.
    pub(crate) fn next(&mut self, r: &mut dyn BufRead) -> io::Result<Option<Piece>> {
        loop {
            self.buf.clear();
            let Some(b) = self.skip_ws(r)? else {
                if self.layout == Layout::Array {
                    self.layout = Layout::AfterArray;
                    return Ok(Some(Piece::Stray(
                        self.here(),
                        "the file ends inside the top-level array (no closing `]`)",
                    )));
                }
                return Ok(None);
            };
            let mut at = self.here();
            let t = match self.layout {
                Layout::Unknown if b == b'[' => {
                    r.consume(1);
                    self.step(b);
                    self.layout = Layout::Array;
                    continue;
                }
                Layout::Unknown => {
                    let (t, one_line) = self.read_value(r)?;
                    self.layout = if one_line { Layout::Lines } else { Layout::Concatenated };
                    t
                }
                Layout::Lines => self.read_line(r)?,
                Layout::Concatenated => self.read_value(r)?.0,
                Layout::Array if b == b']' => {
                    r.consume(1);
                    self.step(b);
                    self.layout = Layout::AfterArray;
                    continue;
                }
                Layout::Array if b == b',' => {
                    r.consume(1);
                    self.step(b);
                    return Ok(Some(Piece::Stray(
                        at,
                        "an empty array element (two commas, or a comma before `]`)",
                    )));
                }
                Layout::Array => self.read_element(r)?,
                Layout::AfterArray => {
                    loop {
                        let n = r.fill_buf()?.len();
                        if n == 0 {
                            break;
                        }
                        r.consume(n);
                    }
                    return Ok(Some(Piece::Stray(at, "text after the top-level array's closing `]`")));
                }
            };
            at.too_long = t.too_long;
            at.len = t.len;
            return Ok(Some(Piece::Record(at)));
        }
    }

    /// Read one line (the record is its text, without the break).
    fn read_line(&mut self, r: &mut dyn BufRead) -> io::Result<Taken> {
        let mut t = Taken {
            len: 0,
            too_long: false,
        };
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let end = memchr::memchr(b'\n', chunk);
            let take = end.unwrap_or(chunk.len());
            t.len += take as u64;
            if !t.too_long {
                if self.buf.len() + take > self.max {
                    t.too_long = true;
                    self.buf = Vec::with_capacity(4096);
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            if end.is_some() {
                r.consume(take + 1);
                self.line += 1;
                self.column = 1;
                break;
            }
            r.consume(take);
        }
        while self.buf.last().is_some_and(|b| b.is_ascii_whitespace()) {
            self.buf.pop();
        }
        Ok(t)
    }

    /// Read one value by its brackets and strings (a bare scalar ends at
    /// whitespace); whether it ended on the line it started on.
    fn read_value(&mut self, r: &mut dyn BufRead) -> io::Result<(Taken, bool)> {
        let mut t = Taken {
            len: 0,
            too_long: false,
        };
        let mut depth: u64 = 0;
        let mut in_string = false;
        let mut escape = false;
        let mut newline = false;
        let mut started = false;
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let mut used = 0;
            let mut done = false;
            for &b in chunk {
                if started && depth == 0 && !in_string && b.is_ascii_whitespace() {
                    done = true;
                    break;
                }
                used += 1;
                self.step(b);
                self.push(b, &mut t);
                started = true;
                if b == b'\n' {
                    newline = true;
                }
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            done = true;
                            break;
                        }
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        if depth <= 1 {
                            done = true;
                            break;
                        }
                        depth -= 1;
                    }
                    _ => {}
                }
            }
            r.consume(used);
            if done {
                break;
            }
        }
        Ok((t, !newline))
    }

    /// Read one element of the top-level array: up to the `,` after it
    /// (consumed) or the array's `]` (left).
    fn read_element(&mut self, r: &mut dyn BufRead) -> io::Result<Taken> {
        let mut t = Taken {
            len: 0,
            too_long: false,
        };
        let mut depth: u64 = 0;
        let mut in_string = false;
        let mut escape = false;
        loop {
            let chunk = r.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            let mut used = 0;
            let mut done = false;
            for &b in chunk {
                if !in_string && depth == 0 && (b == b',' || b == b']') {
                    if b == b',' {
                        used += 1;
                        self.step(b);
                    }
                    done = true;
                    break;
                }
                used += 1;
                self.step(b);
                self.push(b, &mut t);
                if in_string {
                    if escape {
                        escape = false;
                    } else if b == b'\\' {
                        escape = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                    continue;
                }
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            r.consume(used);
            if done {
                break;
            }
        }
        while self.buf.last().is_some_and(|b| b.is_ascii_whitespace()) {
            self.buf.pop();
        }
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_pieces(text: &str, max: usize) -> Vec<(Piece, String)> {
        let mut r = std::io::BufReader::with_capacity(7, text.as_bytes());
        let mut s = JsonSplitter::new(max);
        let mut out = Vec::new();
        while let Some(p) = s.next(&mut r).unwrap() {
            out.push((p, String::from_utf8_lossy(&s.buf).into_owned()));
        }
        out
    }

    fn at(line: u64, column: u64, len: u64) -> At {
        At {
            line,
            column,
            too_long: false,
            len,
        }
    }

    #[test]
    fn json_lines_split_by_line_with_positions() {
        let p = json_pieces("{\"a\":1}\n\n  {\"b\":\"x,]}\"}\n{broken\n{\"c\":3}", 1000);
        assert_eq!(p.len(), 4);
        assert_eq!(p[0], (Piece::Record(at(1, 1, 7)), "{\"a\":1}".into()));
        assert_eq!(p[1].1, "{\"b\":\"x,]}\"}");
        assert_eq!(p[1].0, Piece::Record(at(3, 3, 12)));
        assert_eq!(p[2], (Piece::Record(at(4, 1, 7)), "{broken".into()));
        assert_eq!(p[3], (Piece::Record(at(5, 1, 7)), "{\"c\":3}".into()));
    }

    #[test]
    fn array_elements_split_by_depth_and_strings() {
        let p = json_pieces(
            "[\n {\"a\": [1, 2]},\n {\"b\": \"],\\\"\"},\n 3,,\n {\"c\":1}\n]\n",
            1000,
        );
        let recs: Vec<&str> = p.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(recs, ["{\"a\": [1, 2]}", "{\"b\": \"],\\\"\"}", "3", "", "{\"c\":1}"]);
        assert_eq!(p[0].0, Piece::Record(at(2, 2, 13)));
        assert_eq!(p[1].0, Piece::Record(at(3, 2, 13)));
        assert!(matches!(p[3].0, Piece::Stray(a, _) if a.line == 4 && a.column == 4));
        assert_eq!(p[4].0, Piece::Record(at(5, 2, 8)));
    }

    #[test]
    fn a_missing_closing_bracket_and_trailing_text_are_stray() {
        let p = json_pieces("[{\"a\":1}", 1000);
        assert_eq!(p.len(), 2);
        assert!(matches!(p[1].0, Piece::Stray(_, m) if m.contains("no closing")));
        let p = json_pieces("[{\"a\":1}] x", 1000);
        assert!(matches!(p[1].0, Piece::Stray(a, m) if m.contains("after") && a.column == 11));
    }

    #[test]
    fn pretty_printed_values_follow_one_another() {
        let p = json_pieces("{\n \"a\": {\"b\": 1}\n}\n{\n \"c\": 2\n}\n", 1000);
        assert_eq!(p.len(), 2);
        assert_eq!(p[1].0, Piece::Record(at(4, 1, 11)));
    }

    #[test]
    fn long_records_are_measured_not_kept() {
        let long = format!("{{\"a\":\"{}\"}}\n{{\"b\":1}}\n", "x".repeat(100));
        let p = json_pieces(&long, 50);
        assert!(matches!(p[0].0, Piece::Record(a) if a.too_long && a.len == 108));
        assert!(p[0].1.is_empty());
        assert_eq!(p[1].1, "{\"b\":1}");
        let arr = format!("[{{\"a\":\"{}\"}}, {{\"b\":1}}]", "x".repeat(100));
        let p = json_pieces(&arr, 50);
        assert!(matches!(p[0].0, Piece::Record(a) if a.too_long));
        assert_eq!(p[1].1, "{\"b\":1}");
    }

    #[test]
    fn csv_rows_keep_quoted_line_breaks_and_skip_blank_lines() {
        let text = "a,b\r\n1,\"x\ny\"\r\n\r\n2,\"q\"\"q\"\n3,4";
        let mut r = std::io::BufReader::with_capacity(5, text.as_bytes());
        let mut s = CsvSplitter::new(1000);
        let mut rows = Vec::new();
        while let Some(at) = s.next(&mut r).unwrap() {
            let mut f = Fields::new();
            f.split(&s.buf);
            let fields: Vec<String> = (0..f.len())
                .map(|k| String::from_utf8_lossy(f.get(k).unwrap()).into_owned())
                .collect();
            rows.push((at.line, fields));
        }
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".to_string(), "b".into()]),
                (2, vec!["1".into(), "x\ny".into()]),
                (5, vec!["2".into(), "q\"q".into()]),
                (6, vec!["3".into(), "4".into()]),
            ]
        );
    }

    #[test]
    fn positions_inside_a_record() {
        let a = at(10, 5, 0);
        assert_eq!(loc_in(b"ab\xc3\xa9cd", 4, a), (10, 8));
        assert_eq!(loc_in(b"ab\ncd", 4, a), (11, 2));
    }
}
