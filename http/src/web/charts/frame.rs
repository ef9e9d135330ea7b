//! What every chart has around its data: the `<svg>` element with its viewBox and
//! accessible name, the visible title and unit, and the message drawn when there is no
//! data.

use super::markup::{fit, put, stable_id, wrap, Esc, C};
use super::Svg;

/// Font size of the visible title; axis text uses the root's 12.
const TITLE_FONT: f64 = 15.0;
/// Space between the viewBox's edges and any text.
pub(super) const MARGIN: f64 = 8.0;
/// Height of the area that says there is no data.
const EMPTY_HEIGHT: f64 = 120.0;

/// Shown in place of the data when there is none.
pub(super) const EMPTY_TEXT: &str = "No data to show";

/// A chart being drawn: its body markup and how far down it reaches so far.
pub(super) struct Frame<'a> {
    title: &'a str,
    width: f64,
    /// The markup inside the `<svg>` after its `<title>` and `<desc>`.
    pub(super) body: String,
    /// The lowest y used so far.
    pub(super) bottom: f64,
}

impl<'a> Frame<'a> {
    /// Starts a chart `width` wide with its title on top, wrapped to two lines at most.
    pub(super) fn new(title: &'a str, width: f64) -> Frame<'a> {
        let title = if title.trim().is_empty() { "Chart" } else { title };
        let mut body = String::with_capacity(4096);
        let mut baseline = 6.0;
        // Bold text runs about a tenth wider than the estimate for regular text.
        for line in wrap(title, width - 2.0 * MARGIN, TITLE_FONT * 1.1, 2) {
            baseline += TITLE_FONT * 1.25;
            put!(
                &mut body,
                "<text class=\"chart-title\" x=\"{}\" y=\"{}\" font-size=\"{}\" \
                 font-weight=\"600\" fill=\"currentColor\">{}</text>",
                C(MARGIN),
                C(baseline),
                C(TITLE_FONT),
                Esc(&line)
            );
        }
        Frame { title, width, body, bottom: baseline + 4.0 }
    }

    /// Writes the unit of the values under the title.
    pub(super) fn unit(&mut self, unit: &str) {
        if unit.trim().is_empty() {
            return;
        }
        let line = fit(unit, self.width - 2.0 * MARGIN, 12.0);
        self.bottom += 16.0;
        put!(
            &mut self.body,
            "<text class=\"chart-unit\" x=\"{}\" y=\"{}\" fill=\"currentColor\" \
             fill-opacity=\"0.75\">{}</text>",
            C(MARGIN),
            C(self.bottom),
            Esc(&line)
        );
        self.bottom += 4.0;
    }

    /// Ends the chart with a message in place of data.
    pub(super) fn empty(mut self, kind: &str) -> Svg {
        let top = self.bottom + 8.0;
        put!(
            &mut self.body,
            "<rect class=\"empty\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" \
             stroke=\"currentColor\" stroke-opacity=\"0.3\" stroke-dasharray=\"4 4\"/>\
             <text class=\"empty\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" \
             fill=\"currentColor\">{EMPTY_TEXT}</text>",
            C(MARGIN),
            C(top),
            C(self.width - 2.0 * MARGIN),
            C(EMPTY_HEIGHT),
            C(self.width / 2.0),
            C(top + EMPTY_HEIGHT / 2.0 + 4.0)
        );
        self.bottom = top + EMPTY_HEIGHT + MARGIN;
        self.finish(kind, EMPTY_TEXT)
    }

    /// Ends the chart; `summary` is its description for assistive technology.
    pub(super) fn finish(self, kind: &str, summary: &str) -> Svg {
        let size = format!("viewBox=\"0 0 {} {}\" width=\"100%\"", C(self.width), C(self.bottom));
        let class = format!("chart chart-{kind}");
        wrap_svg(kind, &class, &size, self.title, summary, &self.body)
    }
}

/// The `<svg>` element around `body`, named by `title` and described by `summary`;
/// `size` holds its viewBox and size attributes, `class` the page's hooks for styling.
pub(super) fn wrap_svg(
    kind: &str,
    class: &str,
    size: &str,
    title: &str,
    summary: &str,
    body: &str,
) -> Svg {
    let id = stable_id(kind, &[title, summary, body]);
    let mut out = String::with_capacity(body.len() + 512);
    put!(
        &mut out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" {size} role=\"img\" \
         aria-labelledby=\"{id}-t\" aria-describedby=\"{id}-d\" class=\"{class}\" \
         font-family=\"system-ui, sans-serif\" font-size=\"12\">\
         <title id=\"{id}-t\">{}</title><desc id=\"{id}-d\">{}</desc>",
        Esc(title),
        Esc(summary)
    );
    out.push_str(body);
    out.push_str("</svg>");
    Svg(out)
}
