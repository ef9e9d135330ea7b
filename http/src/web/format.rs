//! Numbers, instants and links as the pages write them: counts with thousands separators,
//! instants both as "3 hours ago" and exactly in UTC, and query strings percent-encoded.

use bugdash::model::Timestamp;

/// `12,345`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `x` with `places` decimals; a dash for a value that is not a number.
pub fn decimal(x: f64, places: usize) -> String {
    if x.is_finite() {
        format!("{x:.places$}")
    } else {
        "–".to_owned()
    }
}

/// A share from 0 to 1 as a whole percentage, `37%`.
pub fn percent(share: f64) -> String {
    if share.is_finite() {
        format!("{:.0}%", share * 100.0)
    } else {
        "–".to_owned()
    }
}

/// `2019-05-20 14:03 UTC`.
pub fn exact(at: Timestamp) -> String {
    at.to_datetime().format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2019-05-20` (UTC).
pub fn day(at: Timestamp) -> String {
    at.date().to_string()
}

/// How long before `now` the instant `at` was, in the largest unit that fits: `just now`,
/// `5 minutes ago`, `3 hours ago`, `12 days ago`, `4 months ago`, `2 years ago`.
pub fn ago(at: Timestamp, now: Timestamp) -> String {
    let seconds = (now.millis() - at.millis()) / 1000;
    if seconds < 0 {
        // A clock a little ahead of ours; anything further is said as it is.
        return if seconds > -60 {
            "just now".to_owned()
        } else {
            format!("{} from now", span(-seconds))
        };
    }
    if seconds < 60 {
        return "just now".to_owned();
    }
    format!("{} ago", span(seconds))
}

fn span(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    let (n, unit) = match seconds {
        s if s < HOUR => (s / MINUTE, "minute"),
        s if s < DAY => (s / HOUR, "hour"),
        s if s < 60 * DAY => (s / DAY, "day"),
        s if s < 730 * DAY => (s * 12 / (365 * DAY), "month"),
        s => (s / (365 * DAY), "year"),
    };
    let n = n.max(1);
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {unit}{plural}")
}

/// Percent-encodes `text` for a query string or a path segment: everything but letters,
/// digits and `-._~`.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `a=1&b=x%20y` from name/value pairs.
pub fn query(pairs: &[(String, String)]) -> String {
    let encoded: Vec<String> =
        pairs.iter().map(|(name, value)| format!("{}={}", encode(name), encode(value))).collect();
    encoded.join("&")
}

/// `path`, with `?query` when there are pairs.
pub fn link(path: &str, pairs: &[(String, String)]) -> String {
    if pairs.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", query(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn instants_are_said_in_the_largest_unit_that_fits() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let before = |millis: i64| Timestamp::from_millis(now.millis() - millis);

        assert_eq!(ago(before(10_000), now), "just now");
        assert_eq!(ago(before(HOUR), now), "1 hour ago");
        assert_eq!(ago(before(3 * HOUR + 5), now), "3 hours ago");
        assert_eq!(ago(before(48 * HOUR), now), "2 days ago");
        assert_eq!(ago(before(24 * HOUR * 400), now), "13 months ago");
        assert_eq!(ago(before(24 * HOUR * 365 * 5), now), "5 years ago");
        assert_eq!(exact(now), "2023-11-14 22:13 UTC");
    }

    #[test]
    fn query_strings_are_percent_encoded() {
        let pairs = vec![("component".to_owned(), "a b&c=<d>".to_owned())];

        assert_eq!(link("/x", &pairs), "/x?component=a%20b%26c%3D%3Cd%3E");
        assert_eq!(link("/x", &[]), "/x");
    }
}
