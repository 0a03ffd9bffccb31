//! Convolution, max-pooling, batch norm, ReLU and the residual join as differentiable ops on dfdx
//! tensors.
//!
//! dfdx 0.13 compiles its own `conv2d`/`pool2d` only on a nightly compiler; these run on
//! stable. Each op has two implementations that tests hold to the same [`reference`]:
//! - a fast `Cpu` kernel ([`cpu`], std only): im2col + `gemm`, argmax pooling, rayon;
//! - a device-generic path ([`generic`]) composed of dfdx's public differentiable ops, which
//!   runs unchanged on dfdx's `Cuda` device.

mod batch_norm;
mod conv2d;
#[cfg(feature = "std")]
pub mod cpu;
pub mod generic;
mod geometry;
mod join;
mod max_pool2d;
pub mod reference;
mod relu;
#[cfg(all(test, feature = "std"))]
pub(crate) mod test_support;

pub use batch_norm::{BatchNormKernel, NormGeometry, NormParams, Running};
pub use conv2d::{conv2d, Conv2dKernel, ConvParams};
pub use geometry::Geometry2d;
pub use join::JoinKernel;
pub use max_pool2d::{max_pool2d, MaxPool2dKernel};
pub use relu::ReluKernel;
