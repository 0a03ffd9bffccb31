//! A run's gradient flow: each block's gradient norm against depth (first block to last)
//! at a few chosen reports: the first, and the last of each epoch (the one nearest its
//! end). With more epochs than fit, epochs spread evenly over the run, the last kept.
//! Norms a log axis cannot show (zero, not finite) are left out.

use resnet_core::train::BlockReport;

/// At most this many reports are drawn per run: the first and up to seven epoch ends.
const MOST: usize = 8;

/// The blocks' gradient norms at one report.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthProfile {
    /// The legend's name for the report: `step 1`, `end of epoch 2`.
    pub when: String,
    /// Where the report lies in epochs (1.5 = half way through the second).
    pub epoch: f64,
    /// (block index into [`GradientFlow::blocks`], L2 norm of its gradient).
    pub grad_norm: Vec<(f64, f64)>,
}

/// Everything drawn of a run's blocks rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GradientFlow {
    /// The blocks' names, input to output (`b1`, `b2.0`, ..., `head`).
    pub blocks: Vec<String>,
    /// The chosen reports, earliest first.
    pub profiles: Vec<DepthProfile>,
}

impl GradientFlow {
    /// The flow of a run's reports, given in training order, one per position.
    pub fn from_reports<'r>(reports: impl IntoIterator<Item = &'r BlockReport>) -> Self {
        let reports: Vec<&BlockReport> = reports.into_iter().collect();
        let mut blocks: Vec<String> = Vec::new();
        for stats in reports.iter().flat_map(|r| &r.blocks) {
            if !blocks.contains(&stats.name) {
                blocks.push(stats.name.clone());
            }
        }
        let profiles = chosen(&reports)
            .into_iter()
            .map(|(when, report)| DepthProfile {
                when,
                epoch: report.fractional_epoch(),
                grad_norm: report
                    .blocks
                    .iter()
                    .filter(|b| b.grad_norm.is_finite() && b.grad_norm > 0.0)
                    .filter_map(|b| Some((blocks.iter().position(|n| *n == b.name)? as f64, b.grad_norm)))
                    .collect(),
            })
            .filter(|p| !p.grad_norm.is_empty())
            .collect();
        GradientFlow { blocks, profiles }
    }

    /// Whether there is nothing to draw.
    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }

    /// The lowest and highest decade (exponents of 10) that show every norm of `flows`, at
    /// least one apart; `None` without norms.
    pub fn decades<'f>(flows: impl IntoIterator<Item = &'f GradientFlow>) -> Option<(i32, i32)> {
        let logs = flows.into_iter().flat_map(|f| &f.profiles).flat_map(DepthProfile::log_points);
        let (low, high) =
            logs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| (lo.min(v), hi.max(v)));
        (low <= high).then(|| (low.floor() as i32, (high.ceil() as i32).max(low.floor() as i32 + 1)))
    }
}

impl DepthProfile {
    /// (block index, log10 of its gradient norm), as the log axes draw them.
    pub fn log_points(&self) -> Vec<(f64, f64)> {
        self.grad_norm.iter().map(|&(block, norm)| (block, norm.log10())).collect()
    }
}

/// The reports drawn, with their legend names: the first (`step N`), and the last of each
/// epoch (`end of epoch E`) unless it is the first.
fn chosen<'r>(reports: &[&'r BlockReport]) -> Vec<(String, &'r BlockReport)> {
    let Some(&first) = reports.first() else { return Vec::new() };
    let ends: Vec<&BlockReport> = reports
        .iter()
        .enumerate()
        .filter(|&(i, r)| i > 0 && reports.get(i + 1).is_none_or(|next| next.epoch != r.epoch))
        .map(|(_, r)| *r)
        .collect();
    let mut out = vec![(format!("step {}", first.step), first)];
    out.extend(spread(ends.len(), MOST - 1).map(|i| (format!("end of epoch {}", ends[i].epoch), ends[i])));
    out
}

/// Up to `most` indices of `0..len`, evenly spread, the first and the last included.
fn spread(len: usize, most: usize) -> impl Iterator<Item = usize> {
    let picks = len.min(most);
    (0..picks).map(move |i| match picks {
        1 => len - 1,
        _ => (i * (len - 1) + (picks - 1) / 2) / (picks - 1),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use resnet_core::train::BlockStats;

    /// A report of 4-batch epochs with the blocks' gradient norms `norms`.
    pub(in crate::plot) fn report(epoch: usize, batch: usize, norms: &[(&str, f64)]) -> BlockReport {
        BlockReport {
            epoch,
            batch,
            batches: 4,
            step: ((epoch - 1) * 4 + batch) as u64,
            blocks: norms
                .iter()
                .map(|&(name, grad_norm)| BlockStats {
                    name: name.into(),
                    grad_norm,
                    weight_norm: 1.0,
                    update_ratio: 1e-3,
                })
                .collect(),
        }
    }

    #[test]
    fn the_first_report_and_each_epoch_s_last_are_drawn_against_depth() {
        let reports = [
            report(1, 1, &[("b1", 8.0), ("b2.0", 4.0), ("head", 2.0)]),
            report(1, 3, &[("b1", 1.0), ("b2.0", 1.0), ("head", 1.0)]),
            report(1, 4, &[("b1", 0.5), ("b2.0", 0.25), ("head", 0.125)]),
            report(2, 2, &[("b1", 0.4), ("b2.0", 0.0), ("head", f64::NAN)]),
        ];
        let flow = GradientFlow::from_reports(&reports);
        assert_eq!(flow.blocks, ["b1", "b2.0", "head"]);
        let whens: Vec<&str> = flow.profiles.iter().map(|p| p.when.as_str()).collect();
        assert_eq!(whens, ["step 1", "end of epoch 1", "end of epoch 2"]);
        assert_eq!(flow.profiles[0].grad_norm, vec![(0.0, 8.0), (1.0, 4.0), (2.0, 2.0)]);
        assert_eq!(flow.profiles[1].epoch, 1.0);
        assert_eq!(flow.profiles[2].grad_norm, vec![(0.0, 0.4)], "no zero or NaN on a log axis");
    }

    #[test]
    fn a_first_report_that_ends_its_epoch_is_drawn_once() {
        let reports = [report(1, 4, &[("b1", 1.0)]), report(2, 4, &[("b1", 0.5)])];
        let flow = GradientFlow::from_reports(&reports);
        let whens: Vec<&str> = flow.profiles.iter().map(|p| p.when.as_str()).collect();
        assert_eq!(whens, ["step 4", "end of epoch 2"]);
    }

    #[test]
    fn blocks_missing_from_early_reports_keep_their_place_in_depth() {
        let reports =
            [report(1, 1, &[("b1", 1.0), ("head", 1.0)]), report(1, 2, &[("b1", 1.0), ("b2", 2.0)])];
        let flow = GradientFlow::from_reports(&reports);
        assert_eq!(flow.blocks, ["b1", "head", "b2"]);
        assert_eq!(flow.profiles[1].grad_norm, vec![(0.0, 1.0), (2.0, 2.0)]);
    }

    #[test]
    fn many_epochs_are_thinned_evenly_keeping_the_last() {
        let reports: Vec<BlockReport> = (1..=90).map(|e| report(e, 4, &[("b1", 1.0)])).collect();
        let flow = GradientFlow::from_reports(&reports);
        let whens: Vec<&str> = flow.profiles.iter().map(|p| p.when.as_str()).collect();
        assert_eq!(
            whens,
            [
                "step 4",
                "end of epoch 2",
                "end of epoch 17",
                "end of epoch 31",
                "end of epoch 46",
                "end of epoch 61",
                "end of epoch 75",
                "end of epoch 90"
            ]
        );
        assert_eq!(spread(3, 7).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(spread(1, 7).collect::<Vec<_>>(), [0]);
        assert_eq!(spread(0, 7).count(), 0);
    }

    #[test]
    fn no_reports_draw_nothing() {
        assert!(GradientFlow::from_reports(&[]).is_empty());
        assert!(GradientFlow::from_reports(&[report(1, 1, &[("b1", 0.0)])]).is_empty());
    }
}
