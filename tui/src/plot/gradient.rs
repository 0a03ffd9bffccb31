//! The gradient flow panels, one per run with blocks rows: its blocks' gradient norms
//! against depth (x: block, first to last; y: the norm on a log axis), one line per chosen
//! report, coloured by how far training had gone. All panels share one y scale and one
//! colour scale, so a gradient that fades with depth in one run and not in another is seen
//! without reading numbers.

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend, IntoFont};
use plotters::style::TextStyle;

use super::chart::{self, Axis, Curve};
use super::profile::GradientFlow;
use super::series::RunCurves;
use super::style::{self, Dash, FONT, LABEL_SIZE};
use super::ticks::{self, Ticks};

/// What the panels share: their decades, and the reports' places in training that set
/// the colours.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    /// The y axis' lowest and highest decade (exponents of 10).
    decades: (i32, i32),
    /// Every drawn report's place in training (in epochs), of every run, earliest first,
    /// each once.
    epochs: Vec<f64>,
}

impl Scale {
    /// The scale that shows every drawn report of `runs`.
    pub fn of(runs: &[&RunCurves]) -> Scale {
        let decades = GradientFlow::decades(runs.iter().map(|r| &r.gradients)).unwrap_or((0, 1));
        let mut epochs: Vec<f64> = runs.iter().flat_map(|r| &r.gradients.profiles).map(|p| p.epoch).collect();
        epochs.sort_by(f64::total_cmp);
        epochs.dedup();
        Scale { decades, epochs }
    }

    /// Where in the palette a report at `epoch` lies, from 0 (the earliest report of any
    /// run) to 1 (the latest), the reports evenly apart so that neighbours are told apart
    /// and a place in training has one colour in every panel.
    fn progress(&self, epoch: f64) -> f64 {
        let rank = self.epochs.partition_point(|&e| e < epoch);
        match self.epochs.len() {
            0 | 1 => 0.0,
            n => rank as f64 / (n - 1) as f64,
        }
    }
}

/// Draws `run`'s gradient flow on `area`, on `scale`.
pub fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    run: &RunCurves,
    scale: &Scale,
) -> Result<(), String> {
    let names = &run.gradients.blocks;
    let curves: Vec<Curve> = run
        .gradients
        .profiles
        .iter()
        .map(|p| Curve {
            points: p.log_points(),
            dash: Dash::Solid,
            colour: style::sequential(scale.progress(p.epoch)),
            marked: true,
            label: p.when.clone(),
        })
        .collect();
    let font: TextStyle = (FONT, LABEL_SIZE).into_font().into();
    let widest = names
        .iter()
        .map(|n| area.estimate_text_size(n, &font).map_or(n.len() as f64 * 9.0, |(w, _)| f64::from(w)))
        .fold(0.0, f64::max);
    let x = Ticks::blocks(names.len(), widest, f64::from(chart::plot_width(area)));
    let y = Ticks::decades(scale.decades.0, scale.decades.1);
    let title = format!("{}: gradient norm per block", run.label);
    let mut chart = chart::frame(area, &title, x, y)?;
    let name = |x: &f64| ticks::block_name(names, *x);
    chart::axes(
        &mut chart,
        Axis { desc: "block, input to output", format: Some(&name) },
        Axis { desc: "gradient L2 norm (log scale)", format: Some(&ticks::decade) },
    )?;
    chart::curves(&mut chart, &curves)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::plot::profile::{DepthProfile, GradientFlow};

    /// A run of blocks `b1` and `b2` whose reports are (epoch, norms of b1 and b2).
    pub(in crate::plot) fn run(profiles: &[(f64, &[f64])]) -> RunCurves {
        RunCurves {
            label: "r".into(),
            train_loss: vec![(1.0, 0.5)],
            train_acc: Vec::new(),
            test_acc: Vec::new(),
            gradients: GradientFlow {
                blocks: vec!["b1".into(), "b2".into()],
                profiles: profiles
                    .iter()
                    .map(|&(epoch, norms)| DepthProfile {
                        when: format!("at {epoch}"),
                        epoch,
                        grad_norm: norms.iter().enumerate().map(|(i, &n)| (i as f64, n)).collect(),
                    })
                    .collect(),
            },
        }
    }

    #[test]
    fn every_panel_shares_the_decades_and_the_colours_of_all_runs() {
        let plain = run(&[(0.025, &[440.0, 6.7]), (1.0, &[0.04, 1.7])]);
        let residual = run(&[(0.025, &[55.0, 13.0]), (4.0, &[0.4, 0.8])]);
        let scale = Scale::of(&[&plain, &residual]);
        assert_eq!(scale.decades, (-2, 3));
        assert_eq!(scale.progress(0.025), 0.0);
        assert_eq!(scale.progress(1.0), 0.5);
        assert_eq!(scale.progress(4.0), 1.0);
        assert_eq!(Scale::of(&[&residual]).decades, (-1, 2));
    }

    #[test]
    fn a_single_decade_or_none_still_spans_one() {
        assert_eq!(Scale::of(&[&run(&[(1.0, &[1.0, 1.0])])]).decades, (0, 1));
        assert_eq!(Scale::of(&[&run(&[])]).decades, (0, 1));
        assert_eq!(Scale::of(&[&run(&[(1.0, &[1.0])])]).progress(1.0), 0.0);
    }
}
