//! What a running trainer tells its front end.

use core::fmt;

use super::{BlockReport, DeviceInfo, Engine, EpochMetrics, TrainConfig};

/// Why a checkpoint was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveReason {
    /// At the end of an epoch.
    EpochEnd,
    /// The front end asked (`s`).
    Requested,
    /// Before stopping on request.
    Stop,
    /// Every `save_every` steps.
    Periodic,
}

impl fmt::Display for SaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SaveReason::EpochEnd => "end of epoch",
            SaveReason::Requested => "requested",
            SaveReason::Stop => "stopping",
            SaveReason::Periodic => "periodic",
        })
    }
}

/// One event of a training run, in the order they happen.
#[derive(Clone, Debug, PartialEq)]
pub enum TrainEvent {
    /// Data loaded and model ready.
    Started {
        /// The run's configuration.
        config: TrainConfig,
        /// Where the data came from.
        data: String,
        /// Training examples per epoch.
        train_examples: usize,
        /// Test examples.
        test_examples: usize,
        /// Batches per epoch.
        batches_per_epoch: usize,
        /// 0-based epoch the run starts in (after a resume, the epoch it continues).
        start_epoch: usize,
        /// Batches of that epoch already done.
        start_batch: usize,
        /// The compute device, as d2l prints it (`cpu`).
        device: String,
        /// What the steps run on.
        engine: Engine,
        /// The checkpoint this run resumed from.
        resumed_from: Option<String>,
    },
    /// A training step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// Batches in the epoch.
        batches: usize,
        /// Steps since the run (or the resumed run) began, across epochs.
        step: u64,
        /// This batch's mean loss.
        loss: f64,
        /// The epoch's running training accuracy.
        train_acc: f64,
        /// The epoch's running examples per second of training steps.
        examples_per_sec: f64,
        /// Learning rate in use.
        lr: f64,
        /// Examples in this batch.
        size: usize,
    },
    /// How each block's parameters moved at a step (right after that step's `Batch`; see
    /// [`super::RunPlan::block_stats_every`]).
    Blocks(BlockReport),
    /// The test pass after an epoch began.
    Evaluating {
        /// 1-based epoch.
        epoch: usize,
    },
    /// An epoch finished, test accuracy included.
    Epoch(EpochMetrics),
    /// A checkpoint was written.
    CheckpointSaved {
        /// The file.
        path: String,
        /// Completed steps it holds.
        step: u64,
        /// Why it was written.
        reason: SaveReason,
    },
    /// A checkpoint could not be written (a full disk, say) and the plan says to pause
    /// ([`super::OnSaveError::Pause`]): the run waits, paused, for a save request (to try
    /// again), a stop request, or to be resumed without saving.
    SaveFailed {
        /// The save that failed.
        reason: SaveReason,
        /// Why, in one line.
        message: String,
    },
    /// The trainer is paused.
    Paused,
    /// The trainer continues.
    Resumed,
    /// Something worth showing that does not stop the run.
    Warning(String),
    /// What the GPU is and how much of its memory is in use (after `Started`, then every
    /// 50 steps; never on the CPU).
    Device(DeviceInfo),
    /// The run ended normally, or early on request.
    Finished {
        /// Every completed epoch's metrics (resumed ones included).
        history: Vec<EpochMetrics>,
        /// Whether it stopped before the last epoch because a stop was requested.
        stopped: bool,
    },
    /// The run failed; no more events follow.
    Failed {
        /// The one-line reason.
        message: String,
    },
}
