//! Terminal text fitted to a width: table cells wrapped at their spaces
//! (and after a hyphen or slash before a letter, as in `gpt-4.1-|nano`),
//! columns split into blocks that repeat the first column when even wrapped
//! cells do not fit, and prose wrapped at spaces. A number is never split:
//! no break falls inside one (`$1,234`, `0.5%`, `4.1`).

/// The narrowest width output is laid out for: a narrower terminal gets
/// this (lines wider than it), not a layout that breaks words apart.
pub const MIN_WIDTH: usize = 80;

/// The columns of `s` a terminal shows: its characters, less ANSI styling
/// (`ESC [ ... m`).
pub(crate) fn visible_len(s: &str) -> usize {
    let mut n = 0;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            n += 1;
        }
    }
    n
}

/// `s` cut into the pieces a cell may wrap between: each piece ends at a
/// space (kept, as its last character) or after a `-` or `/` that follows a
/// letter or digit and comes before a letter.
fn pieces(s: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut out = Vec::new();
    let mut start = 0;
    for (k, &(i, c)) in chars.iter().enumerate() {
        let end = i + c.len_utf8();
        let soft = (c == '-' || c == '/')
            && k > 0
            && chars[k - 1].1.is_alphanumeric()
            && chars.get(k + 1).is_some_and(|(_, n)| n.is_alphabetic());
        if c == ' ' || soft {
            out.push(&s[start..end]);
            start = end;
        }
    }
    if start < s.len() {
        out.push(&s[start..]);
    }
    out
}

/// The widest piece of `s` with its trailing space dropped: the narrowest
/// a column holding `s` can be.
pub(crate) fn min_width(s: &str) -> usize {
    pieces(s)
        .iter()
        .map(|p| p.trim_end_matches(' ').chars().count())
        .max()
        .unwrap_or(0)
}

/// `s` wrapped into lines of at most `width` characters, breaking only
/// between pieces; a piece wider than `width` stands alone on its line.
pub(crate) fn wrap_cell(s: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for p in pieces(s) {
        let candidate = format!("{cur}{p}");
        if cur.is_empty() || candidate.trim_end_matches(' ').chars().count() <= width {
            cur = candidate;
        } else {
            lines.push(cur.trim_end_matches(' ').to_string());
            cur = p.to_string();
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur.trim_end_matches(' ').to_string());
    }
    lines
}

/// The width `s` takes wrapped at `width`.
fn wrapped_width(s: &str, width: usize) -> usize {
    wrap_cell(s, width).iter().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Column widths for `head` and `rows` within `avail` characters (gaps of
/// `gap` between columns): the natural widths when they fit; else wider
/// columns narrowed, headings wrapped first, then cells, each no narrower
/// than its widest piece. `None` when even that does not fit.
pub(crate) fn widths(
    head: &[String],
    rows: &[Vec<String>],
    cols: &[usize],
    avail: usize,
    gap: usize,
) -> Option<Vec<usize>> {
    let cell = |r: &[String], i: usize| r.get(i).map_or("", String::as_str).to_string();
    let all = |i: usize| std::iter::once(cell(head, i)).chain(rows.iter().map(move |r| cell(r, i)));
    let natural: Vec<usize> = cols
        .iter()
        .map(|&i| all(i).map(|c| c.chars().count()).max().unwrap_or(0))
        .collect();
    let floor: Vec<usize> = cols
        .iter()
        .map(|&i| all(i).map(|c| min_width(&c)).max().unwrap_or(0))
        .collect();
    let data: Vec<usize> = cols
        .iter()
        .map(|&i| rows.iter().map(|r| cell(r, i).chars().count()).max().unwrap_or(0))
        .collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + gap * w.len().saturating_sub(1);
    if total(&floor) > avail {
        return None;
    }
    let mut w = natural;
    // first the headings wrap (no column below its widest cell), then the cells
    for phase in 0..2 {
        while total(&w) > avail {
            let lowest = |k: usize| if phase == 0 { floor[k].max(data[k]) } else { floor[k] };
            let Some(k) = (0..w.len())
                .filter(|&k| w[k] > lowest(k))
                .max_by_key(|&k| (w[k], std::cmp::Reverse(k)))
            else {
                break;
            };
            let target = w[k] - 1;
            w[k] = all(cols[k])
                .map(|c| wrapped_width(&c, target))
                .max()
                .unwrap_or(0)
                .max(lowest(k));
        }
    }
    Some(w)
}

/// The columns in blocks that each fit `avail` with their widths: every
/// block after the first repeats column 0. One block of every column when
/// it fits (or when nothing narrower would).
pub(crate) fn blocks(head: &[String], rows: &[Vec<String>], avail: usize, gap: usize) -> Vec<(Vec<usize>, Vec<usize>)> {
    let n = head.len();
    let all: Vec<usize> = (0..n).collect();
    if let Some(w) = widths(head, rows, &all, avail, gap) {
        return vec![(all, w)];
    }
    let mut out = Vec::new();
    let mut cols = vec![0];
    for i in 1..n {
        let mut with = cols.clone();
        with.push(i);
        if cols.len() > 1 && widths(head, rows, &with, avail, gap).is_none() {
            let w = widths(head, rows, &cols, avail, gap).expect("fitted before");
            out.push((std::mem::replace(&mut cols, vec![0, i]), w));
        } else {
            cols = with;
        }
    }
    // the last block, or a column too wide for any block: as narrow as it goes
    let w = widths(head, rows, &cols, avail, gap).unwrap_or_else(|| {
        cols.iter()
            .map(|&i| {
                std::iter::once(&head[i])
                    .chain(rows.iter().filter_map(|r| r.get(i)))
                    .map(|c| min_width(c))
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    });
    out.push((cols, w));
    out
}

/// `text` with every line wider than `width` wrapped at its spaces; the
/// lines it continues are indented two more than it (ANSI styling is not
/// counted). A word wider than the room stands alone on its line.
pub(crate) fn wrap_prose(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if visible_len(body) <= width {
            out.push_str(line);
            continue;
        }
        let indent = body.len() - body.trim_start_matches(' ').len();
        let cont = " ".repeat((indent + 2).min(width / 2));
        let mut cur = body[..indent].to_string();
        let mut cur_len = indent;
        let mut fresh = true;
        for word in body[indent..].split(' ') {
            let wl = visible_len(word);
            if !fresh && cur_len + 1 + wl > width {
                out.push_str(&cur);
                out.push('\n');
                cur = cont.clone();
                cur_len = cont.len();
                fresh = true;
            }
            if !fresh {
                cur.push(' ');
                cur_len += 1;
            }
            cur.push_str(word);
            cur_len += wl;
            fresh = false;
        }
        out.push_str(&cur);
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn cells_wrap_at_spaces_and_before_letters_never_inside_a_number() {
        assert_eq!(wrap_cell("bad month at 95%", 9), s(&["bad month", "at 95%"]));
        assert_eq!(wrap_cell("$6,360 (p95)", 7), s(&["$6,360", "(p95)"]));
        assert_eq!(wrap_cell("gpt-4.1-nano", 9), s(&["gpt-4.1-", "nano"]));
        assert_eq!(wrap_cell("claude-sonnet-4-5", 12), s(&["claude-", "sonnet-4-5"]));
        // no break inside a number, a negative sign or a range
        assert_eq!(min_width("-$1,234.50"), 10);
        assert_eq!(min_width("0.5% -> 2.5%"), 4);
        assert_eq!(min_width("x-4"), 3);
        // a piece wider than the column stands alone, whole
        assert_eq!(wrap_cell("$1,234,567 a", 3), s(&["$1,234,567", "a"]));
        assert_eq!(wrap_cell("", 5), s(&[""]));
    }

    #[test]
    fn headings_wrap_before_cells_and_columns_split_into_blocks_last() {
        let head = s(&["tier", "per interaction", "cost p95"]);
        let rows = vec![s(&["enterprise", "$0.0011", "$2,841 (p95)"])];
        // natural: 10 + 15 + 12 + 2 gaps of 2 = 41
        assert_eq!(widths(&head, &rows, &[0, 1, 2], 41, 2), Some(vec![10, 15, 12]));
        // 37: "per interaction" wraps to "interaction" (11); the cells stay whole
        assert_eq!(widths(&head, &rows, &[0, 1, 2], 37, 2), Some(vec![10, 11, 12]));
        // 35: the cell "$2,841 (p95)" wraps too, as "$2,841" / "(p95)"
        assert_eq!(widths(&head, &rows, &[0, 1, 2], 35, 2), Some(vec![10, 11, 8]));
        // 32: and the heading "cost p95"; no column narrower than its widest piece
        assert_eq!(widths(&head, &rows, &[0, 1, 2], 32, 2), Some(vec![10, 11, 6]));
        assert_eq!(widths(&head, &rows, &[0, 1, 2], 30, 2), None);
        let b = blocks(&head, &rows, 30, 2);
        assert_eq!(
            b.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
            vec![vec![0, 1], vec![0, 2]]
        );
    }

    #[test]
    fn prose_wraps_at_spaces_with_a_hanging_indent() {
        let t = "  one two three four five\nshort\n";
        assert_eq!(wrap_prose(t, 14), "  one two\n    three four\n    five\nshort\n");
        // styling is not counted
        assert_eq!(wrap_prose("\x1b[2mab cd\x1b[0m\n", 5), "\x1b[2mab cd\x1b[0m\n");
        // a word longer than the line is kept whole
        assert_eq!(wrap_prose("  $1,234,567,890 x\n", 8), "  $1,234,567,890\n    x\n");
    }
}
