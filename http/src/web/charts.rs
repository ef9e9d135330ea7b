//! Charts drawn on the server as SVG, so pages need no script and no outside service.
//!
//! Every chart carries its title as an accessible name, labelled axes with units and a
//! legend. Colours come from the Okabe–Ito palette, which stays distinguishable under the
//! common colour-vision deficiencies, and series also differ by dash pattern and marker,
//! so no reading depends on colour alone. Styling uses SVG presentation attributes and
//! classes only: the service's Content-Security-Policy refuses inline `style`.
//!
//! All text is escaped here; the markup returned is safe to insert into a page as is.
//! Links are kept only when they point into this site (`/…`) or to an `http(s)://` address.
//!
//! Drawing never fails: no data draws a chart frame saying so, NaN and infinite values leave
//! gaps, and lists of different lengths are cut to the shortest.

mod bar;
mod frame;
mod line;
mod markup;
mod palette;
mod scale;
mod sparkline;
#[cfg(test)]
mod tests;

use std::fmt;

/// SVG markup, escaped and ready to insert into a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// The markup.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One line of a [`LineChart`]: a value per x label.
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Shown in the legend.
    pub label: &'a str,
    /// One value per x label; NaN leaves a gap.
    pub values: &'a [f64],
}

/// A shaded interval of a [`LineChart`], such as a forecast's, aligned with the x labels;
/// NaN where it does not apply.
///
/// It is drawn in a light tint of the colour of the first series whose label its own label
/// contains (so "created, 80% interval" goes with "created"), else of the first series.
#[derive(Debug, Clone, Copy)]
pub struct Band<'a> {
    /// Shown in the legend.
    pub label: &'a str,
    /// Lower bound per x label.
    pub low: &'a [f64],
    /// Upper bound per x label.
    pub high: &'a [f64],
}

/// Lines over shared x labels (periods), with an optional shaded interval.
#[derive(Debug, Clone, Copy)]
pub struct LineChart<'a> {
    /// The chart's accessible name and visible caption.
    pub title: &'a str,
    /// One label per point, such as `2024-W05` or `2024-03`.
    pub x_labels: &'a [String],
    /// The y axis unit, such as `bugs per week`.
    pub y_unit: &'a str,
    /// The lines.
    pub series: &'a [Series<'a>],
    /// A shaded interval drawn under the lines.
    pub band: Option<Band<'a>>,
    /// Where each x position leads (for example the issues of that period), when given.
    pub point_links: Option<&'a [String]>,
}

/// Horizontal bars, one per label.
#[derive(Debug, Clone, Copy)]
pub struct BarChart<'a> {
    /// The chart's accessible name and visible caption.
    pub title: &'a str,
    /// One label per bar.
    pub labels: &'a [String],
    /// One value per bar.
    pub values: &'a [f64],
    /// The value unit, such as `analyses`.
    pub unit: &'a str,
    /// Where each bar leads, when given.
    pub links: Option<&'a [String]>,
}

/// Draws a line chart.
///
/// The y axis always includes zero. Up to 60 periods, every point has a marker and every
/// period a tooltip (and its link, when given); past that, markers sit only under the x
/// labels shown and the links move to those labels, which keeps a five-year weekly chart
/// small and its targets big enough to hit.
pub fn line_chart(chart: &LineChart<'_>) -> Svg {
    line::draw(chart)
}

/// Draws a bar chart: bars in the order given, each with its value at its end.
pub fn bar_chart(chart: &BarChart<'_>) -> Svg {
    bar::draw(chart)
}

/// A small trend line without axes, for tables; `label` is its accessible name.
pub fn sparkline(values: &[f64], label: &str) -> Svg {
    sparkline::draw(values, label)
}
