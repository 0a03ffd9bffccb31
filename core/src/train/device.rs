//! The devices a run can train on.

use dfdx::prelude::*;

use crate::ops::{BatchNormKernel, Conv2dKernel, MaxPool2dKernel};
use crate::Error;

/// A dfdx device with this crate's kernels that the trainer can create from a seed.
pub trait TrainDevice: Conv2dKernel + MaxPool2dKernel + BatchNormKernel + Clone + Send + 'static
where
    Error: From<Self::Err>,
{
    /// The name d2l prints (`cpu`, `cuda:0`).
    fn label(&self) -> String;
    /// A device whose random generator starts from `seed`.
    fn create(seed: u64) -> Result<Self, Error>;
}

impl TrainDevice for Cpu {
    fn label(&self) -> String {
        "cpu".into()
    }

    fn create(seed: u64) -> Result<Self, Error> {
        Ok(Cpu::seed_from_u64(seed))
    }
}
