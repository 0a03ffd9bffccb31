//! The fast CPU convolution: im2col + `gemm` over groups of images, forward and backward,
//! and its registration as a differentiable dfdx op on [`Cpu`].

use alloc::vec;
use alloc::vec::Vec;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::gemm::{sgemm, MatRef};
use super::im2col::{add_taps_to_weights, im2row, row2im_add, transpose_channels, weights_to_taps, Taps};
use super::profile::{timed, Phase};
use super::scratch::Scratch;
use super::{read, read_scratch, restore, split_contiguous, take};
use crate::ops::{Conv2dKernel, Geometry2d};

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

    /// Scratch for one group: its images channels-last, and their im2col rows.
    fn scratch(&self) -> (Scratch, Scratch) {
        (Scratch::take(self.group * self.img_in), Scratch::take(self.group * self.plane_out * self.ckk))
    }

    /// Images `first..first + count` of `x` channels-last into `last`, and their im2col rows
    /// into `rows`; returns the parts of both that the group fills.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W); returns (count, H, W, C) and (count·OH·OW, live taps).
    fn im2col<'s>(
        &self,
        x: &[f32],
        (first, count): (usize, usize),
        (last, rows): (&'s mut [f32], &'s mut [f32]),
        phase: Phase,
    ) -> (&'s mut [f32], &'s mut [f32]) {
        let (last, rows) = (&mut last[..count * self.img_in], &mut rows[..count * self.plane_out * self.ckk]);
        timed(phase, || {
            transpose_channels(&x[first * self.img_in..][..count * self.img_in], &self.g, count, last, true);
            im2row(last, &self.g, &self.taps, count, rows)
        });
        (last, rows)
    }
}

/// `y = conv(x, weight) + bias`: `y_rows = rows · Wᵀ`, then transposed into (N, O, OH·OW).
///
/// # Shapes
/// `x`: (N, C, H, W), `weight`: (O, C, K, K), `bias`: (O,), `y`: (N, O, OH, OW).
pub fn forward(x: &[f32], weight: &[f32], bias: Option<&[f32]>, g: &Geometry2d, y: &mut [f32]) {
    if let Some(lo) = Lowering::new(weight, g) {
        forward_lowered(x, &lo, bias, y);
    }
}

/// [`forward`] with the weights already in tap order.
fn forward_lowered(x: &[f32], lo: &Lowering, bias: Option<&[f32]>, y: &mut [f32]) {
    let (g, ckk, plane_out, o, img_out) = (&lo.g, lo.ckk, lo.plane_out, lo.o, lo.img_out);
    let (mut last, mut rows) = lo.scratch();
    let mut product = Scratch::take(lo.group * plane_out * o);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let (_, rows) = lo.im2col(x, (first, count), (&mut last, &mut rows), Phase::ConvForwardIm2col);
        let product = &mut product[..positions * o];
        timed(Phase::ConvForwardGemm, || {
            sgemm(
                [positions, ckk, o],
                MatRef::rows(rows, ckk),
                MatRef::transposed(&lo.weight, ckk),
                product,
                false,
                true,
            )
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
        backward_lowered(x, &lo, gy, gx, gw, gb);
    }
}

/// [`backward`] with the weights already in tap order.
fn backward_lowered(
    x: &[f32],
    lo: &Lowering,
    gy: &[f32],
    gx: &mut [f32],
    gw: &mut [f32],
    mut gb: Option<&mut [f32]>,
) {
    let (g, ckk, plane_out, o, img_in, img_out) = (&lo.g, lo.ckk, lo.plane_out, lo.o, lo.img_in, lo.img_out);
    let mut gw_taps = Scratch::zeroed(o * ckk);
    let (mut last, mut rows) = lo.scratch();
    let mut gy_t = Scratch::take(o * lo.group * plane_out);
    let mut gx_group = Scratch::take(lo.group * img_in);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let (last, rows) = lo.im2col(x, (first, count), (&mut last, &mut rows), Phase::ConvBackwardIm2col);
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
            sgemm(
                [o, positions, ckk],
                MatRef::rows(gy_t, positions),
                MatRef::rows(rows, ckk),
                &mut gw_taps,
                true,
                true,
            );
            if let Some(gb) = gb.as_deref_mut() {
                for (b, row) in gb.iter_mut().zip(gy_t.chunks_exact(positions)) {
                    *b += row.iter().map(|&v| v as f64).sum::<f64>() as f32;
                }
            }
        });
        timed(Phase::ConvBackwardInput, || {
            sgemm(
                [positions, o, ckk],
                MatRef::transposed(gy_t, positions),
                MatRef::rows(&lo.weight, ckk),
                rows,
                false,
                true,
            )
        });
        timed(Phase::ConvBackwardCol2im, || {
            last.fill(0.0);
            row2im_add(rows, g, &lo.taps, count, last);
            let gx_group = &mut gx_group[..count * img_in];
            transpose_channels(last, g, count, gx_group, false);
            for (d, s) in gx[first * img_in..][..count * img_in].iter_mut().zip(gx_group.iter()) {
                *d += s;
            }
        });
    }
    add_taps_to_weights(&gw_taps, g, &lo.taps, gw);
}

impl Conv2dKernel for Cpu {
    fn try_conv2d<X: Shape, Wt: Shape, Bs: Shape, Y: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        weight: &Tensor<Wt, f32, Self>,
        bias: Option<&Tensor<Bs, f32, Self>>,
        g: Geometry2d,
        y_shape: Y,
    ) -> Result<Tensor<Y, f32, Self, T>, Self::Err> {
        let (x, mut tape, xs) = split_contiguous(x)?;
        let lowering = Lowering::new(&read(weight), &g);
        let bs = bias.map(read);
        let mut ys = vec![0.0f32; g.output_len()];
        if let Some(lo) = &lowering {
            forward_lowered(&xs, lo, bs.as_deref(), &mut ys);
        }
        drop(xs);
        let y = x.device().try_tensor_from_vec(ys, y_shape)?;
        if T::OWNS_TAPE {
            let (y_ghost, w_ghost) = (y.ghost(), weight.ghost());
            let b_ghost = bias.map(|b| b.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                let mut gw = take(grads.get_or_alloc_mut(&w_ghost)?);
                let mut gb = match &b_ghost {
                    Some(b) => Some(take(grads.get_or_alloc_mut(b)?)),
                    None => None,
                };
                let xs = read_scratch(&x);
                let gx = grads.get_or_alloc_mut(&x)?;
                if let Some(lo) = &lowering {
                    backward_lowered(&xs, lo, &gy, gx, &mut gw, gb.as_deref_mut());
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
