//! The device-generic path: window ops built only from dfdx's public differentiable ops,
//! so the same code runs on dfdx's `Cuda` device. Tested on `Cpu` against the fast kernels.

pub mod batch_norm;
pub mod conv2d;
mod index;
pub mod max_pool2d;
