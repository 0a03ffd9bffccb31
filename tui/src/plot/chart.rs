//! What every panel shares: its frame (title, margins and axes styled alike), its curves
//! with their legend where it hides the least, and plotters' errors as one line.

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::legend;
use super::series::Points;
use super::style::{Dash, DESC_SIZE, FONT, GRID, LABEL_SIZE, LEGEND_GLYPH, LEGEND_SIZE, TITLE_SIZE};

/// Space around a panel, in pixels.
const MARGIN: u32 = 12;
/// Height of the x axis' labels and description, in pixels.
const X_AREA: u32 = 40;
/// Width of the y axis' labels and description, in pixels (the same in every panel, so
/// panels above one another line up).
const Y_AREA: u32 = 60;
/// Radius of a marked point, in pixels.
const MARK: u32 = 3;

/// An axis' description and, when not plotters' own, how its tick values read.
pub struct Axis<'f> {
    /// The description under (x) or beside (y) the axis.
    pub desc: &'f str,
    /// The tick labels' text.
    pub format: Option<&'f dyn Fn(&f64) -> String>,
}

impl<'f> Axis<'f> {
    /// An axis with plotters' tick labels.
    pub fn plain(desc: &'f str) -> Self {
        Axis { desc, format: None }
    }
}

/// A curve as drawn.
pub struct Curve {
    /// Its points, in the chart's coordinates.
    pub points: Points,
    /// Its line style.
    pub dash: Dash,
    /// Its colour.
    pub colour: RGBColor,
    /// Whether each point is marked with a dot (a solid line only).
    pub marked: bool,
    /// Its legend entry.
    pub label: String,
}

/// The width of the plotting area of a panel on `area`, in pixels.
pub fn plot_width<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> u32 {
    area.dim_in_pixel().0.saturating_sub(2 * MARGIN + Y_AREA)
}

/// A chart of `x` by `y` on `area`, titled `title`.
pub fn frame<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    title: &str,
    x: X,
    y: Y,
) -> Result<ChartContext<'a, DB, Cartesian2d<X::CoordDescType, Y::CoordDescType>>, String>
where
    DB: DrawingBackend,
    X: AsRangedCoord,
    Y: AsRangedCoord,
{
    ChartBuilder::on(area)
        .caption(title, (FONT, TITLE_SIZE))
        .margin(MARGIN)
        .x_label_area_size(X_AREA)
        .y_label_area_size(Y_AREA)
        .build_cartesian_2d(x, y)
        .map_err(fail)
}

/// Draws the chart's grid, ticks and axis descriptions.
pub fn axes<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    x: Axis<'_>,
    y: Axis<'_>,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut mesh = chart.configure_mesh();
    mesh.x_desc(x.desc)
        .y_desc(y.desc)
        .label_style((FONT, LABEL_SIZE))
        .axis_desc_style((FONT, DESC_SIZE))
        .light_line_style(GRID);
    if let Some(format) = x.format {
        mesh.x_label_formatter(format);
    }
    if let Some(format) = y.format {
        mesh.y_label_formatter(format);
    }
    mesh.draw().map_err(fail)
}

/// Draws the curves, then their legend where it hides the least of them.
pub fn curves<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    curves: &[Curve],
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for curve in curves {
        // Filled: the dots are discs (a line is never filled).
        let style = curve.colour.filled().stroke_width(2);
        let (size, gap) = curve.dash.pattern();
        let points = curve.points.iter().copied();
        let marks = if curve.marked { MARK } else { 0 };
        let series = match curve.dash {
            Dash::Solid => chart.draw_series(LineSeries::new(points, style).point_size(marks)),
            _ => chart.draw_series(DashedLineSeries::new(points, size, gap, style)),
        }
        .map_err(fail)?;
        series.label(curve.label.as_str()).legend(move |(x, y)| {
            DashedPathElement::new(vec![(x, y), (x + LEGEND_GLYPH, y)], size, gap, style)
        });
    }
    if curves.is_empty() {
        return Ok(());
    }
    let labels: Vec<&str> = curves.iter().map(|c| c.label.as_str()).collect();
    let points: Vec<&Points> = curves.iter().map(|c| &c.points).collect();
    let (x, y) = legend::best_spot(chart, &labels, &points);
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::Coordinate(x, y))
        .label_font((FONT, LEGEND_SIZE))
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xbb, 0xbb, 0xbb))
        .draw()
        .map_err(fail)
}

/// A plotters error as one line.
pub fn fail(e: impl std::fmt::Display) -> String {
    format!("cannot draw the figure: {e}")
}
