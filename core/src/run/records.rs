//! The rows of a run's metrics file (`--metrics-out`, `runs/<date>-<model>/metrics.jsonl`):
//! one JSON object per line, told apart by `"kind"`.
//!
//! ```text
//! {"kind":"step","epoch":1,"batch":10,"batches":235,"step":10,"loss":1.9,"train_acc":0.41,"lr":0.05,"examples_per_sec":512.0}
//! {"kind":"blocks","epoch":1,"batch":10,"batches":235,"step":10,"blocks":[{"name":"b1","grad_norm":0.8,"weight_norm":5.1,"update_ratio":0.008}, ...]}
//! {"kind":"epoch","epoch":1,"loss":0.61,"train_acc":0.78,"test_acc":0.83,"examples_per_sec":512.0,"seconds":120.0,"lr":0.05}
//! ```
//!
//! Files written before `kind` existed hold only epoch rows without it; readers take those as
//! epochs.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::EpochMetrics;

/// One training step's numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepMetrics {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Steps since the run began (resumed runs included).
    pub step: u64,
    /// This batch's mean loss.
    pub loss: f64,
    /// The epoch's running training accuracy.
    pub train_acc: f64,
    /// Learning rate in use.
    pub lr: f64,
    /// The epoch's running examples per second of training steps.
    pub examples_per_sec: f64,
}

impl StepMetrics {
    /// Where the step lies in epochs (1.0 = the end of the first epoch), for curves
    /// against epoch as d2l draws them.
    pub fn fractional_epoch(&self) -> f64 {
        (self.epoch - 1) as f64 + self.batch as f64 / self.batches.max(1) as f64
    }
}

/// How one block's parameters move at a step: the gradient flow through the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockStats {
    /// The block, as the shape table names it (`b1`, `b2.0`, ..., `head`).
    pub name: String,
    /// L2 norm of the gradient of the block's trainable parameters.
    pub grad_norm: f64,
    /// L2 norm of those parameters.
    pub weight_norm: f64,
    /// L2 norm of this step's change to them over their norm (about 1e-3 is healthy).
    pub update_ratio: f64,
}

/// Every block's [`BlockStats`] at one step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based batch within the epoch.
    pub batch: usize,
    /// Batches in the epoch.
    pub batches: usize,
    /// Steps since the run began.
    pub step: u64,
    /// The blocks, input to output.
    pub blocks: Vec<BlockStats>,
}

impl BlockReport {
    /// Where the step lies in epochs (see [`StepMetrics::fractional_epoch`]).
    pub fn fractional_epoch(&self) -> f64 {
        (self.epoch - 1) as f64 + self.batch as f64 / self.batches.max(1) as f64
    }
}

/// One row of a metrics file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Record {
    /// A training step.
    Step(StepMetrics),
    /// The blocks' gradient flow at a step.
    Blocks(BlockReport),
    /// An epoch's results (d2l's line).
    Epoch(EpochMetrics),
}
