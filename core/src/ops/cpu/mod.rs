//! The fast `Cpu` kernels (std only): im2col + `gemm` convolution and argmax max-pooling,
//! parallel over rayon's threads. They read tensors by copy, since dfdx keeps a tensor's
//! storage private, and write gradients straight into dfdx's gradient buffers.

pub mod conv2d;
mod gemm;
mod im2col;
pub mod max_pool2d;

use alloc::vec::Vec;
use dfdx::prelude::{Cpu, Storage};

/// Moves a gradient buffer out of dfdx's gradient store, so that several buffers can be
/// used at once; put it back with [`restore`].
fn take(buf: &mut <Cpu as Storage<f32>>::Vec) -> Vec<f32> {
    core::mem::take(&mut **buf)
}

/// Puts a buffer moved out by [`take`] back.
fn restore(buf: &mut <Cpu as Storage<f32>>::Vec, data: Vec<f32>) {
    **buf = data;
}
