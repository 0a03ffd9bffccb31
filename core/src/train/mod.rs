//! d2l's `train_ch6` as a library: configuration, SGD, metrics, and a trainer that runs on
//! its own thread, reports typed events and obeys a control handle.

mod config;
mod control;
mod device;
mod events;
pub mod loss;
mod metrics;
mod sgd;
mod spawn;
mod trainer;

pub use config::{LrSchedule, TrainConfig};
pub use control::Control;
pub use device::{DeviceInfo, TrainDevice};
pub use events::{SaveReason, TrainEvent};
pub use metrics::{correct, predictions, EpochMetrics, EpochTotals};
pub use sgd::{Sgd, SgdSettings};
pub use spawn::{spawn, spawn_with, TrainerHandle};
pub use trainer::{train, Outcome, Session, Trainable, CLASSES, IN_CHANNELS};
