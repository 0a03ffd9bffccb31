//! The numbers d2l's `train_ch6` reports, computed the same way.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// One epoch's results, as d2l prints them (and one JSON Lines record of `--metrics-out`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's examples.
    pub loss: f64,
    /// Fraction of training examples classified correctly during the epoch.
    pub train_acc: f64,
    /// Test accuracy after the epoch (BN in inference mode).
    pub test_acc: f64,
    /// Training examples / seconds spent in training steps (not data loading or testing).
    pub examples_per_sec: f64,
    /// Wall-clock seconds of the whole epoch, testing included.
    pub seconds: f64,
    /// The learning rate used.
    pub lr: f64,
}

impl EpochMetrics {
    /// d2l's line: `epoch 3/10: loss 0.259, train acc 0.902, test acc 0.871, 512.3 examples/sec on cpu`.
    pub fn line(&self, epochs: usize, device: &str) -> String {
        format!(
            "epoch {}/{}: loss {:.3}, train acc {:.3}, test acc {:.3}, {:.1} examples/sec on {}",
            self.epoch, epochs, self.loss, self.train_acc, self.test_acc, self.examples_per_sec, device
        )
    }
}

/// d2l's `Accumulator` for one epoch: summed loss, correct predictions, examples, and the
/// seconds spent in training steps. Saved in checkpoints so a resumed epoch continues it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochTotals {
    /// Sum over batches of mean loss × batch size.
    pub loss_sum: f64,
    /// Correct predictions.
    pub correct: u64,
    /// Examples seen.
    pub seen: u64,
    /// Seconds inside training steps.
    pub train_seconds: f64,
}

impl EpochTotals {
    /// Adds one batch.
    pub fn add(&mut self, mean_loss: f64, correct: usize, size: usize, seconds: f64) {
        self.loss_sum += mean_loss * size as f64;
        self.correct += correct as u64;
        self.seen += size as u64;
        self.train_seconds += seconds;
    }

    /// Mean loss so far.
    pub fn loss(&self) -> f64 {
        self.loss_sum / self.seen.max(1) as f64
    }

    /// Training accuracy so far.
    pub fn accuracy(&self) -> f64 {
        self.correct as f64 / self.seen.max(1) as f64
    }

    /// Examples per second of training steps so far.
    pub fn examples_per_sec(&self) -> f64 {
        if self.train_seconds > 0.0 {
            self.seen as f64 / self.train_seconds
        } else {
            0.0
        }
    }
}

/// Index of the largest of each row of `logits` ((N, classes) row-major), d2l's `argmax`.
pub fn predictions(logits: &[f32], classes: usize) -> Vec<usize> {
    logits
        .chunks_exact(classes.max(1))
        .map(|row| {
            row.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                .0
        })
        .collect()
}

/// Number of rows of `logits` whose argmax is the label.
pub fn correct(logits: &[f32], labels: &[usize], classes: usize) -> usize {
    predictions(logits, classes).iter().zip(labels).filter(|(p, l)| p == l).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn d2l_line_and_totals() {
        let mut t = EpochTotals::default();
        t.add(0.5, 200, 256, 1.0);
        t.add(0.25, 30, 44, 0.5);
        assert!((t.loss() - (0.5 * 256.0 + 0.25 * 44.0) / 300.0).abs() < 1e-12);
        assert!((t.accuracy() - 230.0 / 300.0).abs() < 1e-12);
        assert_eq!(t.examples_per_sec(), 200.0);
        let m = EpochMetrics {
            epoch: 3,
            loss: 0.2594,
            train_acc: 0.9021,
            test_acc: 0.8712,
            examples_per_sec: 512.34,
            seconds: 9.0,
            lr: 0.05,
        };
        assert_eq!(
            m.line(10, "cpu"),
            "epoch 3/10: loss 0.259, train acc 0.902, test acc 0.871, 512.3 examples/sec on cpu"
        );
    }

    #[test]
    fn argmax_takes_the_first_of_ties() {
        assert_eq!(predictions(&[0.1, 0.9, 0.0, 2.0, 2.0, 1.0], 3), [1, 0]);
        assert_eq!(correct(&[0.1, 0.9, 0.0, 2.0, 2.0, 1.0], &[1, 1], 3), 1);
    }
}
