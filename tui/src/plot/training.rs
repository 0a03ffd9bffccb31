//! d2l's `train_ch6` curves on axes of their own, so the first steps' loss does not flatten
//! the accuracy: a train loss panel and an accuracy panel (train acc, test acc), against
//! epoch. One run takes d2l's colours; several take a colour each, the metric told by the
//! line style.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, RGBColor};

use super::chart::{self, Axis, Curve};
use super::series::{Points, RunCurves};
use super::style::{self, Dash};

/// A curve of the training panels.
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

/// One of the two training panels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Panel {
    /// Train loss against epoch, from 0.
    Loss,
    /// Train and test accuracy against epoch, from 0 to 1.
    Accuracy,
}

impl Panel {
    /// The panel's curves, in d2l's legend order.
    fn metrics(self) -> &'static [Metric] {
        match self {
            Panel::Loss => &[Metric::TrainLoss],
            Panel::Accuracy => &[Metric::TrainAcc, Metric::TestAcc],
        }
    }

    /// The title (after the run's name when there is one run) and the y axis' name.
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Panel::Loss => ("train loss", "loss"),
            Panel::Accuracy => ("accuracy", "accuracy"),
        }
    }
}

/// Draws panel `which` of `runs` on `area`.
pub fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    runs: &[RunCurves],
    which: Panel,
) -> Result<(), String> {
    let (name, y_desc) = which.names();
    let title = match runs {
        [run] => format!("{}: {name}", run.label),
        _ => name.to_string(),
    };
    let mut curves = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        for &metric in which.metrics() {
            let (colour, label) = match runs {
                [_] => (metric.colour(), metric.name().to_string()),
                _ => (style::run_colour(i), format!("{} · {}", run.label, metric.name())),
            };
            let points = metric.points(run).clone();
            curves.push(Curve { points, dash: metric.dash(), colour, marked: false, label });
        }
    }
    let (x0, x1) = epoch_range(runs.iter().flat_map(|r| r.epochs()));
    let top = match which {
        Panel::Loss => curves.iter().flat_map(|c| &c.points).map(|p| p.1).fold(0.0, f64::max) * 1.05,
        Panel::Accuracy => 1.0,
    };
    let top = if top > 0.0 { top } else { 1.0 };
    let mut chart = chart::frame(area, &title, x0..x1, 0.0..top)?;
    chart::axes(&mut chart, Axis::plain("epoch"), Axis::plain(y_desc))?;
    chart::curves(&mut chart, &curves)
}

/// The x axis: from 0 (or 1 when every point is at a whole epoch ≥ 1, as d2l's axis)
/// to the last epoch.
fn epoch_range(xs: impl Iterator<Item = f64>) -> (f64, f64) {
    let (low, high) = xs.fold((f64::INFINITY, 0.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    let start = if low >= 1.0 && low.is_finite() { 1.0 } else { 0.0 };
    let end = high.ceil().max(start + 1.0);
    (start, end)
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
    fn loss_and_accuracy_are_panels_of_their_own() {
        assert_eq!(Panel::Loss.metrics().len(), 1);
        let names: Vec<&str> = Panel::Accuracy.metrics().iter().map(|m| m.name()).collect();
        assert_eq!(names, ["train acc", "test acc"]);
    }
}
