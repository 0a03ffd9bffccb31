//! d2l's `train_ch6` as a library: configuration, SGD, metrics, and a trainer that runs on
//! its own thread, reports typed events and obeys a control handle.

mod checkpoint;
mod config;
mod control;
mod device;
mod events;
pub mod loss;
mod metrics;
mod plan;
mod sgd;
mod spawn;
mod trainer;

pub use checkpoint::{Checkpoint, Position};
pub use config::{LrSchedule, TrainConfig};
pub use control::{AnswersSince, Control};
pub use device::{DeviceInfo, TrainDevice};
pub use events::{SaveReason, TrainEvent};
pub use metrics::{correct, predictions, EpochMetrics, EpochTotals};
pub use plan::{check_resume, OnSaveError, Resume, RunPlan, Saving};
pub use sgd::{SgdSettings, TorchSgd};
pub use spawn::spawn;
pub use trainer::{train, Outcome, Session, Trainable, CLASSES, IN_CHANNELS};
