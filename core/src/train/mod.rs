//! d2l's `train_ch6` as a library: configuration, SGD, metrics, and a trainer that runs on
//! its own thread, reports typed events and obeys a control handle.
//!
//! Without `std`, only the run's saved data (configuration, position, metrics) is here, so
//! that a checkpoint's body can be read.

#[cfg(feature = "std")]
mod block_stats;
#[cfg(feature = "std")]
mod checkpoint;
mod config;
#[cfg(feature = "std")]
mod control;
#[cfg(feature = "std")]
mod device;
#[cfg(feature = "std")]
mod events;
#[cfg(feature = "std")]
pub mod loss;
mod metrics;
#[cfg(feature = "std")]
mod plan;
mod position;
mod records;
#[cfg(feature = "std")]
mod sgd;
#[cfg(feature = "std")]
mod spawn;
#[cfg(feature = "std")]
mod trainer;

#[cfg(feature = "std")]
pub use checkpoint::Checkpoint;
pub use config::{LrSchedule, TrainConfig};
#[cfg(feature = "std")]
pub use control::{AnswersSince, Control};
#[cfg(feature = "std")]
pub use device::{DeviceInfo, TrainDevice};
#[cfg(feature = "std")]
pub use events::{SaveReason, TrainEvent};
pub use metrics::{correct, predictions, EpochMetrics, EpochTotals};
#[cfg(feature = "std")]
pub use plan::{check_resume, OnSaveError, Resume, RunPlan, Saving, BLOCK_STATS_EVERY};
pub use position::Position;
pub use records::{BlockReport, BlockStats, Record, StepMetrics};
#[cfg(feature = "std")]
pub use sgd::{SgdSettings, TorchSgd};
#[cfg(feature = "std")]
pub use spawn::spawn;
#[cfg(feature = "std")]
pub use trainer::{train, Outcome, Session, Trainable, CLASSES, IN_CHANNELS};
