//! Text and numbers as the charts write them: XML escaping, coordinates rounded to one
//! decimal, value and tick labels shortened with SI suffixes, labels fitted to a width,
//! link checks and ids that stay the same for the same chart.

use std::borrow::Cow;
use std::fmt;

/// Appends formatted text to a `String`.
///
/// Writing into a `String` cannot fail, so its `fmt::Result` is dropped here, once.
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = ::std::fmt::Write::write_fmt(&mut *$out, format_args!($($arg)*));
    }};
}
pub(super) use put;

/// Text made safe for an XML text node or a quoted attribute value.
///
/// Characters XML 1.0 cannot carry at all (most control characters) are dropped rather
/// than escaped, since no escape for them is well-formed; tabs and line breaks become
/// spaces, as SVG text shows them anyway.
pub(super) struct Esc<'a>(pub(super) &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(needs_escape) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or(' ');
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                '\t' | '\n' | '\r' => f.write_str(" ")?,
                _ => {}
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    matches!(c, '&' | '<' | '>' | '"' | '\'')
        || !matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// A coordinate rounded to one decimal, written without a trailing `.0`.
#[derive(Debug, Clone, Copy)]
pub(super) struct C(pub(super) f64);

impl fmt::Display for C {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tenths = (self.0 * 10.0).round();
        if !tenths.is_finite() || tenths == 0.0 {
            f.write_str("0")
        } else if tenths % 10.0 == 0.0 {
            write!(f, "{}", (tenths / 10.0) as i64)
        } else {
            write!(f, "{:.1}", tenths / 10.0)
        }
    }
}

/// SI multiples used to shorten big numbers, largest first.
const SI: [(f64, &str); 4] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")];

fn si(abs: f64) -> (f64, &'static str) {
    SI.into_iter().find(|(unit, _)| abs >= *unit).unwrap_or((1.0, ""))
}

/// The label of an axis tick at `value` on an axis stepping by `step`: shortened with an
/// SI suffix from a thousand up (1.5k, 3M), with just the decimals the step needs.
pub(super) fn tick_label(value: f64, step: f64) -> String {
    if value.abs() < step.abs() * 1e-6 {
        return "0".to_owned();
    }
    let (unit, suffix) = si(value.abs());
    let decimals = decimals_to_show(step / unit);
    format!("{}{suffix}", trim_zeros(format!("{:.*}", decimals, value / unit)))
}

/// How many decimals write `x` without loss, up to 6.
fn decimals_to_show(x: f64) -> usize {
    (0..6)
        .find(|&d| {
            let scaled = x * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(6)
}

/// A data value as shown beside a bar or in a tooltip: whole numbers exact below ten
/// thousand, three significant digits with an SI suffix above, fractions to two decimals
/// (fewer for bigger numbers), `n/a` for a missing value.
pub(super) fn value_label(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".to_owned();
    }
    let abs = value.abs();
    if abs >= 10_000.0 {
        let (mut unit, mut suffix) = si(abs);
        // 999,999 would round to "1000k"; the next multiple reads better.
        if (abs / unit * 10.0).round() >= 10_000.0 && unit < 1e12 {
            (unit, suffix) = si(unit * 1000.0);
        }
        return format!("{}{suffix}", significant(value / unit));
    }
    if value.fract() == 0.0 {
        return format!("{}", value as i64);
    }
    significant(value)
}

fn significant(value: f64) -> String {
    let decimals = match value.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    let text = trim_zeros(format!("{value:.decimals$}"));
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

fn trim_zeros(text: String) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Width of `text` at `font` size, estimated: no font metrics exist on the server, and
/// an estimate on the generous side only costs a little space.
pub(super) fn text_width(text: &str, font: f64) -> f64 {
    text.chars().map(char_width_em).sum::<f64>() * font
}

/// Widths in ems, on the wide side of common sans-serif faces (DejaVu Sans, the widest
/// found on Linux desktops, sets digits at 0.64 em).
fn char_width_em(c: char) -> f64 {
    match c {
        ' ' | '.' | ',' | ':' | ';' | '\'' | '|' | 'i' | 'l' | 'j' | 't' | 'f' | 'I' => 0.35,
        'm' | 'w' | 'M' | 'W' | '@' | '%' => 1.0,
        'A'..='Z' => 0.74,
        '0'..='9' => 0.64,
        c if c.is_ascii() => 0.62,
        c if is_wide(c) => 1.0,
        _ => 0.65,
    }
}

/// East Asian wide and full-width characters, which take a whole em.
fn is_wide(c: char) -> bool {
    matches!(c,
        '\u{1100}'..='\u{115F}' | '\u{2E80}'..='\u{A4CF}' | '\u{AC00}'..='\u{D7A3}'
        | '\u{F900}'..='\u{FAFF}' | '\u{FE30}'..='\u{FE4F}' | '\u{FF00}'..='\u{FF60}'
        | '\u{FFE0}'..='\u{FFE6}' | '\u{1F300}'..='\u{1FAFF}' | '\u{20000}'..='\u{3FFFD}')
}

/// `text` cut to at most `max_chars` characters, ending in an ellipsis when cut.
pub(super) fn truncate(text: &str, max_chars: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max_chars) {
        None => Cow::Borrowed(text),
        Some(_) => {
            let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
            Cow::Owned(format!("{}…", kept.trim_end()))
        }
    }
}

/// `text` cut to fit `width` at `font` size, ending in an ellipsis when cut.
pub(super) fn fit(text: &str, width: f64, font: f64) -> Cow<'_, str> {
    if text_width(text, font) <= width {
        return Cow::Borrowed(text);
    }
    let room = width - text_width("…", font);
    let mut used = 0.0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        used += char_width_em(c) * font;
        if used > room {
            break;
        }
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}…", text[..end].trim_end()))
}

/// `text` broken at spaces into lines that fit `width`, at most `max_lines` of them; what
/// does not fit in the last line is cut with an ellipsis.
pub(super) fn wrap(text: &str, width: f64, font: f64, max_lines: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let mut line = word.to_owned();
        while let Some(next) = words.peek() {
            if text_width(&line, font) + text_width(" ", font) + text_width(next, font) > width {
                break;
            }
            line.push(' ');
            line.push_str(next);
            words.next();
        }
        if lines.len() + 1 == max_lines && words.peek().is_some() {
            let rest: Vec<&str> = words.collect();
            line = format!("{line} {}", rest.join(" "));
            lines.push(fit(&line, width, font).into_owned());
            break;
        }
        lines.push(fit(&line, width, font).into_owned());
    }
    lines
}

/// `href` when it is safe to link to: a path on this site or an `http(s)` address.
///
/// Protocol-relative (`//host`) and backslash (`/\host`) forms leave the site despite their
/// leading slash, and browsers drop tabs and line breaks inside URLs, so `/<tab>/host` would
/// become one; control characters are therefore refused anywhere.
pub(super) fn safe_href(href: &str) -> Option<&str> {
    if href.chars().any(char::is_control) {
        return None;
    }
    let lower = href.get(..8).unwrap_or(href).to_ascii_lowercase();
    let local = href.starts_with('/') && !href.starts_with("//") && !href.starts_with("/\\");
    let web = (lower.starts_with("http://") && href.len() > 7)
        || (lower.starts_with("https://") && href.len() > 8);
    (local || web).then_some(href)
}

/// An id for a chart's own elements, derived from what the chart draws, so the same
/// chart always gets the same markup and two different charts on a page do not clash.
pub(super) fn stable_id(kind: &str, parts: &[&str]) -> String {
    // FNV-1a: small, stable across builds and platforms, and enough to tell charts apart.
    let bytes = parts.iter().flat_map(|part| part.bytes().chain([0]));
    let hash = kind
        .bytes()
        .chain(bytes)
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    format!("bd-{kind}-{:012x}", hash & 0xffff_ffff_ffff)
}
