//! The figure's arrangement: the loss and the accuracy panels side by side and, when runs
//! recorded blocks rows, under them one gradient flow panel per such run, side by side on
//! one scale.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, WHITE};

use super::chart::fail;
use super::gradient::{self, Scale};
use super::series::RunCurves;
use super::training::{self, Panel};

/// A panel's default width and height, in pixels.
const PANEL: (u32, u32) = (640, 480);

/// The runs that have a gradient flow panel.
pub(super) fn flows(runs: &[RunCurves]) -> Vec<&RunCurves> {
    runs.iter().filter(|r| !r.gradients.is_empty()).collect()
}

/// The image's default size: two panels wide, or one per gradient flow panel when there are
/// more; one row, or two with gradient flow panels.
pub fn default_size(runs: &[RunCurves]) -> (u32, u32) {
    let flows = flows(runs).len() as u32;
    (PANEL.0 * flows.max(2), PANEL.1 * if flows > 0 { 2 } else { 1 })
}

/// Draws the figure of `runs` on `root`.
pub fn figure<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, runs: &[RunCurves]) -> Result<(), String> {
    root.fill(&WHITE).map_err(fail)?;
    let flows = flows(runs);
    let (top, bottom) = match flows.len() {
        0 => (root.clone(), None),
        _ => {
            let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 / 2);
            (top, Some(bottom))
        }
    };
    let (loss, accuracy) = top.split_horizontally(top.dim_in_pixel().0 / 2);
    training::panel(&loss, runs, Panel::Loss)?;
    training::panel(&accuracy, runs, Panel::Accuracy)?;
    if let Some(bottom) = bottom {
        let scale = Scale::of(&flows);
        for (area, run) in bottom.split_evenly((1, flows.len())).iter().zip(&flows) {
            gradient::panel(area, run, &scale)?;
        }
    }
    root.present().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::gradient::tests::run;

    #[test]
    fn gradient_flow_panels_take_a_second_row_one_panel_per_run() {
        let (with, without) = (|| run(&[(0.1, &[1.0, 0.5])]), || run(&[]));
        assert_eq!(default_size(&[without()]), (1280, 480));
        assert_eq!(default_size(&[with(), without()]), (1280, 960));
        assert_eq!(default_size(&[with(), with()]), (1280, 960));
        assert_eq!(default_size(&[with(), with(), with()]), (1920, 960));
    }
}
