//! d2l's `train_ch6` as a library: configuration, SGD, metrics, and a trainer that runs on
//! its own thread, reports typed events and obeys a control handle.
//!
//! The run's saved data (configuration, position, metrics) lives in [`crate::run`], which
//! works without `std`; it is re-exported here.

#[cfg(feature = "std")]
mod allocator;
#[cfg(feature = "std")]
mod block_stats;
#[cfg(feature = "std")]
mod checkpoint;
#[cfg(feature = "std")]
mod control;
#[cfg(feature = "std")]
mod device;
#[cfg(feature = "std")]
mod engine;
#[cfg(feature = "std")]
mod events;
#[cfg(feature = "std")]
pub mod loss;
#[cfg(feature = "std")]
mod plan;
#[cfg(all(test, feature = "std"))]
mod program_parity;
#[cfg(feature = "std")]
mod sgd;
#[cfg(feature = "std")]
mod spawn;
#[cfg(feature = "std")]
mod trainer;

pub use crate::run::{
    correct, predictions, BlockReport, BlockStats, EpochMetrics, EpochTotals, LrSchedule, Position, Record,
    StepMetrics, TrainConfig,
};
#[cfg(feature = "std")]
pub use checkpoint::Checkpoint;
#[cfg(feature = "std")]
pub use control::{AnswersSince, Control};
#[cfg(feature = "std")]
pub use device::{DeviceInfo, TrainDevice};
#[cfg(feature = "std")]
pub use engine::Engine;
#[cfg(feature = "std")]
pub use events::{SaveReason, TrainEvent};
#[cfg(feature = "std")]
pub use plan::{check_resume, OnSaveError, Resume, RunPlan, Saving, BLOCK_STATS_EVERY};
#[cfg(feature = "std")]
pub use sgd::{SgdSettings, TorchSgd};
#[cfg(feature = "std")]
pub use spawn::spawn;
#[cfg(feature = "std")]
pub use trainer::{train, Outcome, Session, Trainable, CLASSES, IN_CHANNELS};
