//! dfdx's `Cuda` device (cudarc): this crate's conv, pool, batch-norm and join ops on it
//! through the device-generic path, the trainer's device, and what the GPU is (name, memory)
//! for the front ends. Built with the `cuda` feature; `ci-check` type-checks it without a CUDA toolkit.

use alloc::format;
use alloc::string::{String, ToString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use cudarc::driver::{result, sys};
use dfdx::prelude::*;

use crate::ops::{BatchNormKernel, Conv2dKernel, JoinKernel, MaxPool2dKernel, ReluKernel};
use crate::train::{DeviceInfo, TrainDevice};
use crate::Error;

// The device-generic path is each kernel trait's default.
impl Conv2dKernel for Cuda {}
impl MaxPool2dKernel for Cuda {}
impl BatchNormKernel for Cuda {}
impl JoinKernel for Cuda {}
impl ReluKernel for Cuda {}

fn no_gpu(reason: impl core::fmt::Display) -> Error {
    Error::Device { reason: format!("no usable CUDA GPU ({reason}); use --device cpu") }
}

/// Whether the CUDA driver loads and sees at least one GPU.
pub fn available() -> bool {
    gpu_count().is_ok_and(|n| n > 0)
}

fn gpu_count() -> Result<i32, Error> {
    result::init().map_err(no_gpu)?;
    result::device::get_count().map_err(no_gpu)
}

/// GPU 0's name and memory, straight from the CUDA driver (memory needs a context current on
/// this thread, as after [`TrainDevice::create`]; without one it reads as `None`).
pub fn gpu_info() -> Result<DeviceInfo, Error> {
    if gpu_count()? == 0 {
        return Err(no_gpu("the driver sees no GPU"));
    }
    let dev = result::device::get(0).map_err(no_gpu)?;
    let mut name = [0 as core::ffi::c_char; 256];
    // SAFETY: the buffer is 256 bytes and the driver writes a NUL-terminated name into it.
    unsafe { sys::cuDeviceGetName(name.as_mut_ptr(), name.len() as i32, dev) }.result().map_err(no_gpu)?;
    // SAFETY: the driver NUL-terminated the name within the buffer.
    let name = unsafe { core::ffi::CStr::from_ptr(name.as_ptr()) }.to_string_lossy().into_owned();
    let memory = result::mem_get_info().ok().map(|(free, total)| (total - free, total));
    Ok(DeviceInfo { name, memory })
}

impl TrainDevice for Cuda {
    fn label(&self) -> String {
        "cuda:0".to_string()
    }

    fn create(seed: u64) -> Result<Self, Error> {
        // cudarc unwraps cuInit's result inside `CudaDevice::new`: check first, and catch a
        // panic anyway, so a machine without a GPU gets an error, not a crash.
        if gpu_count()? == 0 {
            return Err(no_gpu("the driver sees no GPU"));
        }
        let dev = catch_unwind(AssertUnwindSafe(|| Cuda::try_seed_from_u64(seed)))
            .map_err(|_| no_gpu("the driver failed to start"))?
            .map_err(|e| no_gpu(format!("{e:?}")))?;
        dev.try_enable_cache()?;
        Ok(dev)
    }

    fn info(&self) -> Option<DeviceInfo> {
        gpu_info().ok()
    }
}

impl From<dfdx::tensor::CudaError> for Error {
    fn from(e: dfdx::tensor::CudaError) -> Self {
        Error::Device { reason: format!("CUDA: {e:?}") }
    }
}
