//! The charts read back as XML: well-formed, free of inline style and script, escaped,
//! with the ticks, points, gaps and links their data call for.

use roxmltree::{Document, Node};

use super::markup::{safe_href, text_width, tick_label, value_label, Esc, C};
use super::{bar_chart, line_chart, sparkline, Band, BarChart, LineChart, Series, Svg};

const UNIT: &str = "bugs per week";
const OKABE_ITO: [&str; 8] =
    ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "currentColor", "#F0E442"];

fn weeks(count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{}-W{:02}", 2020 + i / 52, i % 52 + 1)).collect()
}

fn line<'a>(labels: &'a [String], series: &'a [Series<'a>]) -> LineChart<'a> {
    LineChart {
        title: "Bugs per week",
        x_labels: labels,
        y_unit: UNIT,
        series,
        band: None,
        point_links: None,
    }
}

fn parse(svg: &Svg) -> Document<'_> {
    match Document::parse(svg.as_str()) {
        Ok(doc) => doc,
        Err(error) => panic!("chart is not well-formed XML ({error}):\n{svg}"),
    }
}

fn tagged<'a, 'i>(doc: &'a Document<'i>, name: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants().filter(|n| n.has_tag_name(name)).collect()
}

fn classed<'a, 'i>(doc: &'a Document<'i>, class: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.attribute("class").is_some_and(|c| c.split(' ').any(|c| c == class)))
        .collect()
}

/// The text directly inside `node`, leaving out a nested `<title>`.
fn own_text(node: Node<'_, '_>) -> String {
    node.children().filter(Node::is_text).filter_map(|n| n.text()).collect()
}

fn texts_under(node: Node<'_, '_>) -> Vec<String> {
    node.descendants().filter(|n| n.has_tag_name("text")).map(own_text).collect()
}

fn all_texts(doc: &Document<'_>) -> Vec<String> {
    texts_under(doc.root_element())
}

fn y_ticks(svg: &Svg) -> Vec<String> {
    let doc = parse(svg);
    let axis = classed(&doc, "y-axis");
    assert_eq!(axis.len(), 1, "one y axis in {svg}");
    texts_under(axis[0])
}

fn point_counts(doc: &Document<'_>) -> Vec<usize> {
    let polylines = tagged(doc, "polyline");
    polylines
        .iter()
        .map(|p| p.attribute("points").unwrap_or("").split_whitespace().count())
        .collect()
}

fn hrefs(doc: &Document<'_>) -> Vec<String> {
    tagged(doc, "a").iter().filter_map(|a| a.attribute("href")).map(str::to_owned).collect()
}

/// What every chart must be: well-formed, named, scalable and acceptable to the CSP.
fn assert_safe(svg: &Svg) {
    let doc = parse(svg);
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"));
    assert_eq!(root.attribute("role"), Some("img"));
    assert!(root.attribute("viewBox").is_some(), "no viewBox in {svg}");
    let name_id = root.attribute("aria-labelledby").expect("aria-labelledby");
    let name = doc.descendants().find(|n| n.attribute("id") == Some(name_id)).expect("name");
    assert!(name.has_tag_name("title"));
    for node in doc.descendants().filter(Node::is_element) {
        let tag = node.tag_name().name();
        assert!(!["style", "script", "foreignObject"].contains(&tag), "<{tag}> in {svg}");
        for attribute in node.attributes() {
            let attribute = attribute.name();
            assert!(attribute != "style" && !attribute.starts_with("on"), "{attribute} in {svg}");
        }
    }
    for bad in ["NaN", "inf"] {
        assert!(!svg.as_str().contains(bad), "{bad} written in {svg}");
    }
}

#[test]
fn line_chart_is_named_scalable_and_labelled() {
    let labels = weeks(8);
    let values = [3.0, 5.0, 2.0, 8.0, 6.0, 4.0, 9.0, 7.0];
    let series = [Series { label: "created", values: &values }];

    let svg = line_chart(&line(&labels, &series));

    assert_safe(&svg);
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(root.attribute("width"), Some("100%"));
    assert_eq!(root.attribute("height"), None, "a fixed height would stop it scaling");
    assert!(root.attribute("viewBox").is_some_and(|v| v.starts_with("0 0 480 ")));
    assert_eq!(tagged(&doc, "title")[0].text(), Some("Bugs per week"));
    let texts = all_texts(&doc);
    for expected in ["Bugs per week", UNIT, "created", "2020-W02", "2020-W08", "0", "10"] {
        assert!(texts.iter().any(|t| t == expected), "{expected:?} not among {texts:?}");
    }
}

#[test]
fn no_chart_has_inline_style_or_script() {
    let labels = weeks(260);
    let wave: Vec<f64> = (0..260).map(|i| (i % 17) as f64).collect();
    let series = [Series { label: "created", values: &wave }];
    let links: Vec<String> = labels.iter().map(|l| format!("/issues?period={l}")).collect();
    let dense = LineChart {
        band: Some(Band { label: "interval", low: &wave, high: &wave }),
        point_links: Some(&links),
        ..line(&labels, &series)
    };
    let bar_labels = vec!["core".to_owned(), "ui".to_owned()];
    let bars = BarChart {
        title: "Analyses",
        labels: &bar_labels,
        values: &[4.0, -2.0],
        unit: "analyses",
        links: Some(&links),
    };

    for svg in [
        line_chart(&dense),
        line_chart(&line(&labels[..5], &series)),
        line_chart(&line(&[], &[])),
        bar_chart(&bars),
        bar_chart(&BarChart { labels: &[], ..bars }),
        sparkline(&wave, "created"),
        sparkline(&[], "created"),
    ] {
        assert_safe(&svg);
    }
}

#[test]
fn hostile_labels_are_escaped_and_read_back_as_text() {
    let hostile = "<script>alert(\"x\")</script> & 'q'";
    let short = "<b>&\"'";
    let labels = vec![short.to_owned(), "2".to_owned()];
    let series = [Series { label: hostile, values: &[1.0, 2.0] }];
    let chart = LineChart {
        title: hostile,
        y_unit: hostile,
        band: Some(Band { label: hostile, low: &[0.0, 1.0], high: &[2.0, 3.0] }),
        ..line(&labels, &series)
    };
    let bars = BarChart {
        title: hostile,
        labels: &labels,
        values: &[1.0, 2.0],
        unit: hostile,
        links: None,
    };

    for svg in [line_chart(&chart), bar_chart(&bars), sparkline(&[1.0, 2.0], hostile)] {
        assert_safe(&svg);
        assert!(!svg.as_str().contains("<script"), "unescaped in {svg}");
        let doc = parse(&svg);
        assert_eq!(tagged(&doc, "title")[0].text(), Some(hostile));
        if !svg.as_str().contains("sparkline") {
            let texts = all_texts(&doc);
            assert!(texts.iter().any(|t| t == hostile), "{hostile} not among {texts:?}");
            assert!(texts.iter().any(|t| t == short), "{short} not among {texts:?}");
        }
    }
}

#[test]
fn control_characters_in_labels_keep_the_markup_well_formed() {
    let odd = "a\u{0}b\u{1b}[31m\u{7}c\u{FFFE}\td";
    let labels = vec![odd.to_owned()];
    let series = [Series { label: odd, values: &[1.0] }];

    let svg = line_chart(&LineChart { title: odd, ..line(&labels, &series) });

    assert_safe(&svg);
    assert_eq!(tagged(&parse(&svg), "title")[0].text(), Some("ab[31mc d"));
}

#[test]
fn a_polyline_has_one_point_per_value() {
    let labels = weeks(12);
    let created: Vec<f64> = (0..12).map(f64::from).collect();
    let resolved: Vec<f64> = (0..12).map(|i| f64::from(12 - i)).collect();
    let series = [
        Series { label: "created", values: &created },
        Series { label: "resolved", values: &resolved },
    ];

    let svg = line_chart(&line(&labels, &series));

    assert_eq!(point_counts(&parse(&svg)), [12, 12]);
}

#[test]
fn nan_splits_a_line_into_two_polylines() {
    let labels = weeks(6);
    let values = [1.0, 2.0, f64::NAN, 4.0, 5.0, 6.0];
    let series = [Series { label: "created", values: &values }];

    let svg = line_chart(&line(&labels, &series));

    assert_safe(&svg);
    assert_eq!(point_counts(&parse(&svg)), [2, 3]);
}

#[test]
fn infinite_values_leave_gaps_like_nan() {
    let labels = weeks(5);
    let values = [1.0, f64::INFINITY, 3.0, f64::NEG_INFINITY, 5.0];
    let series = [Series { label: "created", values: &values }];

    let svg = line_chart(&line(&labels, &series));

    assert_safe(&svg);
    assert_eq!(point_counts(&parse(&svg)), [1, 1, 1]);
    assert_eq!(y_ticks(&svg), ["0", "2", "4", "6"]);
}

#[test]
fn y_ticks_are_round_values_covering_the_data() {
    let labels = weeks(5);
    let values = [0.0, 3.0, 7.0, 12.0, 18.0];
    let series = [Series { label: "created", values: &values }];

    let svg = line_chart(&line(&labels, &series));

    assert_eq!(y_ticks(&svg), ["0", "5", "10", "15", "20"]);
}

#[test]
fn whole_counts_never_get_fractional_ticks() {
    let labels = weeks(4);
    let small = [Series { label: "created", values: &[0.0, 1.0, 1.0, 2.0] }];
    let constant = [Series { label: "created", values: &[1.0, 1.0, 1.0, 1.0] }];

    assert_eq!(y_ticks(&line_chart(&line(&labels, &small))), ["0", "1", "2"]);
    assert_eq!(y_ticks(&line_chart(&line(&labels, &constant))), ["0", "1"]);
}

#[test]
fn fractional_values_get_decimal_ticks() {
    let labels = weeks(2);
    let series = [Series { label: "days", values: &[0.1, 0.35] }];

    let svg = line_chart(&line(&labels, &series));

    assert_eq!(y_ticks(&svg), ["0", "0.1", "0.2", "0.3", "0.4"]);
}

#[test]
fn huge_values_get_shortened_tick_labels() {
    let labels = weeks(2);
    let millions = [Series { label: "events", values: &[0.0, 3_400_000.0] }];
    let thousands = [Series { label: "events", values: &[0.0, 1234.0] }];

    assert_eq!(y_ticks(&line_chart(&line(&labels, &millions))), ["0", "1M", "2M", "3M", "4M"]);
    assert_eq!(y_ticks(&line_chart(&line(&labels, &thousands))), ["0", "500", "1k", "1.5k"]);
}

#[test]
fn negative_values_extend_the_axis_below_zero() {
    let labels = weeks(3);
    let series = [Series { label: "net change", values: &[-7.0, 0.0, 3.0] }];

    let svg = line_chart(&line(&labels, &series));

    assert_eq!(y_ticks(&svg), ["-10", "-5", "0", "5"]);
}

#[test]
fn all_zeros_draw_a_flat_line_on_a_zero_to_one_axis() {
    let labels = weeks(4);
    let series = [Series { label: "reopened", values: &[0.0; 4] }];

    let svg = line_chart(&line(&labels, &series));

    assert_safe(&svg);
    assert_eq!(y_ticks(&svg), ["0", "1"]);
    let doc = parse(&svg);
    let points = tagged(&doc, "polyline")[0].attribute("points").unwrap_or("").to_owned();
    let ys: Vec<&str> =
        points.split_whitespace().map(|p| p.split(',').nth(1).unwrap_or("")).collect();
    assert!(ys.windows(2).all(|w| w[0] == w[1]), "not flat: {points}");
}

#[test]
fn a_single_point_is_centred_and_marked() {
    let labels = weeks(1);
    let series = [Series { label: "created", values: &[4.0] }];

    let svg = line_chart(&line(&labels, &series));

    assert_safe(&svg);
    let doc = parse(&svg);
    assert_eq!(point_counts(&doc), [1]);
    assert_eq!(classed(&doc, "markers").len(), 1);
    let points = tagged(&doc, "polyline")[0].attribute("points").unwrap_or("").to_owned();
    let x: f64 = points.split(',').next().and_then(|x| x.parse().ok()).unwrap_or(0.0);
    assert!((200.0..280.0).contains(&x), "single point at x {x}");
}

#[test]
fn no_data_draws_the_empty_state() {
    let labels = weeks(3);
    let gaps = [Series { label: "created", values: &[f64::NAN; 3] }];
    let bar_labels = vec!["core".to_owned()];
    let no_bars = BarChart { title: "Areas", labels: &[], values: &[], unit: "bugs", links: None };

    for svg in [
        line_chart(&line(&[], &gaps)),
        line_chart(&line(&labels, &[])),
        line_chart(&line(&labels, &gaps)),
        bar_chart(&no_bars),
        bar_chart(&BarChart { labels: &bar_labels, values: &[f64::NAN], ..no_bars }),
    ] {
        assert_safe(&svg);
        let doc = parse(&svg);
        assert!(all_texts(&doc).iter().any(|t| t == "No data to show"), "no empty state: {svg}");
        assert!(tagged(&doc, "polyline").is_empty() && tagged(&doc, "rect").len() == 1);
    }
}

#[test]
fn mismatched_lengths_are_cut_to_the_shorter() {
    let labels = weeks(5);
    let links = vec!["/a".to_owned(), "/b".to_owned()];
    let series = [
        Series { label: "short", values: &[1.0, 2.0, 3.0] },
        Series { label: "long", values: &[1.0; 8] },
    ];
    let chart = LineChart {
        band: Some(Band { label: "interval", low: &[0.0; 5], high: &[2.0, 2.0] }),
        point_links: Some(&links),
        ..line(&labels, &series)
    };

    let svg = line_chart(&chart);

    assert_safe(&svg);
    let doc = parse(&svg);
    assert_eq!(point_counts(&doc), [3, 5]);
    let polygon = tagged(&doc, "polygon")[0].attribute("points").unwrap_or("").to_owned();
    assert_eq!(polygon.split_whitespace().count(), 4);
    assert_eq!(hrefs(&doc), ["/a", "/b"]);
    let bars =
        BarChart { title: "Areas", labels: &labels, values: &[1.0, 2.0], unit: "", links: None };
    assert_eq!(classed(&parse(&bar_chart(&bars)), "bar").len(), 2);
}

#[test]
fn a_band_with_gaps_draws_one_area_per_run_and_a_legend_entry() {
    let labels = weeks(8);
    let values = [2.0; 8];
    let nan = f64::NAN;
    let low = [1.0, 1.0, nan, nan, 2.0, 2.0, 2.0, 1.0];
    let high = [3.0, 3.0, nan, 5.0, 4.0, 4.0, 4.0, nan];
    let series = [
        Series { label: "created", values: &values },
        Series { label: "resolved", values: &values },
    ];
    let band = Band { label: "resolved, 80% interval", low: &low, high: &high };

    let svg = line_chart(&LineChart { band: Some(band), ..line(&labels, &series) });

    assert_safe(&svg);
    let doc = parse(&svg);
    let counts: Vec<usize> = tagged(&doc, "polygon")
        .iter()
        .map(|p| p.attribute("points").unwrap_or("").split_whitespace().count())
        .collect();
    assert_eq!(counts, [4, 6]);
    let area = classed(&doc, "band")[0];
    assert_eq!(area.attribute("fill"), Some(OKABE_ITO[1]), "the band takes its series' colour");
    assert_eq!(area.attribute("fill-opacity"), Some("0.2"));
    let legend = texts_under(classed(&doc, "legend")[0]);
    assert_eq!(legend, ["created", "resolved", "resolved, 80% interval"]);
}

#[test]
fn links_are_kept_only_for_safe_hrefs() {
    let candidates = [
        "/issues?period=2024-W01&status=open",
        "https://jira.example/browse/BUG-1",
        "HTTP://jira.example/browse/BUG-2",
        "javascript:alert(1)",
        "//evil.example/x",
        "/\\evil.example",
        "/\t/evil.example",
        "data:text/html,x",
        " /leading-space",
        "https://",
        "",
    ];
    let links: Vec<String> = candidates.iter().map(|c| (*c).to_owned()).collect();
    let labels = weeks(links.len());
    let values = vec![1.0; links.len()];
    let series = [Series { label: "created", values: &values }];
    let safe = &candidates[..3];

    let line_svg = line_chart(&LineChart { point_links: Some(&links), ..line(&labels, &series) });
    let bars = BarChart {
        title: "Areas",
        labels: &labels,
        values: &values,
        unit: "bugs",
        links: Some(&links),
    };
    let bar_svg = bar_chart(&bars);

    assert_eq!(hrefs(&parse(&line_svg)), safe);
    assert_eq!(hrefs(&parse(&bar_svg)), safe);
    assert!(line_svg.as_str().contains("period=2024-W01&amp;status=open"));
}

#[test]
fn dense_charts_link_their_labels_and_thin_their_markers() {
    let labels = weeks(260);
    let values: Vec<f64> = (0..260).map(|i| f64::from(i % 9)).collect();
    let links: Vec<String> = labels.iter().map(|l| format!("/issues?period={l}")).collect();
    let series = [Series { label: "created", values: &values }];

    let svg = line_chart(&LineChart { point_links: Some(&links), ..line(&labels, &series) });

    let doc = parse(&svg);
    assert!(classed(&doc, "hits").is_empty(), "no tooltip per point past 60 points");
    let shown = texts_under(classed(&doc, "x-axis")[0]);
    let linked: Vec<String> =
        hrefs(&doc).iter().map(|h| h.replace("/issues?period=", "")).collect();
    assert_eq!(linked, shown, "the links sit on the labels shown");
    let markers = classed(&doc, "markers")[0].attribute("d").unwrap_or("").matches('M').count();
    assert!(markers <= shown.len() + 1, "{markers} markers for {} labels", shown.len());
}

#[test]
fn sparse_charts_have_a_tooltip_per_period() {
    let labels = weeks(3);
    let series = [Series { label: "created", values: &[1.0, f64::NAN, 3.0] }];

    let svg = line_chart(&line(&labels, &series));

    let doc = parse(&svg);
    let tips: Vec<String> = classed(&doc, "hits")[0]
        .descendants()
        .filter(|n| n.has_tag_name("title"))
        .filter_map(|n| n.text().map(str::to_owned))
        .collect();
    assert_eq!(tips, ["2020-W01 — created: 1", "2020-W02 — created: n/a", "2020-W03 — created: 3"]);
}

#[test]
fn period_labels_never_overlap() {
    for count in [2, 5, 13, 60, 61, 104, 260, 520] {
        let labels = weeks(count);
        let values = vec![1.0; count];
        let series = [Series { label: "created", values: &values }];

        let svg = line_chart(&line(&labels, &series));

        let doc = parse(&svg);
        let axis = classed(&doc, "x-axis")[0];
        let texts: Vec<Node<'_, '_>> =
            axis.descendants().filter(|n| n.has_tag_name("text")).collect();
        let shown: Vec<String> = texts.iter().map(|t| own_text(*t)).collect();
        assert_eq!(shown.last(), labels.last(), "the latest period is always labelled");
        let xs: Vec<f64> =
            texts.iter().filter_map(|t| t.attribute("x")).filter_map(|x| x.parse().ok()).collect();
        let width = text_width("2020-W01", 12.0);
        for pair in xs.windows(2) {
            assert!(pair[1] - pair[0] >= width, "{count} periods: labels at {pair:?} overlap");
        }
    }
}

#[test]
fn five_years_of_two_series_with_a_band_stay_small() {
    let labels = weeks(260);
    let created: Vec<f64> = (0..260).map(|i| f64::from((i * 7919) % 53)).collect();
    let resolved: Vec<f64> = (0..260).map(|i| f64::from((i * 104_729) % 47)).collect();
    let low: Vec<f64> = created.iter().map(|v| v * 0.7).collect();
    let high: Vec<f64> = created.iter().map(|v| v * 1.3 + 2.5).collect();
    let links: Vec<String> =
        labels.iter().map(|l| format!("/projects/CORE/issues?period={l}")).collect();
    let series = [
        Series { label: "created", values: &created },
        Series { label: "resolved", values: &resolved },
    ];
    let band = Band { label: "created, 80% interval", low: &low, high: &high };
    let chart = LineChart { band: Some(band), point_links: Some(&links), ..line(&labels, &series) };

    let svg = line_chart(&chart);
    let short = line_chart(&LineChart { x_labels: &labels[..26], ..chart });

    assert_safe(&svg);
    eprintln!(
        "line chart sizes: 260 weeks, 2 series, band, links: {} bytes; 26 weeks: {} bytes",
        svg.as_str().len(),
        short.as_str().len()
    );
    assert!(svg.as_str().len() < 40_000, "{} bytes", svg.as_str().len());
}

#[test]
fn coordinates_have_at_most_one_decimal() {
    let labels = weeks(7);
    let values = [1.0 / 3.0, 2.0 / 3.0, 0.123_456, 9.87654, 3.33333, 7.0, 0.5];
    let series = [Series { label: "days", values: &values }];

    let svg = line_chart(&line(&labels, &series));

    let doc = parse(&svg);
    for node in doc.descendants().filter(Node::is_element) {
        for attribute in ["x", "y", "width", "height", "points", "d"] {
            let Some(value) = node.attribute(attribute) else { continue };
            let numbers = value.split(|c: char| !(c.is_ascii_digit() || c == '.'));
            for number in numbers.filter(|n| n.contains('.')) {
                let decimals = number.len() - number.find('.').unwrap_or(0) - 1;
                assert!(decimals <= 1, "{attribute}={value} has {number}");
            }
        }
    }
}

#[test]
fn series_differ_in_colour_dash_and_marker() {
    let labels = weeks(4);
    let values = [1.0, 2.0, 3.0, 4.0];
    let series: Vec<Series<'_>> =
        ["created", "resolved", "open"].map(|label| Series { label, values: &values }).to_vec();

    let svg = line_chart(&line(&labels, &series));

    let doc = parse(&svg);
    let groups = classed(&doc, "series");
    let colours: Vec<&str> = groups.iter().filter_map(|g| g.attribute("stroke")).collect();
    assert_eq!(colours, OKABE_ITO[..3]);
    let dashes: Vec<Option<&str>> =
        groups.iter().map(|g| g.attribute("stroke-dasharray")).collect();
    assert!(dashes[0].is_none() && dashes[1].is_some() && dashes[1] != dashes[2]);
    let shapes: Vec<String> = classed(&doc, "markers")
        .iter()
        .map(|m| m.attribute("d").unwrap_or("").chars().filter(char::is_ascii_alphabetic).collect())
        .collect();
    assert!(shapes[0] != shapes[1] && shapes[1] != shapes[2] && shapes[0] != shapes[2]);
}

#[test]
fn the_same_chart_gives_the_same_markup_and_different_charts_different_ids() {
    let labels = weeks(3);
    let series = [Series { label: "created", values: &[1.0, 2.0, 3.0] }];
    let chart = line(&labels, &series);

    let first = line_chart(&chart);
    let again = line_chart(&chart);
    let other = line_chart(&LineChart { title: "Other", ..chart });

    assert_eq!(first, again);
    let id = |svg: &Svg| parse(svg).root_element().attribute("aria-labelledby").map(str::to_owned);
    assert_ne!(id(&first), id(&other));
    assert_ne!(id(&sparkline(&[], "a")), id(&sparkline(&[], "b")));
}

#[test]
fn long_bar_labels_are_cut_at_28_characters_with_the_full_text_in_the_title() {
    let long = "Authentication/session management (SSO)";
    let labels = vec![long.to_owned(), "ui".to_owned()];
    let bars =
        BarChart { title: "Bugs", labels: &labels, values: &[7.0, 3.0], unit: "bugs", links: None };

    let svg = bar_chart(&bars);

    assert_safe(&svg);
    let doc = parse(&svg);
    let shown: Vec<String> = classed(&doc, "bar-label").into_iter().map(own_text).collect();
    assert_eq!(shown[0].chars().count(), 28);
    assert!(shown[0].ends_with('…') && long.starts_with(shown[0].trim_end_matches('…')));
    assert_eq!(shown[1], "ui");
    let tooltip = classed(&doc, "bar")[0].children().find(|n| n.has_tag_name("title"));
    assert_eq!(tooltip.and_then(|t| t.text()), Some(format!("{long}: 7 bugs").as_str()));
}

#[test]
fn bars_keep_the_given_order_and_show_values_at_their_ends() {
    let labels = vec!["core".to_owned(), "ui".to_owned(), "api".to_owned()];
    let bars = BarChart {
        title: "Bugs",
        labels: &labels,
        values: &[5.0, 12.0, 3.0],
        unit: "bugs",
        links: None,
    };

    let svg = bar_chart(&bars);

    let doc = parse(&svg);
    let labels: Vec<String> = classed(&doc, "bar-label").into_iter().map(own_text).collect();
    assert_eq!(labels, ["core", "ui", "api"]);
    let number =
        |n: Node<'_, '_>, a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap();
    let rects = tagged(&doc, "rect");
    let values = classed(&doc, "bar-value");
    assert_eq!(values.iter().map(|v| own_text(*v)).collect::<Vec<_>>(), ["5", "12", "3"]);
    assert!(rects.windows(2).all(|w| number(w[0], "y") < number(w[1], "y")));
    for (rect, value) in rects.iter().zip(&values) {
        let end = number(*rect, "x") + number(*rect, "width");
        assert!(number(*value, "x") > end, "value label inside its bar");
    }
    assert!(number(rects[1], "width") > number(rects[0], "width"));
}

#[test]
fn negative_bars_extend_left_of_zero() {
    let labels = vec!["gained".to_owned(), "lost".to_owned()];
    let bars = BarChart {
        title: "Change",
        labels: &labels,
        values: &[4.0, -6.0],
        unit: "bugs",
        links: None,
    };

    let svg = bar_chart(&bars);

    assert_safe(&svg);
    let doc = parse(&svg);
    let number =
        |n: Node<'_, '_>, a: &str| n.attribute(a).and_then(|v| v.parse::<f64>().ok()).unwrap();
    let rects = tagged(&doc, "rect");
    let zero = number(rects[0], "x");
    assert!((number(rects[1], "x") + number(rects[1], "width") - zero).abs() < 0.2);
    let values = classed(&doc, "bar-value");
    assert_eq!(values[1].attribute("text-anchor"), Some("end"));
    assert!(number(values[1], "x") < number(rects[1], "x"));
    let ticks = texts_under(classed(&doc, "x-axis")[0]);
    assert!(ticks.first().is_some_and(|t| t.starts_with('-')), "ticks {ticks:?}");
}

#[test]
fn a_sparkline_is_one_polyline_and_a_dot_with_a_name() {
    let values = [3.0, 5.0, 2.0, 8.0, 6.0];

    let svg = sparkline(&values, "created per week");

    assert_safe(&svg);
    let doc = parse(&svg);
    let root = doc.root_element();
    assert_eq!(root.attribute("viewBox"), Some("0 0 100 24"));
    assert_eq!(point_counts(&doc), [5]);
    assert_eq!(tagged(&doc, "circle").len(), 1);
    assert_eq!(tagged(&doc, "title")[0].text(), Some("created per week"));
    assert!(tagged(&doc, "text").is_empty(), "no axes or labels in a sparkline");
}

#[test]
fn sparkline_edge_cases_stay_drawable() {
    let cases: [&[f64]; 5] = [&[], &[4.0], &[0.0; 3], &[1.0, f64::NAN, 2.0, 3.0], &[f64::NAN]];
    for values in cases {
        let svg = sparkline(values, "trend");

        assert_safe(&svg);
        let finite = values.iter().filter(|v| v.is_finite()).count();
        assert_eq!(point_counts(&parse(&svg)).iter().sum::<usize>(), finite);
    }
    assert_eq!(point_counts(&parse(&sparkline(&[1.0, f64::NAN, 2.0, 3.0], "t"))), [1, 2]);
}

#[test]
fn tick_and_value_labels_read_like_a_person_would_write_them() {
    assert_eq!(tick_label(1200.0, 200.0), "1.2k");
    assert_eq!(tick_label(3_000_000.0, 1_000_000.0), "3M");
    assert_eq!(tick_label(2_500_000_000.0, 500_000_000.0), "2.5B");
    assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
    assert_eq!(tick_label(-5.0, 5.0), "-5");
    assert_eq!(value_label(1234.0), "1234");
    assert_eq!(value_label(12_345.0), "12.3k");
    assert_eq!(value_label(3_400_000.0), "3.4M");
    assert_eq!(value_label(999_999.0), "1M");
    assert_eq!(value_label(4.56789), "4.57");
    assert_eq!(value_label(-0.001), "0");
    assert_eq!(value_label(f64::NAN), "n/a");
}

#[test]
fn coordinates_and_text_are_written_compactly_and_safely() {
    assert_eq!(C(3.0).to_string(), "3");
    assert_eq!(C(1.25).to_string(), "1.3");
    assert_eq!(C(-0.04).to_string(), "0");
    assert_eq!(C(-12.34).to_string(), "-12.3");
    assert_eq!(C(f64::NAN).to_string(), "0");
    assert_eq!(Esc("a<b>&\"c'").to_string(), "a&lt;b&gt;&amp;&quot;c&#39;");
    assert_eq!(safe_href("/x"), Some("/x"));
    assert_eq!(safe_href("//x"), None);
}
