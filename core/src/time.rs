//! Reading the date and time formats JIRA and its exports use into exact UTC instants.
//!
//! JIRA's REST API writes `2013-07-03T00:16:13.737+0000`: an offset without a colon, which
//! RFC 3339 parsers refuse. Offsets are applied exactly, so two records with different
//! daylight-saving offsets compare correctly.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use crate::model::Timestamp;

/// Parses a JIRA REST timestamp (`2013-07-03T00:16:13.737+0000`, `+13:00`, `Z`, with or
/// without fractional seconds) or a plain date (`2024-01-31`, read as midnight UTC).
///
/// Returns `None` for anything else; callers name the field and the file in their error.
pub fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Some(ts) = parse_rest(text.as_bytes()) {
        return Some(ts);
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(from_naive_utc(date.and_hms_opt(0, 0, 0)?));
    }
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|dt| Timestamp::from_millis(dt.timestamp_millis()))
}

/// Midnight UTC of a naive date-time taken as UTC.
pub fn from_naive_utc(naive: NaiveDateTime) -> Timestamp {
    Timestamp::from_millis(naive.and_utc().timestamp_millis())
}

/// A naive local date-time read in a fixed offset (seconds east of UTC).
pub fn from_naive_with_offset(naive: NaiveDateTime, offset_seconds: i32) -> Option<Timestamp> {
    let offset = FixedOffset::east_opt(offset_seconds)?;
    let local = offset.from_local_datetime(&naive).single()?;
    Some(Timestamp::from_millis(local.timestamp_millis()))
}

/// Fast path for `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HHMM|±HH:MM]`, without allocation.
fn parse_rest(b: &[u8]) -> Option<Timestamp> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])? as i32;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let mut rest = &b[19..];
    let mut millis = 0u32;
    if let Some((&b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Keep millisecond precision; further digits are truncated.
        let mut scaled = 0u32;
        for i in 0..3 {
            scaled = scaled * 10 + frac.get(i).filter(|_| i < len).map_or(0, |c| (c - b'0') as u32);
        }
        millis = scaled;
        rest = &frac[len..];
    }
    let offset_seconds = parse_offset(rest)?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let naive = date.and_hms_milli_opt(hour, minute, second, millis)?;
    from_naive_with_offset(naive, offset_seconds)
}

/// Reads `Z`, `±HHMM`, `±HH:MM`, `±HH` or nothing (UTC) into seconds east of UTC.
fn parse_offset(b: &[u8]) -> Option<i32> {
    match b {
        [] | [b'Z'] | [b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                _ => return None,
            };
            if hours > 18 || minutes > 59 {
                return None;
            }
            let seconds = (hours * 3600 + minutes * 60) as i32;
            Some(if *sign == b'-' { -seconds } else { seconds })
        }
        _ => None,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> String {
        parse_timestamp(text).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn offset_without_colon_is_applied_exactly() {
        assert_eq!(at("2013-07-03T00:16:13.737+0000"), "2013-07-03T00:16:13.737Z");
        assert_eq!(at("2016-01-06T12:00:00.000+1300"), "2016-01-05T23:00:00.000Z");
        assert_eq!(at("2021-03-01T10:00:00.000-0800"), "2021-03-01T18:00:00.000Z");
        assert_eq!(at("2021-04-01T10:00:00.000-0700"), "2021-04-01T17:00:00.000Z");
    }

    #[test]
    fn colon_offsets_zulu_and_plain_dates_are_read() {
        assert_eq!(at("2020-02-29T23:59:59+02:00"), "2020-02-29T21:59:59.000Z");
        assert_eq!(at("2020-02-29T23:59:59Z"), "2020-02-29T23:59:59.000Z");
        assert_eq!(at("2024-01-31"), "2024-01-31T00:00:00.000Z");
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(parse_timestamp("2019-02-30T00:00:00.000+0000"), None);
        assert_eq!(parse_timestamp("2019-01-01T00:00:00.000+2500"), None);
        assert_eq!(parse_timestamp("not a date"), None);
        assert_eq!(parse_timestamp(""), None);
    }
}
