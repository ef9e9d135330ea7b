//! Line charts: a line per series over shared periods, an optional shaded interval, y ticks
//! at round values, period labels thinned to fit, a legend, and for short charts a tooltip
//! and link per period.

use std::ops::Range;

use super::frame::{Frame, MARGIN};
use super::markup::{fit, put, safe_href, text_width, truncate, value_label, Esc, C};
use super::palette;
use super::scale::{labelled, period_label_every, Ticks};
use super::{Band, LineChart, Series, Svg};

/// Width of the viewBox: at a phone's width the 12-unit text shows at about 9 pixels,
/// and at a desktop's the chart is usually given a column rather than the whole page.
const WIDTH: f64 = 480.0;
const PLOT_HEIGHT: f64 = 200.0;
const FONT: f64 = 12.0;
/// Past this many periods points are too close for a marker, tooltip or link each.
const DENSE: usize = 60;
/// Period labels longer than this are cut, so one odd label cannot thin out all others.
const X_LABEL_WIDTH: f64 = 110.0;
/// Space kept between neighbouring period labels.
const X_LABEL_GAP: f64 = 10.0;
const LEGEND_CHARS: usize = 40;
const LEGEND_SWATCH: f64 = 24.0;

/// The chart's inputs cut to the periods that have a label.
struct Data<'a> {
    labels: &'a [String],
    series: Vec<(&'a str, &'a [f64])>,
    band: Option<BandData<'a>>,
    /// Per period, its link if one was given and is safe.
    links: Vec<Option<&'a str>>,
}

struct BandData<'a> {
    label: &'a str,
    low: &'a [f64],
    high: &'a [f64],
    /// The series whose colour the band takes.
    series: usize,
}

impl BandData<'_> {
    fn at(&self, index: usize) -> Option<(f64, f64)> {
        let (low, high) = (self.low[index], self.high[index]);
        (low.is_finite() && high.is_finite()).then(|| (low.min(high), low.max(high)))
    }
}

impl<'a> Data<'a> {
    fn new(chart: &LineChart<'a>) -> Data<'a> {
        let count = chart.x_labels.len();
        let series = chart.series.iter().map(|s| (s.label, cut(s.values, count))).collect();
        let band = chart.band.map(|band| {
            let len = band.low.len().min(band.high.len()).min(count);
            let series = band_series(&band, chart.series);
            BandData { label: band.label, low: &band.low[..len], high: &band.high[..len], series }
        });
        let links = chart
            .point_links
            .map(|links| links.iter().take(count).map(|href| safe_href(href)).collect())
            .unwrap_or_default();
        Data { labels: chart.x_labels, series, band, links }
    }

    fn count(&self) -> usize {
        self.labels.len()
    }

    fn series_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.series.iter().flat_map(|(_, values)| values.iter().copied()).filter(|v| v.is_finite())
    }

    fn band_values(&self) -> impl Iterator<Item = f64> + '_ {
        let band = self.band.iter();
        band.flat_map(|b| (0..b.low.len()).filter_map(move |i| b.at(i))).flat_map(|(l, h)| [l, h])
    }

    fn is_empty(&self) -> bool {
        self.count() == 0
            || (self.series_values().next().is_none() && self.band_values().next().is_none())
    }

    fn link(&self, index: usize) -> Option<&'a str> {
        self.links.get(index).copied().flatten()
    }

    /// Y ticks covering every value and zero, whole when every series value is.
    fn ticks(&self) -> Ticks {
        let all = || self.series_values().chain(self.band_values());
        let low = all().fold(0.0, f64::min);
        let high = all().fold(0.0, f64::max);
        Ticks::covering(low, high, self.series_values().all(|v| v.fract() == 0.0))
    }
}

fn cut(values: &[f64], count: usize) -> &[f64] {
    &values[..values.len().min(count)]
}

/// The series a band belongs to: the first whose label the band's label contains.
fn band_series(band: &Band<'_>, series: &[Series<'_>]) -> usize {
    let band_label = band.label.to_lowercase();
    series
        .iter()
        .position(|s| !s.label.trim().is_empty() && band_label.contains(&s.label.to_lowercase()))
        .unwrap_or(0)
}

/// Where the data go inside the viewBox.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    count: usize,
    ticks: Ticks,
    /// Every how many periods one is labelled.
    every: usize,
}

impl Plot {
    fn new(data: &Data<'_>, x_labels: &[String], top: f64) -> Plot {
        let ticks = data.ticks();
        let widest_tick = ticks.labels().iter().map(|l| text_width(l, FONT)).fold(0.0, f64::max);
        let left = (MARGIN + widest_tick + 6.0).max(28.0);
        let last = x_labels.last().map_or(0.0, |l| text_width(l, FONT));
        let right = WIDTH - (last / 2.0 + 2.0).clamp(MARGIN, X_LABEL_WIDTH / 2.0);
        let count = data.count();
        let mut plot = Plot { left, right, top, bottom: top + PLOT_HEIGHT, count, ticks, every: 1 };
        let widest = x_labels.iter().map(|l| text_width(l, FONT)).fold(0.0, f64::max);
        let weekly = data.labels.iter().all(|label| label.contains("-W"));
        plot.every = period_label_every(count, plot.spacing(), widest + X_LABEL_GAP, weekly);
        plot
    }

    fn spacing(&self) -> f64 {
        (self.right - self.left) / (self.count.max(2) - 1) as f64
    }

    fn x(&self, index: usize) -> f64 {
        if self.count <= 1 {
            (self.left + self.right) / 2.0
        } else {
            self.left + self.spacing() * index as f64
        }
    }

    fn y(&self, value: f64) -> f64 {
        self.bottom - self.ticks.fraction(value) * (self.bottom - self.top)
    }

    fn labelled(&self, index: usize) -> bool {
        labelled(index, self.count, self.every)
    }

    fn dense(&self) -> bool {
        self.count > DENSE
    }
}

pub(super) fn draw(chart: &LineChart<'_>) -> Svg {
    let data = Data::new(chart);
    let mut frame = Frame::new(chart.title, WIDTH);
    frame.unit(chart.y_unit);
    if data.is_empty() {
        return frame.empty("line");
    }

    let x_labels: Vec<String> =
        data.labels.iter().map(|l| fit(l, X_LABEL_WIDTH, FONT).into_owned()).collect();
    let plot = Plot::new(&data, &x_labels, frame.bottom + 10.0);
    let out = &mut frame.body;
    y_axis(out, &plot);
    x_axis(out, &plot, &x_labels, &data);
    if let Some(band) = &data.band {
        band_areas(out, &plot, band);
    }
    for (index, (_, values)) in data.series.iter().enumerate() {
        line(out, &plot, index, values);
    }
    if !plot.dense() {
        hit_areas(out, &plot, &data);
    }
    frame.bottom = legend(out, &data, plot.bottom + 36.0);

    frame.finish("line", &summary(&data))
}

fn y_axis(out: &mut String, plot: &Plot) {
    out.push_str("<g class=\"y-axis\" fill=\"currentColor\" text-anchor=\"end\">");
    for (value, label) in plot.ticks.values.iter().zip(plot.ticks.labels()) {
        let (x, y) = (C(plot.left - 6.0), C(plot.y(*value) + 4.0));
        put!(out, "<text x=\"{x}\" y=\"{y}\">{}</text>", Esc(&label));
    }
    out.push_str("</g><path class=\"grid\" stroke=\"currentColor\" stroke-opacity=\"0.15\" d=\"");
    for value in plot.ticks.values.iter().filter(|v| **v != 0.0) {
        put!(out, "M{} {}H{}", C(plot.left), C(plot.y(*value)), C(plot.right));
    }
    put!(
        out,
        "\"/><path class=\"zero\" stroke=\"currentColor\" stroke-opacity=\"0.6\" d=\"M{} {}H{}\"/>",
        C(plot.left),
        C(plot.y(0.0)),
        C(plot.right)
    );
}

/// Period labels, counting back from the latest; on dense charts they carry the links.
fn x_axis(out: &mut String, plot: &Plot, labels: &[String], data: &Data<'_>) {
    out.push_str("<g class=\"x-axis\" fill=\"currentColor\" text-anchor=\"middle\">");
    let y = C(plot.bottom + 18.0);
    for (index, label) in labels.iter().enumerate().filter(|(i, _)| plot.labelled(*i)) {
        let half = text_width(label, FONT) / 2.0;
        let x = C(plot.x(index).max(half + 2.0).min(WIDTH - half - 2.0));
        let link = data.link(index).filter(|_| plot.dense());
        if let Some(href) = link {
            put!(out, "<a href=\"{}\">", Esc(href));
        }
        put!(out, "<text x=\"{x}\" y=\"{y}\">{}</text>", Esc(label));
        if link.is_some() {
            out.push_str("</a>");
        }
    }
    out.push_str("</g><path class=\"x-ticks\" stroke=\"currentColor\" stroke-opacity=\"0.5\" d=\"");
    for index in (0..plot.count).filter(|i| plot.labelled(*i)) {
        put!(out, "M{} {}v4", C(plot.x(index)), C(plot.bottom));
    }
    out.push_str("\"/>");
}

fn band_areas(out: &mut String, plot: &Plot, band: &BandData<'_>) {
    put!(out, "<g class=\"band\" fill=\"{}\" fill-opacity=\"0.2\">", palette::colour(band.series));
    for run in runs(band.low.len(), |i| band.at(i).is_some()) {
        if run.len() == 1 {
            // A lone period has no area; a narrow bar shows its interval.
            let (low, high) = band.at(run.start).unwrap_or_default();
            let x = plot.x(run.start);
            let (top, bottom) = (plot.y(high), plot.y(low));
            put!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"4\" height=\"{}\"/>",
                C(x - 2.0),
                C(top),
                C(bottom - top)
            );
            continue;
        }
        out.push_str("<polygon points=\"");
        let highs = run.clone().filter_map(|i| Some((i, band.at(i)?.1)));
        let lows = run.clone().rev().filter_map(|i| Some((i, band.at(i)?.0)));
        for (i, value) in highs.chain(lows) {
            put!(out, "{},{} ", C(plot.x(i)), C(plot.y(value)));
        }
        out.pop();
        out.push_str("\"/>");
    }
    out.push_str("</g>");
}

/// One series: a polyline per run of values between gaps, then its markers.
fn line(out: &mut String, plot: &Plot, index: usize, values: &[f64]) {
    let colour = palette::colour(index);
    put!(
        out,
        "<g class=\"series\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" \
         stroke-linejoin=\"round\"{}>",
        palette::dash_attribute(index)
    );
    let runs = runs(values.len(), |i| values[i].is_finite());
    for run in &runs {
        out.push_str("<polyline points=\"");
        for i in run.clone() {
            put!(out, "{},{} ", C(plot.x(i)), C(plot.y(values[i])));
        }
        out.pop();
        out.push_str("\"/>");
    }
    out.push_str("</g>");

    let last = runs.last().map(|run| run.end - 1);
    let lone = |i: usize| runs.iter().any(|run| run.len() == 1 && run.start == i);
    let marked = |i: usize| !plot.dense() || plot.labelled(i) || lone(i) || Some(i) == last;
    let mut d = String::new();
    for i in (0..values.len()).filter(|&i| values[i].is_finite() && marked(i)) {
        palette::marker(&mut d, index, plot.x(i), plot.y(values[i]));
    }
    if !d.is_empty() {
        put!(out, "<path class=\"markers\" fill=\"{colour}\" d=\"{d}\"/>");
    }
}

/// The runs of consecutive indices below `len` for which `present` holds.
fn runs(len: usize, present: impl Fn(usize) -> bool) -> Vec<Range<usize>> {
    let mut runs = Vec::new();
    let mut start = None;
    for i in 0..=len {
        match (start, i < len && present(i)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                runs.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    runs
}

/// An invisible column over each period with its values as a tooltip, and its link.
fn hit_areas(out: &mut String, plot: &Plot, data: &Data<'_>) {
    out.push_str("<g class=\"hits\" fill=\"transparent\">");
    let width = if plot.count <= 1 { plot.right - plot.left } else { plot.spacing() };
    for index in 0..plot.count {
        let left = (plot.x(index) - width / 2.0).max(plot.left);
        let right = (plot.x(index) + width / 2.0).min(plot.right);
        let link = data.link(index);
        if let Some(href) = link {
            put!(out, "<a href=\"{}\">", Esc(href));
        }
        put!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
            C(left),
            C(plot.top),
            C(right - left),
            C(PLOT_HEIGHT),
            Esc(&tooltip(data, index))
        );
        if link.is_some() {
            out.push_str("</a>");
        }
    }
    out.push_str("</g>");
}

fn tooltip(data: &Data<'_>, index: usize) -> String {
    let mut parts = Vec::new();
    for (label, values) in &data.series {
        if let Some(value) = values.get(index) {
            parts.push(format!("{label}: {}", value_label(*value)));
        }
    }
    if let Some(band) = &data.band {
        if let Some((low, high)) = (index < band.low.len()).then(|| band.at(index)).flatten() {
            parts.push(format!("{}: {} to {}", band.label, value_label(low), value_label(high)));
        }
    }
    format!("{} — {}", data.labels[index], parts.join(", "))
}

/// The legend from `top` down, wrapping into rows; returns the bottom of the chart.
fn legend(out: &mut String, data: &Data<'_>, top: f64) -> f64 {
    let (mut x, mut y) = (MARGIN, top);
    let mut place = |label: &str| {
        let width = LEGEND_SWATCH + 6.0 + text_width(label, FONT);
        if x > MARGIN && x + width > WIDTH - MARGIN {
            (x, y) = (MARGIN, y + 20.0);
        }
        let at = (x, y);
        x += width + 16.0;
        at
    };
    out.push_str("<g class=\"legend\">");
    for (index, (label, _)) in data.series.iter().enumerate() {
        let shown = truncate(label, LEGEND_CHARS);
        let (x, y) = place(&shown);
        let colour = palette::colour(index);
        let mut marker = String::new();
        palette::marker(&mut marker, index, x + LEGEND_SWATCH / 2.0, y);
        put!(
            out,
            "<g class=\"legend-item\"><path d=\"M{} {}h{LEGEND_SWATCH}\" fill=\"none\" \
             stroke=\"{colour}\" stroke-width=\"2\"{}/><path d=\"{marker}\" fill=\"{colour}\"/>",
            C(x),
            C(y),
            palette::dash_attribute(index)
        );
        legend_text(out, label, &shown, x, y);
    }
    if let Some(band) = &data.band {
        let shown = truncate(band.label, LEGEND_CHARS);
        let (x, y) = place(&shown);
        put!(
            out,
            "<g class=\"legend-item\"><rect x=\"{}\" y=\"{}\" width=\"{LEGEND_SWATCH}\" \
             height=\"12\" fill=\"{}\" fill-opacity=\"0.2\"/>",
            C(x),
            C(y - 6.0),
            palette::colour(band.series)
        );
        legend_text(out, band.label, &shown, x, y);
    }
    out.push_str("</g>");
    y + 14.0
}

/// The text of a legend entry; a label cut short keeps its full text as a tooltip.
fn legend_text(out: &mut String, full: &str, shown: &str, x: f64, y: f64) {
    let (x, y) = (C(x + LEGEND_SWATCH + 6.0), C(y + 4.0));
    put!(out, "<text x=\"{x}\" y=\"{y}\" fill=\"currentColor\">");
    if shown != full {
        put!(out, "<title>{}</title>", Esc(full));
    }
    put!(out, "{}</text></g>", Esc(shown));
}

/// The chart in words, for those who cannot see it.
fn summary(data: &Data<'_>) -> String {
    let (first, last) = (&data.labels[0], &data.labels[data.count() - 1]);
    let mut text = format!("{} periods, {first} to {last}.", data.count());
    for (label, values) in &data.series {
        let finite = || values.iter().copied().filter(|v| v.is_finite());
        match finite().next_back() {
            Some(latest) => {
                let highest = finite().fold(f64::MIN, f64::max);
                let (latest, highest) = (value_label(latest), value_label(highest));
                text.push_str(&format!(" {label}: latest {latest}, highest {highest}."));
            }
            None => text.push_str(&format!(" {label}: no data.")),
        }
    }
    if let Some(band) = &data.band {
        if let Some((low, high)) = (0..band.low.len()).rev().find_map(|i| band.at(i)) {
            let (low, high) = (value_label(low), value_label(high));
            text.push_str(&format!(" {}: last {low} to {high}.", band.label));
        }
    }
    text
}
