//! What a training run saves, without `std`: its configuration (d2l's `train_ch6` recipe and
//! the options around it), where it stands, and the metrics it reports. Checkpoints carry
//! these, so both the trainer ([`crate::train`], which re-exports them) and the weights
//! reader ([`crate::infer`]) need them; neither needs the other.

mod config;
mod metrics;
mod position;
mod records;

pub use config::{LrSchedule, SgdSettings, TrainConfig};
pub use metrics::{correct, predictions, EpochMetrics, EpochTotals};
pub use position::Position;
pub use records::{BlockReport, BlockStats, Record, StepMetrics};
