//! Sparklines: a trend line the height of a line of text, for table cells, with a dot on
//! the latest value and no axes.

use super::frame::wrap_svg;
use super::markup::{put, value_label, C};
use super::palette;
use super::Svg;

const WIDTH: f64 = 100.0;
const HEIGHT: f64 = 24.0;
/// Keeps the dot and the line's width inside the viewBox.
const PAD: f64 = 3.0;
/// Sized in ems so it follows the table's text; the ratio matches the viewBox.
const SIZE: &str = "viewBox=\"0 0 100 24\" width=\"6.25em\" height=\"1.5em\"";
/// Not `chart`: page rules that size charts to their column must leave sparklines alone.
const CLASS: &str = "sparkline";

pub(super) fn draw(values: &[f64], label: &str) -> Svg {
    let label = if label.trim().is_empty() { "Trend" } else { label };
    let finite = || values.iter().copied().filter(|v| v.is_finite());
    let Some(latest) = finite().next_back() else {
        return wrap_svg("spark", CLASS, SIZE, label, "No data.", "");
    };
    let low = finite().fold(f64::INFINITY, f64::min);
    let high = finite().fold(f64::NEG_INFINITY, f64::max);
    let x = |i: usize| match values.len() {
        1 => WIDTH / 2.0,
        n => PAD + (WIDTH - 2.0 * PAD) * i as f64 / (n - 1) as f64,
    };
    let y = |v: f64| {
        if high > low {
            HEIGHT - PAD - (v - low) / (high - low) * (HEIGHT - 2.0 * PAD)
        } else {
            HEIGHT / 2.0
        }
    };

    let colour = palette::colour(0);
    let mut body = format!(
        "<g fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" stroke-linejoin=\"round\">"
    );
    // A gap in the data stays a gap: joining across it would draw values nobody measured.
    let mut open = false;
    for (i, value) in values.iter().enumerate() {
        match (value.is_finite(), open) {
            (true, false) => put!(&mut body, "<polyline points=\"{},{}", C(x(i)), C(y(*value))),
            (true, true) => put!(&mut body, " {},{}", C(x(i)), C(y(*value))),
            (false, true) => body.push_str("\"/>"),
            (false, false) => {}
        }
        open = value.is_finite();
    }
    if open {
        body.push_str("\"/>");
    }
    let last = values.iter().rposition(|v| v.is_finite()).unwrap_or(0);
    put!(
        &mut body,
        "</g><circle cx=\"{}\" cy=\"{}\" r=\"2\" fill=\"{colour}\"/>",
        C(x(last)),
        C(y(latest))
    );

    let summary = format!(
        "Latest {}, lowest {}, highest {}.",
        value_label(latest),
        value_label(low),
        value_label(high)
    );
    wrap_svg("spark", CLASS, SIZE, label, &summary, &body)
}
