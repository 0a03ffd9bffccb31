//! Where a panel's legend goes: of nine spots (corners, edge middles, centre), the one
//! whose box hides the least of the curves (matplotlib's `loc="best"`).

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::{Cartesian2d, ChartContext, DrawingBackend, MultiLineText};
use plotters::style::{IntoFont, TextStyle};

use super::series::Points;
use super::style::{FONT, LEGEND_SIZE};

/// A point in pixels (as plotters' backends take them).
type BackendCoord = (i32, i32);

/// plotters' legend layout: room for an entry's line, and the padding inside the box.
const GLYPH_AREA: i32 = 30;
const PADDING: i32 = 10;
/// Distance from the plot's edges.
const INSET: i32 = 5;
/// Curves are sampled every this many pixels along each segment.
const SAMPLE: f64 = 4.0;

/// The legend's top-left corner, in pixels from the plotting area's top-left, for entries
/// `labels` over `curves`.
pub fn best_spot<'a, DB: DrawingBackend + 'a, X, Y>(
    chart: &ChartContext<'a, DB, Cartesian2d<X, Y>>,
    labels: &[&str],
    curves: &[&Points],
) -> BackendCoord
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let font: TextStyle = (FONT, LEGEND_SIZE).into_font().into();
    let mut text = MultiLineText::<_, &str>::new((0, 0), &font);
    labels.iter().for_each(|l| text.push_line(*l));
    let (w, h) = text.estimate_dimension().unwrap_or((120, labels.len() as i32 * LEGEND_SIZE as i32));
    let area = chart.plotting_area();
    let (width, height) = area.dim_in_pixel();
    let (left, top) = area.get_base_pixel();
    let pixels: Vec<Vec<BackendCoord>> = curves
        .iter()
        .map(|c| {
            c.iter()
                .map(|p| {
                    let (x, y) = chart.backend_coord(p);
                    (x - left, y - top)
                })
                .collect()
        })
        .collect();
    choose((w + GLYPH_AREA + 2 * PADDING, h + 2 * PADDING), (width as i32, height as i32), &pixels)
}

/// The spot for a box of `size` in an area of `area` that covers the fewest samples of
/// `curves` (polylines in the area's pixels); the earlier spot on a tie: upper right first.
fn choose(size: (i32, i32), area: (i32, i32), curves: &[Vec<BackendCoord>]) -> BackendCoord {
    let xs = [area.0 - size.0 - INSET, INSET, (area.0 - size.0) / 2];
    let ys = [INSET, area.1 - size.1 - INSET, (area.1 - size.1) / 2];
    let spots = [
        (xs[0], ys[0]),
        (xs[1], ys[0]),
        (xs[0], ys[1]),
        (xs[1], ys[1]),
        (xs[0], ys[2]),
        (xs[1], ys[2]),
        (xs[2], ys[0]),
        (xs[2], ys[1]),
        (xs[2], ys[2]),
    ];
    let samples = samples(curves);
    let hidden = |&(x, y): &BackendCoord| {
        samples.iter().filter(|&&(px, py)| px >= x && px <= x + size.0 && py >= y && py <= y + size.1).count()
    };
    spots.iter().copied().min_by_key(hidden).unwrap_or(spots[0])
}

/// Points along each polyline, at most [`SAMPLE`] pixels apart.
fn samples(curves: &[Vec<BackendCoord>]) -> Vec<BackendCoord> {
    let mut out = Vec::new();
    for curve in curves {
        out.extend(curve.first());
        for pair in curve.windows(2) {
            let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
            let (dx, dy) = ((x1 - x0) as f64, (y1 - y0) as f64);
            let n = (dx.hypot(dy) / SAMPLE).ceil().max(1.0) as i32;
            out.extend((1..=n).map(|i| {
                let t = i as f64 / n as f64;
                (x0 + (dx * t).round() as i32, y0 + (dy * t).round() as i32)
            }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_it_hides_the_least() {
        let area = (400, 300);
        let size = (100, 60);
        // Nothing drawn: the first spot, upper right.
        assert_eq!(choose(size, area, &[]), (295, 5));
        // A line along the top edge: the lower right is free.
        assert_eq!(choose(size, area, &[vec![(0, 20), (400, 20)]]), (295, 235));
        // A falling loss and a rising accuracy (d2l's figure) leave the middle of the
        // right edge free.
        let loss = vec![(0, 0), (100, 200), (400, 290)];
        let acc = vec![(0, 280), (100, 60), (400, 20)];
        assert_eq!(choose(size, area, &[loss, acc]), (295, 120));
    }

    #[test]
    fn long_segments_are_sampled_along_their_length() {
        let s = samples(&[vec![(0, 0), (0, 40)]]);
        assert_eq!(s.len(), 11);
        assert_eq!(s.first(), Some(&(0, 0)));
        assert_eq!(s.last(), Some(&(0, 40)));
    }
}
