//! # resnet-core
//!
//! The ResNet chapter of *Dive into Deep Learning* ("残差网络（ResNet）", He et al. 2016,
//! <https://arxiv.org/abs/1512.03385>) on [dfdx](https://docs.rs/dfdx), where models are
//! types: a residual block whose shortcut cannot match its main path, or a layer fed the
//! wrong number of channels, is a compile error, on stable Rust.
//!
//! - [`shape`]: how windows change the type of a spatial dimension (`Half<D>`, ...).
//! - [`ops`]: `conv2d` and `max_pool2d` as differentiable dfdx ops (fast CPU kernels and a
//!   device-generic path for CUDA).
//! - [`nn`]: layers (`Conv2D`, `MaxPool2D`, ...), [`blocks`]: `Residual`,
//!   [`models`]: `ResNet18`.
//! - [`summary`]: the layer shape table, from the types alone or from a real forward pass.
//! - [`infer`]: evaluation without `std`, from a checkpoint's or weights file's bytes.
//! - [`quant`]: int8 inference without `std` or a heap, and post-training quantization.
//! - [`program`] (std): a model type compiled into a training program that owns its
//!   buffers, the fast way to train on the CPU.
//!
//! Without its default `std` feature the crate is `#![no_std]` + `alloc`.
//!
//! ```
//! use resnet_core::prelude::*;
//! let dev = Cpu::default();
//! // The chapter's `Residual(3, 3)` and `Residual(3, 6, use_1x1conv=True, strides=2)`:
//! let blk = dev.build_module::<Residual<3, 3>, f32>();
//! let x: Tensor<Rank4<4, 3, 6, 6>, f32, _> = dev.sample_normal();
//! assert_eq!(blk.forward(x.clone()).shape().concrete(), [4, 3, 6, 6]);
//! let blk = dev.build_module::<Residual<3, 6, 2, Conv1x1>, f32>();
//! assert_eq!(blk.forward(x).shape().concrete(), [4, 6, 3, 3]);
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "std")]
pub mod bench;
pub mod blocks;
pub mod checkpoint;
#[cfg(feature = "cuda")]
pub mod cuda;
#[cfg(feature = "std")]
pub mod data;
pub mod error;
pub mod infer;
#[cfg(feature = "std")]
pub mod interop;
pub mod models;
pub mod nn;
pub mod ops;
pub mod prelude;
#[cfg(feature = "std")]
pub mod program;
pub mod quant;
pub mod run;
pub mod shape;
pub mod summary;
pub mod train;

/// dfdx itself, so that downstream crates use the same version.
pub use dfdx;
pub use error::Error;
