//! Charts as inline SVG, drawn here: horizontal bars, stacked columns and
//! lines, with their axis labels and a legend. Colours come from the
//! page's stylesheet (classes `s0`..`s7`, text in `currentColor`), so one
//! chart reads on paper and on a dark screen. Every label is escaped.

use crate::html::escape;
use crate::{Chart, Kind};
use std::fmt::Write;

const WIDTH: f64 = 720.0;
/// Series colours (classes) before they repeat.
const COLOURS: usize = 8;
/// The most labels drawn along an axis; the rest are in the table.
const MAX_BARS: usize = 25;

/// The chart as one `<svg>` element (or a note that it has no data).
pub fn render(c: &Chart) -> String {
    if c.labels.is_empty() || c.series.iter().all(|s| s.values.iter().all(|v| *v == 0)) {
        return format!(
            "<p class=\"empty\" data-chart=\"{}\">No data for this chart in the period.</p>",
            escape(&c.title)
        );
    }
    match c.kind {
        Kind::Bars => bars(c),
        Kind::Stacked => stacked(c),
        Kind::Lines => lines(c),
    }
}

/// A round maximum for an axis at or above `max`.
fn nice(max: i64) -> i64 {
    let max = max.max(1);
    let mag = 10i64.pow((max as f64).log10().floor() as u32);
    for step in [1, 2, 5, 10] {
        if step * mag >= max {
            return step * mag;
        }
    }
    10 * mag
}

fn open(out: &mut String, c: &Chart, height: f64) {
    let _ = write!(
        out,
        "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {WIDTH} {height}\" width=\"{WIDTH}\" height=\"{height}\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title>{}</title>",
        escape(&c.title)
    );
}

fn legend(out: &mut String, c: &Chart, y: f64) {
    if c.series.len() < 2 {
        return;
    }
    let mut x = 60.0;
    for (i, s) in c.series.iter().enumerate() {
        let name = escape(&shorten(&s.name, 24));
        let _ = write!(
            out,
            "<rect class=\"s{}\" x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\">{name}</text>",
            i % COLOURS,
            y - 9.0,
            x + 14.0,
            y
        );
        x += 24.0 + 7.0 * s.name.chars().count().min(24) as f64;
        if x > WIDTH - 80.0 {
            break;
        }
    }
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n - 1).collect::<String>() + "…"
    } else {
        s.to_string()
    }
}

/// One bar per label (the first series), longest first as given.
fn bars(c: &Chart) -> String {
    let values = &c.series[0].values;
    let n = c.labels.len().min(MAX_BARS);
    let row = 22.0;
    let height = 20.0 + row * n as f64;
    let max = nice(values.iter().copied().max().unwrap_or(1));
    let (left, right) = (220.0, WIDTH - 70.0);
    let mut out = String::new();
    open(&mut out, c, height);
    for (i, (label, v)) in c.labels.iter().zip(values).take(n).enumerate() {
        let y = 10.0 + row * i as f64;
        let w = (right - left) * (*v as f64) / max as f64;
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect class=\"s0\" x=\"{left}\" y=\"{y}\" width=\"{w:.1}\" height=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{v}</text>",
            left - 6.0,
            y + 14.0,
            escape(&shorten(label, 32)),
            row - 6.0,
            left + w + 4.0,
            y + 14.0
        );
    }
    out.push_str("</svg>");
    out
}

/// Columns per label, the series stacked.
fn stacked(c: &Chart) -> String {
    let skip = c.labels.len().saturating_sub(60);
    let labels = &c.labels[skip..];
    let n = labels.len();
    let height = 260.0;
    let (top, bottom, left, right) = (30.0, 200.0, 60.0, WIDTH - 20.0);
    let totals: Vec<i64> = (skip..c.labels.len())
        .map(|i| c.series.iter().map(|s| s.values[i]).sum())
        .collect();
    let max = nice(totals.iter().copied().max().unwrap_or(1));
    let slot = (right - left) / n as f64;
    let mut out = String::new();
    open(&mut out, c, height);
    axis(&mut out, max, top, bottom, left, right);
    for (j, i) in (skip..c.labels.len()).enumerate() {
        let mut y = bottom;
        let x = left + slot * j as f64 + slot * 0.1;
        for (k, s) in c.series.iter().enumerate() {
            let h = (bottom - top) * s.values[i] as f64 / max as f64;
            if h > 0.0 {
                y -= h;
                let _ = write!(
                    out,
                    "<rect class=\"s{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\"><title>{}: {} {}</title></rect>",
                    k % COLOURS,
                    slot * 0.8,
                    escape(&c.labels[i]),
                    s.values[i],
                    escape(&s.name)
                );
            }
        }
    }
    x_labels(&mut out, labels, left, slot, bottom);
    if skip > 0 {
        let _ = write!(
            out,
            "<text x=\"{left}\" y=\"14\" font-size=\"11\">the last {n} of {} (all are in the table)</text>",
            c.labels.len()
        );
    }
    legend(&mut out, c, height - 8.0);
    out.push_str("</svg>");
    out
}

/// One line per series.
fn lines(c: &Chart) -> String {
    let n = c.labels.len();
    let height = 260.0;
    let (top, bottom, left, right) = (30.0, 200.0, 60.0, WIDTH - 20.0);
    let max = nice(
        c.series
            .iter()
            .flat_map(|s| s.values.iter().copied())
            .max()
            .unwrap_or(1),
    );
    let slot = (right - left) / n as f64;
    let mut out = String::new();
    open(&mut out, c, height);
    axis(&mut out, max, top, bottom, left, right);
    for (k, s) in c.series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                format!(
                    "{:.1},{:.1}",
                    left + slot * (i as f64 + 0.5),
                    bottom - (bottom - top) * *v as f64 / max as f64
                )
            })
            .collect();
        let _ = write!(
            out,
            "<polyline class=\"l{}\" fill=\"none\" stroke-width=\"2\" points=\"{}\"/>",
            k % COLOURS,
            points.join(" ")
        );
    }
    x_labels(&mut out, &c.labels, left, slot, bottom);
    legend(&mut out, c, height - 8.0);
    out.push_str("</svg>");
    out
}

/// The value axis: gridlines at quarters of `max`.
fn axis(out: &mut String, max: i64, top: f64, bottom: f64, left: f64, right: f64) {
    for q in 0..=4 {
        let y = bottom - (bottom - top) * q as f64 / 4.0;
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{right}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/>\
             <text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
            left - 6.0,
            y + 4.0,
            max * q / 4
        );
    }
}

/// Some of the labels along the bottom (at most eight, evenly spaced).
fn x_labels(out: &mut String, labels: &[String], left: f64, slot: f64, bottom: f64) {
    let every = labels.len().div_ceil(8).max(1);
    for (i, l) in labels.iter().enumerate().step_by(every) {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            left + slot * (i as f64 + 0.5),
            bottom + 16.0,
            escape(&shorten(l, 14))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Series;

    #[test]
    fn labels_are_escaped_and_bars_drawn() {
        let c = Chart {
            title: "t".into(),
            kind: Kind::Bars,
            labels: vec!["<script>alert(1)</script>".into(), "b".into()],
            series: vec![Series {
                name: "n".into(),
                values: vec![3, 1],
            }],
        };
        let svg = render(&c);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(nice(0), 1);
        assert_eq!(nice(7), 10);
        assert_eq!(nice(130), 200);
    }
}
