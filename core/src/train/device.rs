//! The devices a run can train on.

use alloc::string::String;

use dfdx::prelude::*;
use dfdx::tensor::Synchronize;

use crate::ops::{BatchNormKernel, Conv2dKernel, JoinKernel, MaxPool2dKernel, ReluKernel};
use crate::Error;

/// A GPU's name and memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// As the driver names it (`NVIDIA H200`).
    pub name: String,
    /// Bytes in use (by every process) and in total, if the driver could say.
    pub memory: Option<(usize, usize)>,
}

/// A dfdx device with this crate's kernels that the trainer can create from a seed.
///
/// Devices are created with dfdx's buffer cache on: a training step frees its activations
/// while it allocates gradients of the same sizes, and reusing those buffers saves the page
/// faults of fresh ones (a fifth of a step on CPU). [`TrainDevice::step_done`] empties the
/// cache after each step, so memory does not grow, unless the device's own ops draw from it
/// too (the CPU's).
pub trait TrainDevice:
    Conv2dKernel
    + MaxPool2dKernel
    + BatchNormKernel
    + JoinKernel
    + ReluKernel
    + Cache
    + Synchronize
    + Clone
    + 'static
where
    Error: From<Self::Err>,
{
    /// Whether inference (the trainer's test passes, `bench`'s inference) runs the model
    /// compiled for this machine's CPU ([`crate::infer::Compiled`]: batch norms folded,
    /// channels-last) instead of dfdx's forward pass on the device: true for the CPU.
    const COMPILED_INFERENCE: bool = false;

    /// Whether training steps can run as a [`crate::program::TrainProgram`] (the CPU's):
    /// [`super::Engine::Program`] elsewhere falls back to the tape.
    const TRAINS_PROGRAM: bool = false;

    /// The name d2l prints (`cpu`, `cuda:0`).
    fn label(&self) -> String;

    /// A device whose random generator starts from `seed`, its buffer cache on.
    fn create(seed: u64) -> Result<Self, Error>;

    /// What the device is, for the front ends (`None` for the CPU, whose memory is the
    /// process's).
    fn info(&self) -> Option<DeviceInfo> {
        None
    }

    /// Releases the buffers cached during a step (or a test pass).
    fn step_done(&self) -> Result<(), Error> {
        self.try_empty_cache()?;
        Ok(())
    }
}

impl TrainDevice for Cpu {
    const COMPILED_INFERENCE: bool = true;
    const TRAINS_PROGRAM: bool = true;

    fn label(&self) -> String {
        "cpu".into()
    }

    fn create(seed: u64) -> Result<Self, Error> {
        let dev = Cpu::seed_from_u64(seed);
        dev.try_enable_cache()?;
        Ok(dev)
    }

    /// Keeps the cached buffers for the next step. The CPU kernels take their outputs from
    /// the cache as dfdx's ops do, so every buffer a step frees, the next step reuses: the
    /// cache stops growing after the first step (peak memory 20% higher than emptying it,
    /// still below PyTorch's), and the next step's activations skip the page faults of new
    /// buffers (6% of a step at 96×96).
    fn step_done(&self) -> Result<(), Error> {
        Ok(())
    }
}
