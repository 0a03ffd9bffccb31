//! Direct convolution on channels-last batches: no patch matrix. Each block of [`MR`]
//! output pixels by [`NR`] output channels is summed in AVX-512 registers over the kernel's
//! taps and the input channels, reading each tap's input pixel where it lies (or a row of
//! zeros in the padding) — a batch-reduce product whose operands are the image itself.
//! The backward pass's input gradient of a stride-1 convolution is the same operation on
//! the output gradient, with the kernel flipped and its channels swapped.
//!
//! Only on x86-64 with AVX-512F (detected at run time) and for output channels in multiples
//! of [`NR`]; elsewhere [`applies`] says no and the caller takes im2row + gemm.

#[cfg(target_arch = "x86_64")]
mod avx512;
mod forward;
mod weight_gradient;
pub(crate) mod winograd;

use alloc::vec::Vec;

use rayon::prelude::*;

use crate::ops::Geometry2d;

pub(crate) use forward::forward;
pub(crate) use weight_gradient::weight_gradient;

/// Output pixels per register block.
const MR: usize = 6;
/// Output channels per register block: four 16-lane registers.
pub(crate) const NR: usize = 64;

/// Whether this machine has the instructions the direct kernels need.
fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether [`forward`] computes `g` on this machine: output channels in blocks of [`NR`],
/// at least 16 input channels (a thinner input is better as one product over patches).
pub(crate) fn applies(g: &Geometry2d) -> bool {
    g.out_channels.is_multiple_of(NR) && g.out_channels > 0 && g.in_channels >= 16 && available()
}

/// The geometry of the input gradient of stride-1 `g` as a convolution of the output
/// gradient, when [`forward`] computes it: `None` for other strides.
pub(crate) fn input_gradient_geometry(g: &Geometry2d) -> Option<Geometry2d> {
    if g.stride != 1 || g.padding >= g.kernel {
        return None;
    }
    let t = Geometry2d::new(
        [g.batch, g.out_channels, g.out_height, g.out_width],
        g.in_channels,
        [g.kernel, 1, g.kernel - 1 - g.padding],
    );
    (t.out_height == g.height && t.out_width == g.width && applies(&t)).then_some(t)
}

/// Weights (O, C, K, K) as [`forward`] reads them: (C, K·K taps, O).
pub(crate) fn weights_for_forward(w: &[f32], g: &Geometry2d, out: &mut Vec<f32>) {
    let (o, c, kk) = (g.out_channels, g.in_channels, g.kernel * g.kernel);
    out.resize(c * kk * o, 0.0);
    // One input channel per task: its K·K run of each output channel, to K·K rows.
    out.par_chunks_mut(kk * o).enumerate().for_each(|(ci, taps)| {
        for oi in 0..o {
            let src = &w[(oi * c + ci) * kk..][..kk];
            for (t, &v) in src.iter().enumerate() {
                taps[t * o + oi] = v;
            }
        }
    });
}

/// Weights (O, C, K, K) as the input gradient's convolution reads them: taps flipped,
/// input and output channels swapped, (O, K·K taps, C).
pub(crate) fn weights_for_input_gradient(w: &[f32], g: &Geometry2d, out: &mut Vec<f32>) {
    let (o, c, kk) = (g.out_channels, g.in_channels, g.kernel * g.kernel);
    out.resize(o * kk * c, 0.0);
    out.par_chunks_mut(kk * c).zip(w.par_chunks(c * kk)).for_each(|(taps, src)| {
        for (ci, run) in src.chunks_exact(kk).enumerate() {
            for (t, &v) in run.iter().rev().enumerate() {
                taps[t * c + ci] = v;
            }
        }
    });
}

/// A weight gradient in [`weight_gradient`]'s (C, K·K, O) order to (O, C, K, K), written.
pub(crate) fn weights_to_model_order(ordered: &[f32], g: &Geometry2d, w: &mut [f32]) {
    let (o, c, kk) = (g.out_channels, g.in_channels, g.kernel * g.kernel);
    const BLOCK: usize = 16;
    // BLOCK output channels per task: BLOCK contiguous values read per (channel, tap).
    w[..o * c * kk].par_chunks_mut(BLOCK * c * kk).enumerate().for_each(|(b, rows)| {
        let ob = b * BLOCK;
        let width = rows.len() / (c * kk);
        for ci in 0..c {
            for t in 0..kk {
                let src = &ordered[(ci * kk + t) * o + ob..][..width];
                for (k, &v) in src.iter().enumerate() {
                    rows[(k * c + ci) * kk + t] = v;
                }
            }
        }
    });
}

/// How a block's sums reach the output.
#[derive(Clone, Copy)]
enum Store<'a> {
    /// `y = sums (+ bias)`.
    Write(Option<&'a [f32]>),
    /// `y += sums`.
    Add,
}

/// The weights a block multiplies: tap `t`'s start at `w[t · tap_stride..]`, `cn` input
/// channels of [`NR`] outputs each, `ldw` apart.
#[derive(Clone, Copy)]
struct Panel<'a> {
    w: &'a [f32],
    cn: usize,
    ldw: usize,
    tap_stride: usize,
}

/// Where a block's sums go: one row of [`NR`] channels a pixel, `ldd` apart in `dst`,
/// stored as `mode` says.
struct Out<'a> {
    dst: &'a mut [f32],
    ldd: usize,
    mode: Store<'a>,
}

#[cfg(test)]
mod tests;
