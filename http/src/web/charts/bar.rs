//! Bar charts: one horizontal bar per label in the order given, the label in a column on
//! the left (cut with an ellipsis, the full text in the bar's tooltip), the value at the
//! bar's end and a value axis at round ticks underneath.

use super::frame::{Frame, MARGIN};
use super::markup::{fit, put, safe_href, text_width, truncate, value_label, Esc, C};
use super::palette;
use super::scale::{label_every, Ticks};
use super::{BarChart, Svg};

const WIDTH: f64 = 480.0;
const FONT: f64 = 12.0;
const ROW: f64 = 24.0;
const BAR: f64 = 16.0;
/// Labels are cut at this many characters…
const LABEL_CHARS: usize = 28;
/// …and at this width, for scripts whose characters are wider than Latin ones.
const LABEL_WIDTH: f64 = 200.0;
/// Space between a bar's end and its value.
const VALUE_GAP: f64 = 4.0;

/// One bar as drawn.
struct Bar<'a> {
    label: &'a str,
    shown: String,
    value: f64,
    value_text: String,
    link: Option<&'a str>,
}

/// Where bars go: value `ticks` spread from `start` to `end`.
struct Scale {
    ticks: Ticks,
    start: f64,
    end: f64,
}

impl Scale {
    fn x(&self, value: f64) -> f64 {
        self.start + self.ticks.fraction(value) * (self.end - self.start)
    }
}

pub(super) fn draw(chart: &BarChart<'_>) -> Svg {
    let bars = bars(chart);
    let mut frame = Frame::new(chart.title, WIDTH);
    frame.unit(chart.unit);
    if bars.iter().all(|bar| !bar.value.is_finite()) {
        return frame.empty("bar");
    }

    let label_column = bars.iter().map(|b| text_width(&b.shown, FONT)).fold(0.0, f64::max);
    let label_x = MARGIN + label_column;
    let scale = scale(&bars, label_x + 8.0);
    let top = frame.bottom + 8.0;
    let bottom = top + ROW * bars.len() as f64;
    let out = &mut frame.body;
    value_axis(out, &scale, top, bottom);
    out.push_str("<g class=\"bars\" fill=\"currentColor\">");
    for (index, bar) in bars.iter().enumerate() {
        draw_bar(out, bar, &scale, label_x, top + ROW * index as f64, chart.unit);
    }
    out.push_str("</g>");
    frame.bottom = bottom + 18.0 + MARGIN;

    frame.finish("bar", &summary(&bars, chart.unit))
}

fn bars<'a>(chart: &BarChart<'a>) -> Vec<Bar<'a>> {
    let links = |index: usize| chart.links.and_then(|links| links.get(index));
    chart
        .labels
        .iter()
        .zip(chart.values)
        .enumerate()
        .map(|(index, (label, &value))| Bar {
            label,
            shown: fit(&truncate(label, LABEL_CHARS), LABEL_WIDTH, FONT).into_owned(),
            value,
            value_text: value_label(value),
            link: links(index).and_then(|href| safe_href(href)),
        })
        .collect()
}

/// The value scale, from `start` to the right edge, leaving room for the values written
/// beyond the ends of the longest bars.
fn scale(bars: &[Bar<'_>], start: f64) -> Scale {
    let finite = || bars.iter().map(|b| b.value).filter(|v| v.is_finite());
    let low = finite().fold(0.0, f64::min);
    let high = finite().fold(0.0, f64::max);
    let ticks = Ticks::covering(low, high, finite().all(|v| v.fract() == 0.0));
    let room = |negative: bool| {
        bars.iter()
            .filter(|b| (b.value < 0.0) == negative)
            .map(|b| text_width(&b.value_text, FONT) + VALUE_GAP)
            .fold(0.0, f64::max)
    };
    Scale { ticks, start: start + room(true), end: WIDTH - MARGIN - room(false) }
}

/// Gridlines and tick labels along the bottom, thinned when the labels would touch.
fn value_axis(out: &mut String, scale: &Scale, top: f64, bottom: f64) {
    let labels = scale.ticks.labels();
    let count = labels.len();
    let widest = labels.iter().map(|l| text_width(l, FONT)).fold(0.0, f64::max);
    let spacing = (scale.end - scale.start) / (count.max(2) - 1) as f64;
    let every = label_every(count, spacing, widest + 8.0);
    out.push_str("<path class=\"grid\" stroke=\"currentColor\" stroke-opacity=\"0.15\" d=\"");
    for value in scale.ticks.values.iter().filter(|v| **v != 0.0) {
        put!(out, "M{} {}V{}", C(scale.x(*value)), C(top - 4.0), C(bottom));
    }
    put!(
        out,
        "\"/><path class=\"zero\" stroke=\"currentColor\" stroke-opacity=\"0.6\" d=\"M{} {}V{}\"/>\
         <g class=\"x-axis\" fill=\"currentColor\" text-anchor=\"middle\">",
        C(scale.x(0.0)),
        C(top - 4.0),
        C(bottom)
    );
    let shown = scale.ticks.values.iter().zip(&labels).enumerate().filter(|(i, _)| i % every == 0);
    for (_, (value, label)) in shown {
        let (x, y) = (C(scale.x(*value)), C(bottom + 16.0));
        put!(out, "<text x=\"{x}\" y=\"{y}\">{}</text>", Esc(label));
    }
    out.push_str("</g>");
}

fn draw_bar(out: &mut String, bar: &Bar<'_>, scale: &Scale, label_x: f64, row: f64, unit: &str) {
    if let Some(href) = bar.link {
        put!(out, "<a href=\"{}\">", Esc(href));
    }
    let tooltip = format!("{}: {} {unit}", bar.label, bar.value_text);
    put!(out, "<g class=\"bar\"><title>{}</title>", Esc(tooltip.trim_end()));

    let zero = scale.x(0.0);
    let end = if bar.value.is_finite() { scale.x(bar.value) } else { zero };
    if bar.value.is_finite() {
        put!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{BAR}\" fill=\"{}\"/>",
            C(zero.min(end)),
            C(row + (ROW - BAR) / 2.0),
            C((end - zero).abs()),
            palette::colour(0)
        );
    }
    let baseline = C(row + ROW / 2.0 + 4.0);
    put!(
        out,
        "<text class=\"bar-label\" x=\"{}\" y=\"{baseline}\" text-anchor=\"end\">{}</text>",
        C(label_x),
        Esc(&bar.shown)
    );
    let (x, anchor) =
        if bar.value < 0.0 { (end - VALUE_GAP, "end") } else { (end + VALUE_GAP, "start") };
    put!(
        out,
        "<text class=\"bar-value\" x=\"{}\" y=\"{baseline}\" text-anchor=\"{anchor}\">{}\
         </text></g>",
        C(x),
        Esc(&bar.value_text)
    );
    if bar.link.is_some() {
        out.push_str("</a>");
    }
}

/// The chart in words, for those who cannot see it.
fn summary(bars: &[Bar<'_>], unit: &str) -> String {
    let finite = || bars.iter().filter(|b| b.value.is_finite());
    let mut text = format!("{} bars", bars.len());
    if !unit.trim().is_empty() {
        text.push_str(&format!(", {unit}"));
    }
    text.push('.');
    let highest = finite().max_by(|a, b| a.value.total_cmp(&b.value));
    let lowest = finite().min_by(|a, b| a.value.total_cmp(&b.value));
    if let (Some(highest), Some(lowest)) = (highest, lowest) {
        text.push_str(&format!(
            " Highest: {} at {}. Lowest: {} at {}.",
            highest.label, highest.value_text, lowest.label, lowest.value_text
        ));
    }
    text
}
