//! How series are told apart: a colour, a dash pattern and a marker shape each, so no
//! reading depends on colour alone.

use super::markup::{put, C};

/// The Okabe–Ito palette, ordered for contrast on a light page: its black is the text
/// colour, so it follows a dark theme, and its yellow, faint on white, comes last.
const COLOURS: [&str; 8] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "currentColor", "#F0E442"];

/// Dash patterns; a length other than the colours' makes colour and pattern pair up
/// differently once the colours come round again.
const DASHES: [Option<&str>; 6] =
    [None, Some("6 3"), Some("2 3"), Some("9 3 2 3"), Some("1 4"), Some("12 4")];

/// Filled marker shapes, different in outline so they read in black and white too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Circle,
    Square,
    TriangleUp,
    Diamond,
    TriangleDown,
    Plus,
}

const MARKERS: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::TriangleUp,
    Marker::Diamond,
    Marker::TriangleDown,
    Marker::Plus,
];

/// The colour of the series at `index`.
pub(super) fn colour(index: usize) -> &'static str {
    COLOURS[index % COLOURS.len()]
}

/// The `stroke-dasharray` attribute of the series at `index`, with its leading space, or
/// nothing for a solid line.
pub(super) fn dash_attribute(index: usize) -> String {
    match DASHES[index % DASHES.len()] {
        Some(dashes) => format!(" stroke-dasharray=\"{dashes}\""),
        None => String::new(),
    }
}

/// Appends the marker of the series at `index`, centred on (`x`, `y`), as subpath data
/// for one `<path>` that holds all of that series' markers.
pub(super) fn marker(out: &mut String, index: usize, x: f64, y: f64) {
    match MARKERS[index % MARKERS.len()] {
        Marker::Circle => {
            put!(out, "M{} {}a3.2 3.2 0 1 0 6.4 0a3.2 3.2 0 1 0-6.4 0", C(x - 3.2), C(y));
        }
        Marker::Square => put!(out, "M{} {}h6v6h-6z", C(x - 3.0), C(y - 3.0)),
        Marker::TriangleUp => put!(out, "M{} {}l3.8 6.6h-7.6z", C(x), C(y - 4.2)),
        Marker::Diamond => put!(out, "M{} {}l4.2 4.2-4.2 4.2-4.2-4.2z", C(x), C(y - 4.2)),
        Marker::TriangleDown => put!(out, "M{} {}l3.8-6.6h-7.6z", C(x), C(y + 4.2)),
        Marker::Plus => put!(
            out,
            "M{} {}h2.4v2.8h2.8v2.4h-2.8v2.8h-2.4v-2.8h-2.8v-2.4h2.8z",
            C(x - 1.2),
            C(y - 4.0)
        ),
    }
}
