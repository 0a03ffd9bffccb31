//! Layers as dfdx modules: [`Conv2D`] (with a bias, or without as torchvision has it: see
//! [`ConvBias`]) and
//! [`MaxPool2D`] (which dfdx 0.13 only has on nightly), a [`BatchNorm2D`] with a fused CPU
//! kernel (dfdx's, built from a dozen generic ops, took a third of a training step),
//! [`GlobalAvgPool2D`], [`Flatten2D`], [`ReLU`] and [`Join`] (a residual block's two
//! branches added), which replace dfdx's with parallel CPU kernels. Layers are
//! types: `builders` holds what `dev.build_module::<_, f32>()` takes, `modules` what it
//! returns.
//!
//! dfdx's own `Linear` and `AvgPoolGlobal` are used as they are.

mod batch_norm2d;
mod conv2d;
mod conv_bias;
mod flatten2d;
mod global_avg_pool2d;
pub mod init;
mod join;
mod max_pool2d;
mod relu;
pub(crate) mod visit;

pub use conv_bias::{Biased, ConvBias, NoBias};
pub use flatten2d::Flatten2D;
pub use global_avg_pool2d::GlobalAvgPool2D;
pub use join::Join;
pub use max_pool2d::MaxPool2D;
pub use relu::ReLU;

/// Zero-sized layer descriptions, as `dev.build_module::<M, f32>()` takes them.
pub mod builders {
    pub use super::batch_norm2d::builder::BatchNorm2D;
    pub use super::conv2d::builder::{Conv2D, Conv2DNoBias};
    pub use super::{Flatten2D, GlobalAvgPool2D, Join, MaxPool2D, ReLU};
}

/// The built layers, holding tensors.
pub mod modules {
    pub use super::batch_norm2d::BatchNorm2D;
    pub use super::conv2d::{Conv2D, Conv2DNoBias};
    pub use super::{Flatten2D, GlobalAvgPool2D, Join, MaxPool2D, ReLU};
}
