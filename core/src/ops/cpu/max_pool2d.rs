//! The fast CPU max-pooling: one pass that keeps the argmax of every window, and a backward
//! pass that routes each output gradient to it; registered as a dfdx op on [`Cpu`].

use alloc::vec;
use alloc::vec::Vec;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::profile::{timed, Phase};
use super::{output, restore, split_contiguous, take};
use crate::ops::{Geometry2d, MaxPool2dKernel};

/// Marks a window that lies entirely in the padding (it has no argmax).
const NO_SOURCE: u32 = u32::MAX;

/// The inputs window `o` covers along an axis of `extent`: `start..end` (empty if none).
pub(crate) fn span(g: &Geometry2d, o: usize, extent: usize) -> (usize, usize) {
    let first = o * g.stride;
    let start = first.saturating_sub(g.padding).min(extent);
    let end = (first + g.kernel).saturating_sub(g.padding).min(extent);
    (start, end.max(start))
}

/// `y = max over each window of x`, and the position (within its input plane) of each maximum.
///
/// # Shapes
/// `x`: (N, C, H, W); `y`, `argmax`: (N, C, OH, OW).
pub fn forward(x: &[f32], g: &Geometry2d, y: &mut [f32], argmax: &mut [u32]) {
    let (plane, out_plane, w) = (g.in_plane(), g.out_plane(), g.width);
    if out_plane == 0 || plane == 0 {
        return;
    }
    let rows: Vec<(usize, usize)> = (0..g.out_height).map(|i| span(g, i, g.height)).collect();
    let cols: Vec<(usize, usize)> = (0..g.out_width).map(|j| span(g, j, w)).collect();
    y.par_chunks_mut(out_plane).zip(argmax.par_chunks_mut(out_plane)).zip(x.par_chunks(plane)).for_each(
        |((y, arg), x)| {
            for (i, &(r0, r1)) in rows.iter().enumerate() {
                for (j, &(c0, c1)) in cols.iter().enumerate() {
                    let (mut best, mut at) = (f32::NEG_INFINITY, NO_SOURCE);
                    if r0 < r1 && c0 < c1 {
                        (best, at) = (x[r0 * w + c0], (r0 * w + c0) as u32);
                        for r in r0..r1 {
                            for (s, &v) in x[r * w + c0..r * w + c1].iter().enumerate() {
                                // `>` keeps the first maximum and NaN propagates, as in PyTorch;
                                // selects, not branches (maxima of real data mispredict).
                                let take = (v > best) | v.is_nan();
                                best = if take { v } else { best };
                                at = if take { (r * w + c0 + s) as u32 } else { at };
                            }
                        }
                    }
                    y[i * g.out_width + j] = best;
                    arg[i * g.out_width + j] = at;
                }
            }
        },
    );
}

/// `gx[argmax] += gy` for every output.
///
/// # Shapes
/// `gy`, `argmax`: (N, C, OH, OW); `gx`: (N, C, H, W).
pub fn backward(gy: &[f32], argmax: &[u32], g: &Geometry2d, gx: &mut [f32]) {
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    if out_plane == 0 || plane == 0 {
        return;
    }
    gx.par_chunks_mut(plane).zip(gy.par_chunks(out_plane).zip(argmax.par_chunks(out_plane))).for_each(
        |(gx, (gy, arg))| {
            for (&d, &a) in gy.iter().zip(arg) {
                if a != NO_SOURCE {
                    gx[a as usize] += d;
                }
            }
        },
    );
}

impl MaxPool2dKernel for Cpu {
    fn try_max_pool2d<X: Shape, Y: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        g: Geometry2d,
        y_shape: Y,
    ) -> Result<Tensor<Y, f32, Self, T>, Self::Err> {
        let (x, mut tape, xs) = split_contiguous(x)?;
        let mut ys = output(x.device(), g.output_len())?;
        let mut argmax: Vec<u32> = vec![NO_SOURCE; g.output_len()];
        timed(Phase::PoolForward, || forward(&xs, &g, &mut ys, &mut argmax));
        drop(xs);
        let y = x.device().try_tensor_from_vec(ys, y_shape)?;
        if T::OWNS_TAPE {
            let (x_ghost, y_ghost) = (x.ghost(), y.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                let gx = grads.get_or_alloc_mut(&x_ghost)?;
                timed(Phase::PoolBackward, || backward(&gy, &argmax, &g, gx));
                restore(grads.get_or_alloc_mut(&y_ghost)?, gy);
                Ok(())
            });
        }
        Ok(y.put_tape(tape))
    }
}
