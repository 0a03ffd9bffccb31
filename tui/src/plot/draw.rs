//! Drawing the curves with plotters, on any backend: d2l's `train_ch6` panel (train loss,
//! train acc, test acc against epoch) and, when the runs recorded blocks rows, a panel of
//! each block's gradient norm on a log axis beside it.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::legend;
use super::series::{Points, RunCurves};
use super::style::FONT;

/// How a line is drawn: d2l's `-`, `--` and `-.` (here dotted).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Dash {
    /// An unbroken line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dashes, close together.
    Dotted,
}

impl Dash {
    /// The three styles, cycled through by the runs of the gradient panel.
    const ALL: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];

    /// Dash and gap lengths in pixels (a solid legend glyph is one dash).
    fn pattern(self) -> (i32, i32) {
        match self {
            Dash::Solid => (LEGEND_GLYPH + 1, 1),
            Dash::Dashed => (8, 5),
            Dash::Dotted => (2, 4),
        }
    }
}

/// A curve of the training panel.
#[derive(Clone, Copy, Debug)]
enum Metric {
    /// Mean training loss.
    TrainLoss,
    /// Training accuracy.
    TrainAcc,
    /// Test accuracy.
    TestAcc,
}

impl Metric {
    /// The three, in d2l's legend order.
    const ALL: [Metric; 3] = [Metric::TrainLoss, Metric::TrainAcc, Metric::TestAcc];

    /// d2l's legend text.
    fn name(self) -> &'static str {
        match self {
            Metric::TrainLoss => "train loss",
            Metric::TrainAcc => "train acc",
            Metric::TestAcc => "test acc",
        }
    }

    /// The run's points of this metric.
    fn points(self, run: &RunCurves) -> &Points {
        match self {
            Metric::TrainLoss => &run.train_loss,
            Metric::TrainAcc => &run.train_acc,
            Metric::TestAcc => &run.test_acc,
        }
    }

    /// d2l's line style (`-`, `m--`, `g-.`).
    fn dash(self) -> Dash {
        match self {
            Metric::TrainLoss => Dash::Solid,
            Metric::TrainAcc => Dash::Dashed,
            Metric::TestAcc => Dash::Dotted,
        }
    }

    /// d2l's colour, for a figure of one run (matplotlib's C0, `m`, `g`).
    fn colour(self) -> RGBColor {
        match self {
            Metric::TrainLoss => RGBColor(0x1f, 0x77, 0xb4),
            Metric::TrainAcc => RGBColor(0xbf, 0x00, 0xbf),
            Metric::TestAcc => RGBColor(0x00, 0x80, 0x00),
        }
    }
}

/// Length of a legend entry's line, in pixels.
const LEGEND_GLYPH: i32 = 24;

/// One colour per run when several are compared (matplotlib's tab10).
const RUN_COLOURS: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// With more blocks than this, only the first and last block of each run are in the legend.
const LABELLED_BLOCKS: usize = 8;

/// Whether any run has a gradient-norm curve (and so the image has two panels).
pub fn has_blocks(runs: &[RunCurves]) -> bool {
    runs.iter().any(|r| !r.blocks.is_empty())
}

/// Draws the figure on `root`: the training panel, and the gradient panel to its right when
/// any run has blocks rows.
pub fn figure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, runs: &[RunCurves]) -> Result<(), String> {
    root.fill(&WHITE).map_err(fail)?;
    if has_blocks(runs) {
        let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
        training_panel(&left, runs)?;
        gradient_panel(&right, runs)?;
    } else {
        training_panel(root, runs)?;
    }
    root.present().map_err(fail)
}

/// d2l's `train_ch6` figure: train loss, train acc and test acc against epoch. One run
/// takes d2l's colours; several take a colour each, the metric told by the line style.
fn training_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunCurves],
) -> Result<(), String> {
    let title = match runs {
        [run] => format!("{}: loss and accuracy", run.label),
        _ => "loss and accuracy".to_string(),
    };
    let (x0, x1) = epoch_range(runs.iter().flat_map(|r| r.epochs()));
    let top = runs
        .iter()
        .flat_map(|r| Metric::ALL.iter().flat_map(move |m| m.points(r).iter().map(|p| p.1)))
        .fold(1.0f64, f64::max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(48)
        .build_cartesian_2d(x0..x1, 0.0..top * 1.05)
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(fail)?;
    let mut curves = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        for metric in Metric::ALL {
            let (colour, label) = match runs {
                [_] => (metric.colour(), metric.name().to_string()),
                _ => (RUN_COLOURS[i % RUN_COLOURS.len()], format!("{} · {}", run.label, metric.name())),
            };
            curves.push(Curve { points: metric.points(run), dash: metric.dash(), colour, label });
        }
    }
    draw_curves(&mut chart, &curves)
}

/// Each block's gradient norm against epoch on a log axis, coloured from the input (blue)
/// to the output (red); several runs are told apart by line style.
fn gradient_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunCurves],
) -> Result<(), String> {
    let title = match runs {
        [run] => format!("{}: gradient norm per block", run.label),
        _ => "gradient norm per block".to_string(),
    };
    let points = || runs.iter().flat_map(|r| r.blocks.iter().flat_map(|b| b.grad_norm.iter()));
    let (x0, x1) = epoch_range(points().map(|p| p.0));
    let low = points().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let high = points().map(|p| p.1).fold(0.0, f64::max);
    let (low, high) = if low < high { (low / 1.5, high * 1.5) } else { (low / 10.0, low * 10.0) };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, (low..high).log_scale())
        .map_err(fail)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("gradient L2 norm")
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 15))
        .light_line_style(RGBColor(0xee, 0xee, 0xee))
        .draw()
        .map_err(fail)?;
    let mut curves = Vec::new();
    for (r, run) in runs.iter().enumerate() {
        let dash = Dash::ALL[r % Dash::ALL.len()];
        let count = run.blocks.len();
        for (i, block) in run.blocks.iter().enumerate() {
            let labelled = count <= LABELLED_BLOCKS || i == 0 || i + 1 == count;
            let label = match (labelled, runs) {
                (false, _) => String::new(),
                (true, [_]) => block.name.clone(),
                (true, _) => format!("{} · {}", run.label, block.name),
            };
            curves.push(Curve { points: &block.grad_norm, dash, colour: gradient(i, count), label });
        }
    }
    draw_curves(&mut chart, &curves)
}

/// A curve as drawn.
struct Curve<'r> {
    /// Its points.
    points: &'r Points,
    /// Its line style.
    dash: Dash,
    /// Its colour.
    colour: RGBColor,
    /// Its legend entry (none when empty).
    label: String,
}

/// Draws the curves, then their legend where it hides the least of them.
fn draw_curves<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    curves: &[Curve<'_>],
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for curve in curves {
        let style = curve.colour.stroke_width(2);
        let (size, gap) = curve.dash.pattern();
        let points = curve.points.iter().copied();
        let series = match curve.dash {
            Dash::Solid => chart.draw_series(LineSeries::new(points, style)),
            _ => chart.draw_series(DashedLineSeries::new(points, size, gap, style)),
        }
        .map_err(fail)?;
        if !curve.label.is_empty() {
            series.label(curve.label.as_str()).legend(move |(x, y)| {
                DashedPathElement::new(vec![(x, y), (x + LEGEND_GLYPH, y)], size, gap, style)
            });
        }
    }
    let labels: Vec<&str> = curves.iter().map(|c| c.label.as_str()).filter(|l| !l.is_empty()).collect();
    let points: Vec<&Points> = curves.iter().map(|c| c.points).collect();
    let (x, y) = legend::best_spot(chart, &labels, &points);
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(x, y))
        .label_font((FONT, legend::FONT_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()
        .map_err(fail)
}

/// The x axis: from 0 (or 1 when every point is at a whole epoch ≥ 1, as d2l's axis)
/// to the last epoch.
fn epoch_range(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let start = if low >= 1.0 && low.is_finite() { 1.0 } else { 0.0 };
    let end = high.ceil().max(start + 1.0);
    (start, end)
}

/// Block `i` of `count`'s colour: blue at the input, through purple, to red at the output.
fn gradient(i: usize, count: usize) -> RGBColor {
    let t = if count > 1 { i as f64 / (count - 1) as f64 } else { 0.0 };
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * t).round() as u8;
    let (from, to) = ((0x1f, 0x4e, 0xd8), (0xe0, 0x1e, 0x2c));
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// A plotters error as one line.
fn fail(e: impl std::fmt::Display) -> String {
    format!("cannot draw the figure: {e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_axis_starts_at_one_for_whole_epochs_and_at_zero_for_steps() {
        assert_eq!(epoch_range([1.0, 2.0, 3.0].into_iter()), (1.0, 3.0));
        assert_eq!(epoch_range([0.25, 1.5].into_iter()), (0.0, 2.0));
        assert_eq!(epoch_range([1.0].into_iter()), (1.0, 2.0));
        assert_eq!(epoch_range(std::iter::empty()), (0.0, 1.0));
    }

    #[test]
    fn block_colours_run_from_blue_at_the_input_to_red_at_the_output() {
        assert_eq!(gradient(0, 5), RGBColor(0x1f, 0x4e, 0xd8));
        assert_eq!(gradient(4, 5), RGBColor(0xe0, 0x1e, 0x2c));
        assert_eq!(gradient(0, 1), RGBColor(0x1f, 0x4e, 0xd8));
        let middle = gradient(2, 5);
        assert!(middle.0 > 0x1f && middle.0 < 0xe0 && middle.2 < 0xd8 && middle.2 > 0x2c, "{middle:?}");
    }
}
