//! A run's curves from its metrics rows: d2l's train loss, train acc and test acc against
//! epoch, and its gradient flow (see `super::profile`).
//!
//! Step rows give the training curves at fractional epochs (1.5 = half way through the
//! second epoch), as d2l's `train_ch6` draws them: the loss is the epoch's running mean
//! of the batch losses so far, the accuracy the epoch's running accuracy. Epochs without
//! step rows (files written before steps were recorded) give one point at their end from
//! the epoch row. When rows repeat a position (a run resumed from an earlier checkpoint
//! redoes steps), the later row wins. Values that are not finite (a diverged loss) are
//! left out.

use std::collections::BTreeMap;

use resnet_core::train::{BlockReport, EpochMetrics, Record, StepMetrics};

use super::profile::GradientFlow;

/// Points of a curve, in increasing x.
pub type Points = Vec<(f64, f64)>;

/// Everything drawn of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunCurves {
    /// The run's name in legends and titles.
    pub label: String,
    /// (epoch, mean training loss).
    pub train_loss: Points,
    /// (epoch, training accuracy).
    pub train_acc: Points,
    /// (epoch, test accuracy): one point per epoch.
    pub test_acc: Points,
    /// Gradient norm against depth at a few steps (empty when the file has no blocks rows).
    pub gradients: GradientFlow,
}

impl RunCurves {
    /// The curves of the rows of one metrics file.
    pub fn from_records(label: impl Into<String>, records: &[Record]) -> Self {
        let mut steps: BTreeMap<(usize, usize), &StepMetrics> = BTreeMap::new();
        let mut epochs: BTreeMap<usize, &EpochMetrics> = BTreeMap::new();
        let mut reports: BTreeMap<(usize, usize), &BlockReport> = BTreeMap::new();
        for record in records {
            match record {
                Record::Step(s) => {
                    steps.insert((s.epoch, s.batch), s);
                }
                Record::Epoch(e) => {
                    epochs.insert(e.epoch, e);
                }
                Record::Blocks(b) => {
                    reports.insert((b.epoch, b.batch), b);
                }
            }
        }
        let (train_loss, train_acc) = training_curves(&steps, &epochs);
        let test_acc = finite(epochs.values().map(|e| (e.epoch as f64, e.test_acc)));
        let gradients = GradientFlow::from_reports(reports.into_values());
        RunCurves { label: label.into(), train_loss, train_acc, test_acc, gradients }
    }

    /// Whether nothing of figure 1 can be drawn.
    pub fn is_empty(&self) -> bool {
        self.train_loss.is_empty() && self.train_acc.is_empty() && self.test_acc.is_empty()
    }

    /// Every x of the training curves.
    pub fn epochs(&self) -> impl Iterator<Item = f64> + '_ {
        [&self.train_loss, &self.train_acc, &self.test_acc].into_iter().flatten().map(|p| p.0)
    }
}

/// Train loss and train accuracy: from step rows where an epoch has them, else from its
/// epoch row.
fn training_curves(
    steps: &BTreeMap<(usize, usize), &StepMetrics>,
    epochs: &BTreeMap<usize, &EpochMetrics>,
) -> (Points, Points) {
    let mut loss = Vec::new();
    let mut acc = Vec::new();
    let mut epoch = 0;
    let (mut sum, mut count) = (0.0, 0usize);
    for step in steps.values() {
        if step.epoch != epoch {
            (epoch, sum, count) = (step.epoch, 0.0, 0);
        }
        if step.loss.is_finite() {
            sum += step.loss;
            count += 1;
            loss.push((step.fractional_epoch(), sum / count as f64));
        }
        acc.push((step.fractional_epoch(), step.train_acc));
    }
    let stepped = |e: usize| steps.range((e, 0)..=(e, usize::MAX)).next().is_some();
    for e in epochs.values().filter(|e| !stepped(e.epoch)) {
        loss.push((e.epoch as f64, e.loss));
        acc.push((e.epoch as f64, e.train_acc));
    }
    (finite(loss), finite(acc))
}

/// The finite points, sorted by x.
fn finite(points: impl IntoIterator<Item = (f64, f64)>) -> Points {
    let mut points: Points = points.into_iter().filter(|(x, y)| x.is_finite() && y.is_finite()).collect();
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::profile::tests::report;
    use crate::run::metrics_file::parse_line;

    fn step(epoch: usize, batch: usize, loss: f64, train_acc: f64) -> Record {
        Record::Step(StepMetrics {
            epoch,
            batch,
            batches: 4,
            step: ((epoch - 1) * 4 + batch) as u64,
            loss,
            train_acc,
            lr: 0.05,
            examples_per_sec: 100.0,
        })
    }

    fn epoch(epoch: usize, loss: f64, train_acc: f64, test_acc: f64) -> Record {
        Record::Epoch(EpochMetrics {
            epoch,
            loss,
            train_acc,
            test_acc,
            examples_per_sec: 100.0,
            seconds: 1.0,
            lr: 0.05,
        })
    }

    fn blocks(epoch: usize, batch: usize, norms: &[(&str, f64)]) -> Record {
        Record::Blocks(report(epoch, batch, norms))
    }

    #[test]
    fn step_rows_give_running_means_at_fractional_epochs() {
        let records = [
            step(1, 1, 2.0, 0.25),
            step(1, 2, 1.0, 0.5),
            step(1, 4, 0.0, 0.75),
            epoch(1, 1.0, 0.75, 0.8),
            step(2, 2, 0.5, 0.9),
            epoch(2, 0.5, 0.9, 0.85),
        ];
        let c = RunCurves::from_records("run", &records);
        assert_eq!(c.train_loss, vec![(0.25, 2.0), (0.5, 1.5), (1.0, 1.0), (1.5, 0.5)]);
        assert_eq!(c.train_acc, vec![(0.25, 0.25), (0.5, 0.5), (1.0, 0.75), (1.5, 0.9)]);
        assert_eq!(c.test_acc, vec![(1.0, 0.8), (2.0, 0.85)]);
        assert!(c.gradients.is_empty());
    }

    #[test]
    fn an_old_file_of_untagged_epoch_rows_gives_points_at_whole_epochs() {
        let lines = [
            r#"{"epoch":1,"loss":0.9,"train_acc":0.7,"test_acc":0.75,"examples_per_sec":500.0,"seconds":60.0,"lr":0.05}"#,
            r#"{"epoch":2,"loss":0.4,"train_acc":0.85,"test_acc":0.83,"examples_per_sec":510.0,"seconds":59.0,"lr":0.05}"#,
        ];
        let records: Vec<Record> = lines.iter().map(|l| parse_line(l).unwrap()).collect();
        let c = RunCurves::from_records("old", &records);
        assert_eq!(c.train_loss, vec![(1.0, 0.9), (2.0, 0.4)]);
        assert_eq!(c.train_acc, vec![(1.0, 0.7), (2.0, 0.85)]);
        assert_eq!(c.test_acc, vec![(1.0, 0.75), (2.0, 0.83)]);
        assert!(!c.is_empty());
    }

    #[test]
    fn epochs_without_step_rows_fall_back_to_their_epoch_row() {
        let records = [epoch(1, 1.2, 0.6, 0.7), step(2, 2, 0.6, 0.8), step(2, 4, 0.4, 0.85)];
        let c = RunCurves::from_records("mixed", &records);
        assert_eq!(c.train_loss, vec![(1.0, 1.2), (1.5, 0.6), (2.0, 0.5)]);
        assert_eq!(c.train_acc, vec![(1.0, 0.6), (1.5, 0.8), (2.0, 0.85)]);
    }

    #[test]
    fn a_resumed_run_s_repeated_rows_replace_the_earlier_ones() {
        let records = [
            step(1, 2, 2.0, 0.3),
            epoch(1, 2.0, 0.3, 0.4),
            step(2, 2, 9.0, 0.1),
            // The run died mid-epoch 2 and resumed from the end of epoch 1.
            step(2, 2, 1.0, 0.6),
            epoch(2, 1.0, 0.6, 0.65),
        ];
        let c = RunCurves::from_records("resumed", &records);
        assert_eq!(c.train_loss, vec![(0.5, 2.0), (1.5, 1.0)]);
        assert_eq!(c.test_acc, vec![(1.0, 0.4), (2.0, 0.65)]);
    }

    #[test]
    fn non_finite_values_are_left_out_and_do_not_poison_the_running_mean() {
        let records =
            [step(1, 1, f64::NAN, 0.1), step(1, 2, 1.0, 0.2), epoch(1, f64::NAN, 0.2, f64::INFINITY)];
        let c = RunCurves::from_records("nan", &records);
        assert_eq!(c.train_loss, vec![(0.5, 1.0)]);
        assert_eq!(c.train_acc, vec![(0.25, 0.1), (0.5, 0.2)]);
        assert!(c.test_acc.is_empty());
    }

    #[test]
    fn blocks_rows_give_the_gradient_flow_at_the_first_report_and_each_epoch_s_end() {
        let records = [
            blocks(1, 2, &[("b1", 0.5), ("b2.0", 0.25), ("head", 1.0)]),
            step(1, 2, 1.0, 0.5),
            blocks(1, 4, &[("b1", 9.0), ("b2.0", 9.0), ("head", 9.0)]),
            // Resumed: the later row at the same position wins.
            blocks(1, 4, &[("b1", 0.4), ("b2.0", 0.3), ("head", 0.8)]),
            blocks(2, 2, &[("b1", 0.2), ("b2.0", 0.1), ("head", 0.6)]),
        ];
        let c = RunCurves::from_records("grads", &records);
        assert_eq!(c.gradients.blocks, ["b1", "b2.0", "head"]);
        let whens: Vec<&str> = c.gradients.profiles.iter().map(|p| p.when.as_str()).collect();
        assert_eq!(whens, ["step 2", "end of epoch 1", "end of epoch 2"]);
        assert_eq!(c.gradients.profiles[1].grad_norm, vec![(0.0, 0.4), (1.0, 0.3), (2.0, 0.8)]);
    }

    #[test]
    fn blocks_rows_alone_draw_no_training_curves() {
        let c = RunCurves::from_records("only-blocks", &[blocks(1, 1, &[("b1", 0.5)])]);
        assert!(c.is_empty());
        assert_eq!(c.gradients.blocks, ["b1"]);
    }
}
