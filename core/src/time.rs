//! Reading the date and time formats JIRA and its exports use into exact UTC instants.
//!
//! JIRA's REST API writes `2013-07-03T00:16:13.737+0000`: an offset without a colon, which
//! RFC 3339 parsers refuse. Offsets are applied exactly, so two records with different
//! daylight-saving offsets compare correctly.
//!
//! JIRA's CSV export writes dates in the instance's display format with no zone, such as
//! `16/Feb/17 3:29 PM`; [`parse_export_datetime`] reads those (and the forms spreadsheets
//! turn them into) as UTC, because the file does not say which zone the exporting user
//! had set.
//!
//! A date that reads but lies outside [`PLAUSIBLE_RANGE`] (a `9999-12-31` placeholder, a
//! `0001-01-01` default) is refused by the readers through [`check_plausible`]: one such
//! date would otherwise become a report's `as_of` and distort every age and trend.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

use crate::model::Timestamp;

/// The accepted span of issue dates, as the readers' errors quote it: from the first
/// instant of 1970 up to, not including, the first instant of 2100 (UTC).
pub const PLAUSIBLE_RANGE: &str = "1970-01-01T00:00:00Z up to 2100-01-01T00:00:00Z";

/// 1970-01-01T00:00:00Z: no issue tracker holds an issue older than the Unix epoch.
const EARLIEST_PLAUSIBLE_MILLIS: i64 = 0;

/// 2100-01-01T00:00:00Z: later dates are placeholders, not events.
const END_OF_PLAUSIBLE_MILLIS: i64 = 4_102_444_800_000;

/// Returns `at` when it lies within [`PLAUSIBLE_RANGE`], else the reason it was refused,
/// quoting `text` (the date as the input wrote it); readers add the file, position, issue
/// and field.
///
/// ```
/// use bugdash::time::{check_plausible, parse_timestamp};
/// let sentinel = parse_timestamp("9999-12-31").unwrap();
/// assert!(check_plausible(sentinel, "9999-12-31").is_err());
/// let real = parse_timestamp("2013-07-03T00:16:13.737+0000").unwrap();
/// assert_eq!(check_plausible(real, "2013-07-03"), Ok(real));
/// ```
pub fn check_plausible(at: Timestamp, text: &str) -> Result<Timestamp, String> {
    if (EARLIEST_PLAUSIBLE_MILLIS..END_OF_PLAUSIBLE_MILLIS).contains(&at.millis()) {
        return Ok(at);
    }
    Err(format!(
        "the date {text:?} ({at}) lies outside the accepted range {PLAUSIBLE_RANGE}; such a \
         date is a placeholder, and would distort every age and trend"
    ))
}

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

/// Parses a date as JIRA's CSV export and spreadsheets re-saving it write them, taken as
/// UTC because the export carries no zone. Accepted forms:
///
/// - `16/Feb/17 3:29 PM`, `16/Feb/2017 3:29 PM`, `16/Feb/17 15:29`, `16/Feb/17` (JIRA's
///   default display formats; month names are English and case-insensitive);
/// - `16/02/2017 15:26` (day first, as spreadsheets in most locales re-save them);
/// - `2017-02-16 15:29`, `2017-02-16 15:29:07`;
/// - everything [`parse_timestamp`] reads, with its offset applied.
///
/// Two-digit years are 2000–2069 for `00`–`69` and 1970–1999 otherwise. Seconds are
/// optional everywhere. Returns `None` for anything else.
pub fn parse_export_datetime(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Some(ts) = parse_timestamp(text) {
        return Some(ts);
    }
    let (date_part, time_part) = match text.split_once(' ') {
        Some((date, time)) => (date, time.trim_start()),
        None => (text, ""),
    };
    let date = parse_export_date(date_part)?;
    let time = if time_part.is_empty() { (0, 0, 0) } else { parse_clock(time_part)? };
    Some(from_naive_utc(date.and_hms_opt(time.0, time.1, time.2)?))
}

/// Reads `16/Feb/17`, `16/Feb/2017`, `16/02/2017` or `2017-02-16`.
fn parse_export_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.split(['/', '-']);
    let (first, second, third) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    if first.len() == 4 && text.contains('-') {
        return NaiveDate::from_ymd_opt(
            digits(first.as_bytes())? as i32,
            number(second)?,
            number(third)?,
        );
    }
    let month = month_from_name(second).or_else(|| number(second))?;
    let year = match third.len() {
        2 => match digits(third.as_bytes())? as i32 {
            short @ 0..=69 => 2000 + short,
            short => 1900 + short,
        },
        4 => digits(third.as_bytes())? as i32,
        _ => return None,
    };
    NaiveDate::from_ymd_opt(year, month, number(first)?)
}

/// Reads `3:29 PM`, `15:29` or `15:29:07` into hours, minutes and seconds.
fn parse_clock(text: &str) -> Option<(u32, u32, u32)> {
    let (clock, meridiem) = match text.rsplit_once(' ') {
        Some((clock, marker)) => (clock.trim_end(), Some(marker.to_ascii_uppercase())),
        None => (text, None),
    };
    let mut parts = clock.split(':');
    let hour = number(parts.next()?)?;
    let minute = parts.next().and_then(number).filter(|m| *m < 60)?;
    let second = parts.next().map_or(Some(0), number).filter(|s| *s < 60)?;
    if parts.next().is_some() {
        return None;
    }
    let hour = match meridiem.as_deref() {
        None if hour < 24 => hour,
        Some("AM") if (1..=12).contains(&hour) => hour % 12,
        Some("PM") if (1..=12).contains(&hour) => hour % 12 + 12,
        _ => return None,
    };
    Some((hour, minute, second))
}

/// A month from its English name or three-letter abbreviation, any case.
fn month_from_name(text: &str) -> Option<u32> {
    const MONTHS: [&str; 12] =
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    let lower = text.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let month = MONTHS.iter().position(|m| *m == prefix)?;
    let full_names_fit = lower.len() == 3 || FULL_MONTHS[month] == lower || lower == "sept";
    full_names_fit.then_some(month as u32 + 1)
}

const FULL_MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// One or two decimal digits (a day, month, hour, minute or second).
fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 2 {
        return None;
    }
    digits(text.as_bytes())
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

    #[test]
    fn plausible_range_ends_are_exact() {
        let check = |text: &str| parse_timestamp(text).map(|at| check_plausible(at, text).is_ok());
        assert_eq!(check("1970-01-01T00:00:00.000+0000"), Some(true));
        assert_eq!(check("1970-01-01T00:00:00.000+0100"), Some(false));
        assert_eq!(check("2099-12-31T23:59:59.999Z"), Some(true));
        assert_eq!(check("2100-01-01T00:00:00.000Z"), Some(false));
        assert_eq!(check("0001-01-01"), Some(false));
    }

    fn export(text: &str) -> String {
        parse_export_datetime(text).map(|t| t.to_string()).unwrap_or_default()
    }

    #[test]
    fn jira_export_display_formats_are_read_as_utc() {
        assert_eq!(export("16/Feb/17 3:29 PM"), "2017-02-16T15:29:00.000Z");
        assert_eq!(export("16/Feb/17 12:05 AM"), "2017-02-16T00:05:00.000Z");
        assert_eq!(export("16/Feb/17 12:05 PM"), "2017-02-16T12:05:00.000Z");
        assert_eq!(export("16/feb/2017 3:29 pm"), "2017-02-16T15:29:00.000Z");
        assert_eq!(export("16/Feb/2017 15:29"), "2017-02-16T15:29:00.000Z");
        assert_eq!(export("01/Sep/99 08:00"), "1999-09-01T08:00:00.000Z");
        assert_eq!(export("16/Feb/17"), "2017-02-16T00:00:00.000Z");
    }

    #[test]
    fn spreadsheet_and_iso_forms_of_export_dates_are_read() {
        assert_eq!(export("16/02/2017 15:26"), "2017-02-16T15:26:00.000Z");
        assert_eq!(export("2017-02-16 15:29"), "2017-02-16T15:29:00.000Z");
        assert_eq!(export("2017-02-16 15:29:07"), "2017-02-16T15:29:07.000Z");
        assert_eq!(export("2011-07-19T21:32:09.000+0000"), "2011-07-19T21:32:09.000Z");
        assert_eq!(export("2020-06-12T08:13:13.360+0800"), "2020-06-12T00:13:13.360Z");
    }

    #[test]
    fn unreadable_export_dates_are_refused() {
        for text in ["29:10.8", "16/Foo/17 3:29 PM", "30/Feb/17 3:29 PM", "16/Feb/17 13:29 PM"] {
            assert_eq!(parse_export_datetime(text), None, "{text}");
        }
        for text in ["16/Feb/17 3:61 PM", "16/Feb/017 3:29 PM", "16/Feb/17 3", "", "PM"] {
            assert_eq!(parse_export_datetime(text), None, "{text}");
        }
        assert_eq!(parse_export_datetime("32/01/2017 10:00"), None);
    }
}
