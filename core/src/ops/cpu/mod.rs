//! The fast `Cpu` kernels (std only): im2col + `gemm` convolution and argmax max-pooling,
//! parallel over rayon's threads. They read tensors by copy, since dfdx keeps a tensor's
//! storage private, and write gradients straight into dfdx's gradient buffers.

pub mod batch_norm;
pub mod conv2d;
#[cfg(test)]
pub(crate) mod conv_reference;
pub(crate) mod direct;
pub(crate) mod gemm;
pub(crate) mod im2col;
pub mod join;
pub mod max_pool2d;
pub mod profile;
pub mod relu;
pub(crate) mod scratch;
pub(crate) mod winograd;

use alloc::vec;
use alloc::vec::Vec;
use dfdx::prelude::*;
use rayon::prelude::*;

use scratch::Scratch;

/// A copy of a tensor's elements in logical order (dfdx keeps its storage private).
/// The tensor must be contiguous, as [`split_contiguous`] makes it.
fn read<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Vec<f32> {
    profile::timed(profile::Phase::Copies, || {
        let mut data = vec![0.0f32; t.shape().num_elements()];
        t.copy_into(&mut data);
        data
    })
}

/// A copy of a tensor's elements in a [`Scratch`] buffer, for inputs read once and dropped.
fn read_scratch<S: Shape, T>(t: &Tensor<S, f32, Cpu, T>) -> Scratch {
    profile::timed(profile::Phase::Copies, || {
        let mut data = Scratch::take(t.shape().num_elements());
        t.copy_into(&mut data);
        data
    })
}

/// A zeroed buffer of `len` floats for an op's output, from dfdx's buffer cache when it is
/// on: within a training step that is a buffer the step has freed, whose pages are mapped
/// (a new one page-faults on every first write, which costs more than dfdx's zeroing).
fn output(dev: &Cpu, len: usize) -> Result<Vec<f32>, CpuError> {
    let mut buf = dev.try_alloc_len(len)?;
    Ok(take(&mut buf))
}

/// Splits an op's input from its tape, contiguous (a no-op when it already is; otherwise a
/// copy whose gradient dfdx routes back to the original), and reads its elements.
fn split_contiguous<S: Shape, T: Tape<f32, Cpu>>(
    x: Tensor<S, f32, Cpu, T>,
) -> Result<(Tensor<S, f32, Cpu>, T, Scratch), CpuError> {
    let shape = *x.shape();
    let (x, tape) = x.try_reshape_like(&shape)?.split_tape();
    let data = read_scratch(&x);
    Ok((x, tape, data))
}

/// Moves a gradient buffer out of dfdx's gradient store, so that several buffers can be
/// used at once; put it back with [`restore`].
fn take(buf: &mut <Cpu as Storage<f32>>::Vec) -> Vec<f32> {
    core::mem::take(&mut **buf)
}

/// Puts a buffer moved out by [`take`] back.
fn restore(buf: &mut <Cpu as Storage<f32>>::Vec, data: Vec<f32>) {
    **buf = data;
}

/// `sum += term` for every term, in parallel chunks (each term at least as long as `sum`).
fn accumulate(sum: &mut [f32], terms: &[&[f32]]) {
    const CHUNK: usize = 1 << 14;
    sum.par_chunks_mut(CHUNK).enumerate().for_each(|(i, sum)| {
        for term in terms {
            for (s, &t) in sum.iter_mut().zip(&term[i * CHUNK..]) {
                *s += t;
            }
        }
    });
}
