//! ReLU on [`Cpu`]: forward and backward in parallel chunks; the backward pass reads a
//! bit mask of where the input was positive, which the forward pass writes.

use dfdx::prelude::*;
use rayon::prelude::*;

use super::{output, restore, split_contiguous, take};
use crate::ops::ReluKernel;

/// Elements per parallel chunk (a whole number of mask words).
const CHUNK: usize = 1 << 14;
/// Mask bits per word.
const BITS: usize = u64::BITS as usize;

impl ReluKernel for Cpu {
    fn try_relu_op<S: Shape, T: Tape<f32, Self>>(
        x: Tensor<S, f32, Self, T>,
    ) -> Result<Tensor<S, f32, Self, T>, Self::Err> {
        let (x, mut tape, xs) = split_contiguous(x)?;
        let mut ys = output(x.device(), xs.len())?;
        let mut mask = alloc::vec![0u64; xs.len().div_ceil(BITS)];
        ys.par_chunks_mut(CHUNK).zip(xs.par_chunks(CHUNK)).zip(mask.par_chunks_mut(CHUNK / BITS)).for_each(
            |((ys, xs), mask)| {
                for ((ys, xs), word) in ys.chunks_mut(BITS).zip(xs.chunks(BITS)).zip(mask) {
                    for (bit, (y, &v)) in ys.iter_mut().zip(xs).enumerate() {
                        *y = v.max(0.0);
                        *word |= u64::from(v > 0.0) << bit;
                    }
                }
            },
        );
        drop(xs);
        let y = x.device().try_tensor_from_vec(ys, *x.shape())?;
        if T::OWNS_TAPE {
            let (x_ghost, y_ghost) = (x.ghost(), y.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                add_where_positive(grads.get_or_alloc_mut(&x_ghost)?, &gy, &mask);
                restore(grads.get_or_alloc_mut(&y_ghost)?, gy);
                Ok(())
            });
        }
        Ok(y.put_tape(tape))
    }
}

/// `gx += gy` where the mask's bit is set.
fn add_where_positive(gx: &mut [f32], gy: &[f32], mask: &[u64]) {
    gx.par_chunks_mut(CHUNK).zip(gy.par_chunks(CHUNK)).zip(mask.par_chunks(CHUNK / BITS)).for_each(
        |((gx, gy), mask)| {
            for ((gx, gy), &word) in gx.chunks_mut(BITS).zip(gy.chunks(BITS)).zip(mask) {
                for (bit, (g, &d)) in gx.iter_mut().zip(gy).enumerate() {
                    // All ones where the bit is set, else zero: `d` or +0, without a branch.
                    let keep = ((word >> bit) as u32 & 1).wrapping_neg();
                    *g += f32::from_bits(d.to_bits() & keep);
                }
            }
        },
    );
}
