//! The fast CPU convolution: im2col + `gemm` over groups of images, forward and backward,
//! and its registration as a differentiable dfdx op on [`Cpu`].

use alloc::vec::Vec;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::gemm::{sgemm, MatRef};
use super::im2col::{
    add_channels_first, add_taps_to_weights, im2row, row2im, to_channels_last, weights_to_taps, Taps,
};
use super::profile::{timed, Phase};
use super::scratch::Scratch;
use super::{output, read, restore, split_contiguous, take};
use crate::ops::{Conv2dKernel, ConvParams, Geometry2d};

/// Floats of scratch (im2col matrix) one group of images may use: 16 MiB.
const GROUP_BUDGET: usize = 1 << 22;

/// Images per group: as many as fit the scratch budget, at least one.
pub(crate) fn group_size(g: &Geometry2d) -> usize {
    let per_image = Taps::new(g).len().max(g.out_channels) * g.out_plane();
    (GROUP_BUDGET / per_image.max(1)).clamp(1, g.batch.max(1))
}

/// The batch in groups of at most [`group_size`] images: (first image, image count).
fn groups(g: &Geometry2d) -> impl Iterator<Item = (usize, usize)> + '_ {
    let size = group_size(g);
    (0..g.batch).step_by(size).map(move |first| (first, size.min(g.batch - first)))
}

/// What the forward and backward passes share: the live taps, the sizes, the weights in
/// tap order, and the im2col of one group of images.
struct Lowering {
    g: Geometry2d,
    taps: Taps,
    /// Live taps (C·K·K less the ones that only read padding).
    ckk: usize,
    /// OH·OW.
    plane_out: usize,
    /// O.
    o: usize,
    /// Floats of one input image, C·H·W.
    img_in: usize,
    /// Floats of one output image, O·OH·OW.
    img_out: usize,
    /// Images per group.
    group: usize,
    /// The weights as (O, live taps).
    weight: Vec<f32>,
}

impl Lowering {
    /// The plan for `g`; `None` when the output is empty (there is nothing to compute).
    fn new(weight: &[f32], g: &Geometry2d) -> Option<Self> {
        if g.output_len() == 0 {
            return None;
        }
        let taps = Taps::new(g);
        let (ckk, plane_out, o) = (taps.len(), g.out_plane(), g.out_channels);
        let weight = weights_to_taps(weight, g, &taps);
        let (img_in, img_out, group) = (g.in_channels * g.in_plane(), o * plane_out, group_size(g));
        Some(Self { g: *g, taps, ckk, plane_out, o, img_in, img_out, group, weight })
    }

    /// The whole batch channels-last, which the forward pass makes and the backward pass
    /// keeps instead of the input.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W); returns (N, H, W, C).
    fn channels_last(&self, x: &[f32]) -> Scratch {
        let mut last = Scratch::take(self.g.batch * self.img_in);
        timed(Phase::ConvForwardIm2col, || to_channels_last(x, &self.g, self.g.batch, &mut last));
        last
    }

    /// Scratch for the im2col rows of one group.
    fn rows(&self) -> Scratch {
        Scratch::take(self.group * self.plane_out * self.ckk)
    }

    /// The im2col rows of images `first..first + count` of the channels-last batch
    /// `x_last`, in the part of `rows` they fill.
    ///
    /// # Shapes
    /// `x_last`: (N, H, W, C); returns (count·OH·OW, live taps).
    fn im2col<'s>(
        &self,
        x_last: &[f32],
        (first, count): (usize, usize),
        rows: &'s mut [f32],
        phase: Phase,
    ) -> &'s mut [f32] {
        let rows = &mut rows[..count * self.plane_out * self.ckk];
        timed(phase, || {
            im2row(&x_last[first * self.img_in..][..count * self.img_in], &self.g, &self.taps, count, rows)
        });
        rows
    }
}

/// `y = conv(x, weight) + bias`: `y_rows = rows · Wᵀ`, then transposed into (N, O, OH·OW).
///
/// # Shapes
/// `x`: (N, C, H, W), `weight`: (O, C, K, K), `bias`: (O,), `y`: (N, O, OH, OW).
pub fn forward(x: &[f32], weight: &[f32], bias: Option<&[f32]>, g: &Geometry2d, y: &mut [f32]) {
    if let Some(lo) = Lowering::new(weight, g) {
        forward_lowered(&lo.channels_last(x), &lo, bias, y);
    }
}

/// [`forward`] with the weights in tap order and the input channels-last, (N, H, W, C).
fn forward_lowered(x_last: &[f32], lo: &Lowering, bias: Option<&[f32]>, y: &mut [f32]) {
    let (g, ckk, plane_out, o, img_out) = (&lo.g, lo.ckk, lo.plane_out, lo.o, lo.img_out);
    let mut rows = lo.rows();
    let mut product = Scratch::take(lo.group * plane_out * o);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let rows = lo.im2col(x_last, (first, count), &mut rows, Phase::ConvForwardIm2col);
        let product = &mut product[..positions * o];
        timed(Phase::ConvForwardGemm, || {
            let (a, b) = (MatRef::rows(rows, ckk), MatRef::transposed(&lo.weight, ckk));
            sgemm([positions, ckk, o], a, b, product, false)
        });
        // product is (count, OH·OW, O); y wants (count, O, OH·OW).
        let y_group = &mut y[first * img_out..][..count * img_out];
        timed(Phase::ConvForwardScatter, || {
            y_group.par_chunks_mut(plane_out).enumerate().for_each(|(no, out)| {
                let (n, oc) = (no / o, no % o);
                let b = bias.map_or(0.0, |b| b[oc]);
                let src = &product[n * plane_out * o..][..plane_out * o];
                for (p, v) in out.iter_mut().enumerate() {
                    *v = src[p * o + oc] + b;
                }
            })
        });
    }
}

/// Accumulates the gradients of a convolution given the output gradient `gy`:
/// `gx += ∂L/∂x`, `gw += ∂L/∂weight`, `gb += ∂L/∂bias`. With `gy_t` the (O, N·OH·OW) matrix
/// of `gy`: `∂W = gy_t · rows`, `∂rows = gy_tᵀ · W`, then row2im.
///
/// # Shapes
/// `x`, `gx`: (N, C, H, W); `weight`, `gw`: (O, C, K, K); `gb`: (O,); `gy`: (N, O, OH, OW).
pub fn backward(
    x: &[f32],
    weight: &[f32],
    g: &Geometry2d,
    gy: &[f32],
    gx: &mut [f32],
    gw: &mut [f32],
    gb: Option<&mut [f32]>,
) {
    if let Some(lo) = Lowering::new(weight, g) {
        backward_lowered(&lo.channels_last(x), &lo, gy, gx, gw, gb);
    }
}

/// [`backward`] with the weights in tap order and the input channels-last, (N, H, W, C).
fn backward_lowered(
    x_last: &[f32],
    lo: &Lowering,
    gy: &[f32],
    gx: &mut [f32],
    gw: &mut [f32],
    mut gb: Option<&mut [f32]>,
) {
    let (g, ckk, plane_out, o, img_in, img_out) = (&lo.g, lo.ckk, lo.plane_out, lo.o, lo.img_in, lo.img_out);
    let mut gw_taps = Scratch::zeroed(o * ckk);
    let mut rows = lo.rows();
    let mut gy_t = Scratch::take(o * lo.group * plane_out);
    let mut gx_last = Scratch::take(lo.group * img_in);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let rows = lo.im2col(x_last, (first, count), &mut rows, Phase::ConvBackwardIm2col);
        let gy_t = &mut gy_t[..o * positions];
        // gy is (count, O, OH·OW); the products want (O, count·OH·OW).
        let gy_group = &gy[first * img_out..][..count * img_out];
        timed(Phase::ConvBackwardCol2im, || {
            gy_t.par_chunks_mut(positions).enumerate().for_each(|(oc, row)| {
                for n in 0..count {
                    row[n * plane_out..][..plane_out]
                        .copy_from_slice(&gy_group[n * img_out + oc * plane_out..][..plane_out]);
                }
            })
        });
        timed(Phase::ConvBackwardWeight, || {
            let (a, b) = (MatRef::rows(gy_t, positions), MatRef::rows(rows, ckk));
            sgemm([o, positions, ckk], a, b, &mut gw_taps, true);
            if let Some(gb) = gb.as_deref_mut() {
                gb.par_iter_mut().zip(gy_t.par_chunks(positions)).for_each(|(b, row)| {
                    *b += row.iter().map(|&v| v as f64).sum::<f64>() as f32;
                });
            }
        });
        timed(Phase::ConvBackwardInput, || {
            let (a, b) = (MatRef::transposed(gy_t, positions), MatRef::rows(&lo.weight, ckk));
            sgemm([positions, o, ckk], a, b, rows, false)
        });
        timed(Phase::ConvBackwardCol2im, || {
            let gx_last = &mut gx_last[..count * img_in];
            row2im(rows, g, &lo.taps, count, gx_last);
            add_channels_first(gx_last, g, count, &mut gx[first * img_in..]);
        });
    }
    add_taps_to_weights(&gw_taps, g, &lo.taps, gw, true);
}

impl Conv2dKernel for Cpu {
    fn try_conv2d<X: Shape, Wt: Shape, Bs: Shape, Y: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        p: ConvParams<'_, Wt, Bs, Self>,
        y_shape: Y,
    ) -> Result<Tensor<Y, f32, Self, T>, Self::Err> {
        let ConvParams { weight, bias, g } = p;
        let (x, mut tape, xs) = split_contiguous(x)?;
        let lowering = Lowering::new(&read(weight), &g);
        let bs = bias.map(read);
        let mut ys = output(x.device(), g.output_len())?;
        // The backward pass reads the input channels-last, as the forward pass made it.
        let x_last = lowering.as_ref().map(|lo| lo.channels_last(&xs));
        drop(xs);
        if let (Some(lo), Some(x_last)) = (&lowering, &x_last) {
            forward_lowered(x_last, lo, bs.as_deref(), &mut ys);
        }
        let y = x.device().try_tensor_from_vec(ys, y_shape)?;
        if T::OWNS_TAPE {
            let (x_ghost, y_ghost, w_ghost) = (x.ghost(), y.ghost(), weight.ghost());
            let b_ghost = bias.map(|b| b.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                let mut gw = take(grads.get_or_alloc_mut(&w_ghost)?);
                let mut gb = match &b_ghost {
                    Some(b) => Some(take(grads.get_or_alloc_mut(b)?)),
                    None => None,
                };
                let gx = grads.get_or_alloc_mut(&x_ghost)?;
                if let (Some(lo), Some(x_last)) = (&lowering, &x_last) {
                    backward_lowered(x_last, lo, &gy, gx, &mut gw, gb.as_deref_mut());
                }
                restore(grads.get_or_alloc_mut(&w_ghost)?, gw);
                if let (Some(b), Some(data)) = (&b_ghost, gb) {
                    restore(grads.get_or_alloc_mut(b)?, data);
                }
                restore(grads.get_or_alloc_mut(&y_ghost)?, gy);
                Ok(())
            });
        }
        Ok(y.put_tape(tape))
    }
}
