//! Times in logs, to Unix seconds (UTC).
//!
//! - Text with a zone (RFC 3339 / ISO 8601: `2024-05-01T12:00:00.5Z`,
//!   `2024-05-01 12:00:00+02:00`) is that instant.
//! - Text without a zone (`2024-05-01T12:00:00`, the Azure trace's
//!   `2023-11-16 18:17:03.9799600` with 7 fractional digits, a date alone)
//!   is taken as UTC.
//! - A bare number (a JSON number, or text of digits with an optional
//!   fraction) is a Unix time whose unit is told by its size: below 1e11
//!   seconds (1e11 s is the year 5138), below 1e14 milliseconds, below 1e17
//!   microseconds, else nanoseconds. Negative numbers are refused.

/// Seconds since the epoch of a Unix time `v` in an unknown unit (see the
/// module documentation).
pub(crate) fn from_number(v: f64) -> Result<f64, String> {
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{v}` is not a time (a Unix time is a number of at least 0)"));
    }
    Ok(if v < 1e11 {
        v
    } else if v < 1e14 {
        v / 1e3
    } else if v < 1e17 {
        v / 1e6
    } else {
        v / 1e9
    })
}

/// Seconds since the epoch of `s` (see the module documentation).
pub(crate) fn parse(s: &str) -> Result<f64, String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("the time is empty".into());
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && t.bytes().filter(|&b| b == b'.').count() <= 1 {
        let v: f64 = t.parse().map_err(|_| not_a_time(t))?;
        return from_number(v);
    }
    if let Some(v) = fast_civil(t) {
        return Ok(v);
    }
    // after the date (bytes: the text may not be ASCII), a zone's sign
    let after_date = t.as_bytes().get(10..).unwrap_or_default();
    let has_zone =
        t.ends_with('Z') || t.ends_with('z') || t.contains('[') || after_date.iter().any(|&b| b == b'+' || b == b'-');
    if has_zone {
        let ts: jiff::Timestamp = t.parse().map_err(|_| not_a_time(t))?;
        Ok(ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9)
    } else {
        let dt: jiff::civil::DateTime = t.parse().map_err(|_| not_a_time(t))?;
        let ts = jiff::tz::TimeZone::UTC.to_timestamp(dt).map_err(|_| not_a_time(t))?;
        Ok(ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9)
    }
}

fn not_a_time(t: &str) -> String {
    format!("`{t}` is not a time (RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` taken as UTC, or Unix seconds or milliseconds)")
}

/// The common zone-less form `YYYY-MM-DD[T ]HH:MM:SS[.f…]`, without
/// jiff's general parser (millions of rows): `None` when `t` is not
/// exactly that, or is not a valid date.
fn fast_civil(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    let mut frac = 0.0;
    if b.len() > 19 {
        if b[19] != b'.' || b.len() == 20 || b.len() > 29 {
            return None;
        }
        let digits = &b[20..];
        let mut v = 0u64;
        for &c in digits {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u64::from(c - b'0');
        }
        frac = v as f64 / 10f64.powi(digits.len() as i32);
    }
    if !(1..=12).contains(&mo) || d < 1 || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    let days_in = [
        31,
        if leap(y) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if d > days_in[(mo - 1) as usize] {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    Some((days * 86_400 + h * 3600 + mi * 60 + s) as f64 + frac)
}

fn leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jiff_utc(s: &str) -> f64 {
        let dt: jiff::civil::DateTime = s.parse().unwrap();
        let ts = jiff::tz::TimeZone::UTC.to_timestamp(dt).unwrap();
        ts.as_second() as f64 + f64::from(ts.subsec_nanosecond()) / 1e9
    }

    #[test]
    fn zone_less_times_are_utc_and_the_fast_path_agrees_with_jiff() {
        for s in [
            "2023-11-16 18:17:03.9799600",
            "2024-02-29T23:59:59",
            "1999-12-31 00:00:00.5",
            "2100-03-01 12:34:56.123456789",
        ] {
            let fast = fast_civil(s).unwrap();
            assert!((fast - jiff_utc(s)).abs() < 1e-6, "{s}: {fast} vs {}", jiff_utc(s));
            assert_eq!(parse(s).unwrap(), fast);
        }
        // 2023-11-16 18:17:03.97996 UTC
        assert!((parse("2023-11-16 18:17:03.9799600").unwrap() - 1_700_158_623.979_96).abs() < 1e-6);
        // not a date: refused by both paths
        assert!(fast_civil("2023-02-29 00:00:00").is_none());
        assert!(parse("2023-02-29 00:00:00").is_err());
    }

    #[test]
    fn zoned_times_and_unix_numbers() {
        assert_eq!(parse("2024-05-01T12:00:00Z").unwrap(), 1_714_564_800.0);
        assert_eq!(parse("2024-05-01T14:00:00+02:00").unwrap(), 1_714_564_800.0);
        assert_eq!(parse("2024-05-01 12:00:00.250+00:00").unwrap(), 1_714_564_800.25);
        assert_eq!(parse("1714564800").unwrap(), 1_714_564_800.0);
        assert_eq!(parse("1714564800250").unwrap(), 1_714_564_800.25);
        assert_eq!(parse("1714564800.5").unwrap(), 1_714_564_800.5);
        assert_eq!(from_number(1_714_564_800_000_000.0).unwrap(), 1_714_564_800.0);
        assert_eq!(from_number(1_714_564_800_000_000_000.0).unwrap(), 1_714_564_800.0);
        assert!(from_number(-1.0).is_err());
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "12:00",
            "1.2.3",
            "2024-01-0é:00:00+01",
            "ééééééé-é",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
