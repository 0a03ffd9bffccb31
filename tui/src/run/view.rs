//! A training run as the front ends see it: one fold of the trainer's events, read by the
//! dashboard's panels and by the headless lines.

use std::time::Duration;

use resnet_core::train::{BlockReport, DeviceInfo, EpochMetrics, TrainConfig, TrainEvent};

use crate::run::eta::Eta;

/// A training run as its events tell it, folded by [`RunView::apply`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunView {
    /// The run's recipe.
    pub config: Option<TrainConfig>,
    /// The device label (`cpu`).
    pub device: String,
    /// The GPU, when training on one.
    pub gpu: Option<DeviceInfo>,
    /// Where the data came from.
    pub data: String,
    /// Training examples per epoch.
    pub train_examples: usize,
    /// Batches per epoch.
    pub batches: usize,
    /// Current 1-based epoch.
    pub epoch: usize,
    /// Batches done in the current epoch.
    pub batch: usize,
    /// Steps done (the run's own, resumed ones included).
    pub step: u64,
    /// Step count at the first loss point.
    pub first_step: u64,
    /// Loss of every step since the dashboard started the run.
    pub losses: Vec<f64>,
    /// Completed epochs.
    pub epochs: Vec<EpochMetrics>,
    /// Running accuracy of the current epoch.
    pub train_acc: f64,
    /// Examples per second of the current epoch's steps.
    pub examples_per_sec: f64,
    /// Learning rate in use.
    pub lr: f64,
    /// When the run began (since the dashboard opened).
    pub started_at: Option<Duration>,
    /// When it ended.
    pub ended_at: Option<Duration>,
    /// Whether a test pass is running.
    pub testing: bool,
    /// The pace.
    pub eta: Eta,
    /// The newest checkpoint written.
    pub checkpoint: Option<String>,
    /// Every report of the blocks' gradient flow since the run started, oldest first.
    pub blocks: Vec<BlockReport>,
}

impl RunView {
    /// Steps the whole run has (all epochs).
    pub fn total_steps(&self) -> u64 {
        let epochs = self.config.as_ref().map_or(0, |c| c.epochs);
        (epochs * self.batches) as u64
    }

    /// Epochs the run has.
    pub fn epoch_count(&self) -> usize {
        self.config.as_ref().map_or(0, |c| c.epochs)
    }

    /// Time left, once the pace is known.
    pub fn eta(&self) -> Option<Duration> {
        let steps_left = self.total_steps().saturating_sub(self.step);
        let tests_left = self.epoch_count().saturating_sub(self.epochs.len());
        self.eta.remaining(steps_left, tests_left)
    }

    /// Folds one trainer event, which arrived at `now`, into the view.
    pub fn apply(&mut self, event: &TrainEvent, now: Duration) {
        match event {
            TrainEvent::Started {
                config,
                data,
                train_examples,
                batches_per_epoch,
                start_epoch,
                start_batch,
                device,
                ..
            } => {
                self.step = (start_epoch * batches_per_epoch + start_batch) as u64;
                self.first_step = self.step;
                (self.epoch, self.batch, self.batches) = (start_epoch + 1, *start_batch, *batches_per_epoch);
                (self.device, self.data, self.train_examples, self.lr) =
                    (device.clone(), data.clone(), *train_examples, config.lr_at(*start_epoch));
                self.config = Some(config.clone());
            }
            TrainEvent::Batch { epoch, batch, step, loss, train_acc, examples_per_sec, lr, .. } => {
                (self.epoch, self.batch, self.step) = (*epoch, *batch, *step);
                (self.train_acc, self.examples_per_sec, self.lr) = (*train_acc, *examples_per_sec, *lr);
                self.losses.push(*loss);
                self.eta.step(now);
            }
            TrainEvent::Evaluating { .. } => {
                self.testing = true;
                self.eta.test_started(now);
            }
            TrainEvent::Epoch(m) => {
                self.testing = false;
                self.eta.test_finished(now);
                self.epochs.push(m.clone());
                // The next epoch starts at its first batch; after the last, the bar stays full.
                if m.epoch < self.epoch_count() {
                    (self.epoch, self.batch) = (m.epoch + 1, 0);
                } else {
                    self.batch = self.batches;
                }
            }
            TrainEvent::CheckpointSaved { path, .. } => self.checkpoint = Some(path.clone()),
            TrainEvent::Blocks(report) => self.blocks.push(report.clone()),
            TrainEvent::Device(info) => self.gpu = Some(info.clone()),
            TrainEvent::Finished { history, .. } => {
                // Resumed epochs included.
                self.epochs = history.clone();
                self.ended_at = Some(now);
            }
            TrainEvent::Failed { .. } => self.ended_at = Some(now),
            TrainEvent::SaveFailed { .. }
            | TrainEvent::Paused
            | TrainEvent::Resumed
            | TrainEvent::Warning(_) => {}
        }
    }

    /// The epoch line of `m` as d2l prints it, on this run's device.
    pub fn epoch_line(&self, m: &EpochMetrics) -> String {
        m.line(self.epoch_count(), &self.device)
    }

    /// d2l's closing lines: the last epoch's numbers and the examples/sec of the whole run.
    pub fn summary(&self) -> Option<String> {
        let last = self.epochs.last()?;
        let seconds: f64 = self.epochs.iter().map(|m| 1.0 / m.examples_per_sec.max(f64::MIN_POSITIVE)).sum();
        let rate = self.epochs.len() as f64 / seconds;
        Some(format!(
            "loss {:.3}, train acc {:.3}, test acc {:.3}\n{rate:.1} examples/sec on {}",
            last.loss, last.train_acc, last.test_acc, self.device
        ))
    }
}
