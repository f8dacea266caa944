//! The numbers a text shows, for tests that fit output to a width: every
//! number must still be there, whole, after wrapping.

use std::collections::BTreeMap;

/// Every number in `s` (`$1,234`, `-$5`, `0.5%`, `4.1`), with its count.
pub fn numbers(s: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    let c: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < c.len() {
        if c[i].is_ascii_digit() && (i == 0 || !(c[i - 1].is_ascii_digit() || c[i - 1] == ',' || c[i - 1] == '.')) {
            let mut start = i;
            if start > 0 && c[start - 1] == '$' {
                start -= 1;
            }
            if start > 0 && (c[start - 1] == '-' || c[start - 1] == '+') {
                start -= 1;
            }
            let mut j = i;
            while j < c.len()
                && (c[j].is_ascii_digit()
                    || ((c[j] == ',' || c[j] == '.') && c.get(j + 1).is_some_and(|d| d.is_ascii_digit())))
            {
                j += 1;
            }
            if c.get(j) == Some(&'%') {
                j += 1;
            }
            *out.entry(c[start..j].iter().collect()).or_insert(0) += 1;
            i = j;
        } else {
            i += 1;
        }
    }
    out
}
