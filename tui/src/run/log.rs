//! What a run writes besides its checkpoints, from the trainer's events: the metrics file's
//! rows (`--metrics-out`: steps, blocks' gradient flow, epochs) and TensorBoard's scalars
//! (`--tensorboard`).

use std::path::Path;

use resnet_core::train::{Record, Resume, StepMetrics, TrainEvent};

use crate::run::metrics_file::MetricsWriter;
use crate::run::tensorboard::TensorBoardWriter;

/// Steps between two flushes of the TensorBoard file (it is also flushed at every epoch's
/// end, every checkpoint and the run's end).
const TENSORBOARD_FLUSH_STEPS: u64 = 50;

/// The run's metrics file and TensorBoard event file, either optional.
#[derive(Default)]
pub struct RunLog {
    metrics: Option<MetricsWriter>,
    tensorboard: Option<TensorBoardWriter>,
    /// The newest step seen: the x of the epoch-level scalars.
    step: u64,
}

impl RunLog {
    /// Opens the files asked for; a resumed run keeps the metrics rows of the run it
    /// continues (see [`MetricsWriter::start`]) and starts a new event file beside the old
    /// ones (TensorBoard joins the files of one directory).
    pub fn open(
        metrics: Option<&Path>,
        tensorboard: Option<&Path>,
        resume: Option<&Resume>,
    ) -> Result<Self, String> {
        let (history, step) =
            resume.map_or((&[][..], 0), |r| (&r.checkpoint.history[..], r.checkpoint.position.step));
        Ok(Self {
            metrics: metrics.map(|p| MetricsWriter::start(p, history, step)).transpose()?,
            tensorboard: tensorboard.map(TensorBoardWriter::create).transpose()?,
            step,
        })
    }

    /// The TensorBoard event file being written, if any.
    pub fn tensorboard_file(&self) -> Option<&Path> {
        self.tensorboard.as_ref().map(TensorBoardWriter::path)
    }

    /// Writes what `event` tells. Write errors are dropped: a full disk must not stop the
    /// run (its checkpoints say so on their own).
    pub fn record(&mut self, event: &TrainEvent) {
        match event {
            TrainEvent::Batch {
                epoch, batch, batches, step, loss, train_acc, examples_per_sec, lr, ..
            } => {
                self.step = *step;
                let row = StepMetrics {
                    epoch: *epoch,
                    batch: *batch,
                    batches: *batches,
                    step: *step,
                    loss: *loss,
                    train_acc: *train_acc,
                    lr: *lr,
                    examples_per_sec: *examples_per_sec,
                };
                self.scalars(
                    *step,
                    &[
                        ("train/loss", row.loss),
                        ("train/acc", row.train_acc),
                        ("lr", row.lr),
                        ("examples_per_sec", row.examples_per_sec),
                    ],
                );
                if let Some(m) = self.metrics.as_mut() {
                    m.write(&Record::Step(row));
                }
                if step % TENSORBOARD_FLUSH_STEPS == 0 {
                    self.flush();
                }
            }
            TrainEvent::Blocks(report) => {
                if let Some(tb) = self.tensorboard.as_mut() {
                    for b in &report.blocks {
                        let _ = tb.scalar(&format!("blocks/grad_norm/{}", b.name), report.step, b.grad_norm);
                        let _ = tb.scalar(
                            &format!("blocks/update_ratio/{}", b.name),
                            report.step,
                            b.update_ratio,
                        );
                    }
                }
                if let Some(m) = self.metrics.as_mut() {
                    m.write(&Record::Blocks(report.clone()));
                }
            }
            TrainEvent::Epoch(m) => {
                self.scalars(
                    self.step,
                    &[
                        ("test/acc", m.test_acc),
                        ("epoch/train_loss", m.loss),
                        ("epoch/train_acc", m.train_acc),
                    ],
                );
                if let Some(out) = self.metrics.as_mut() {
                    out.write(&Record::Epoch(m.clone()));
                }
                self.flush();
            }
            TrainEvent::CheckpointSaved { .. } | TrainEvent::Finished { .. } | TrainEvent::Failed { .. } => {
                self.flush()
            }
            _ => {}
        }
    }

    fn scalars(&mut self, step: u64, values: &[(&str, f64)]) {
        if let Some(tb) = self.tensorboard.as_mut() {
            for (tag, value) in values {
                let _ = tb.scalar(tag, step, *value);
            }
        }
    }

    fn flush(&mut self) {
        if let Some(tb) = self.tensorboard.as_mut() {
            let _ = tb.flush();
        }
    }
}
