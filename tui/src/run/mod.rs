//! What a training run is, for both front ends: its plan from the flags, the device, the
//! run directory and its files (checkpoint, metrics, TensorBoard events), the run's log and
//! view of the trainer's events, the ETA, memory and the signals that stop it.

pub mod device;
pub mod dir;
pub mod eta;
pub mod log;
pub mod memory;
pub mod metrics_file;
pub mod plan;
pub mod signals;
pub mod tensorboard;
pub mod view;
