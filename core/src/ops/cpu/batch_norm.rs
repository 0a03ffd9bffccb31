//! The fused CPU batch norm: per-channel statistics in one parallel pass, normalisation in
//! another, and the closed-form backward (two passes), registered as a dfdx op on [`Cpu`].

use alloc::vec::Vec;

use dfdx::prelude::*;
use rayon::prelude::*;

use super::profile::{timed, Phase};
use super::{output, read, read_scratch, restore, split_contiguous, take};
use crate::ops::{BatchNormKernel, NormGeometry, NormParams, Running};

/// `Σ f(a[i], b[i])` in 16 f32 lanes (so that it vectorises), returned as f64. Planes are at
/// most a few thousand values, well within f32's accuracy.
#[inline]
fn lanes(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    let mut acc = [0.0f32; 16];
    let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
    let rest: f64 = ca.remainder().iter().zip(cb.remainder()).map(|(&x, &y)| f(x, y) as f64).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..16 {
            acc[l] += f(x[l], y[l]);
        }
    }
    acc.iter().map(|&v| v as f64).sum::<f64>() + rest
}

/// Per-channel sums over (N, H·W) of `f(x, y, channel)` for two tensors of the same layout,
/// channels in parallel.
fn channel_sums(
    x: &[f32],
    y: &[f32],
    g: &NormGeometry,
    f: impl Fn(f32, f32, usize) -> f32 + Sync,
) -> Vec<f64> {
    (0..g.channels)
        .into_par_iter()
        .map(|c| {
            (0..g.batch)
                .map(|n| {
                    let at = (n * g.channels + c) * g.plane;
                    lanes(&x[at..][..g.plane], &y[at..][..g.plane], |a, b| f(a, b, c))
                })
                .sum()
        })
        .collect()
}

/// Per-channel mean and biased variance (two passes, for accuracy).
pub fn statistics(x: &[f32], g: &NormGeometry) -> (Vec<f64>, Vec<f64>) {
    let m = g.per_channel().max(1) as f64;
    let mean: Vec<f64> = channel_sums(x, x, g, |v, _, _| v).into_iter().map(|s| s / m).collect();
    let centre: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    let var = channel_sums(x, x, g, |v, _, c| (v - centre[c]) * (v - centre[c]))
        .into_iter()
        .map(|s| s / m)
        .collect();
    (mean, var)
}

/// `y = x · a[c] + b[c]`, planes in parallel.
fn affine(x: &[f32], a: &[f32], b: &[f32], g: &NormGeometry, y: &mut [f32]) {
    if g.plane == 0 {
        return;
    }
    y.par_chunks_mut(g.plane).zip(x.par_chunks(g.plane)).enumerate().for_each(|(nc, (y, x))| {
        let c = nc % g.channels;
        for (o, &v) in y.iter_mut().zip(x) {
            *o = v * a[c] + b[c];
        }
    });
}

/// The closed-form backward: with x̂ = (x − μ)/σ, `dβ += Σ gy`, `dγ += Σ gy·x̂`,
/// `gx += γ/σ · (gy − mean(gy) − x̂ · mean(gy·x̂))`.
///
/// # Shapes
/// `x`, `gy`, `gx`: (N, C, H·W); the rest (C,).
#[allow(clippy::too_many_arguments)]
pub fn backward(
    x: &[f32],
    gy: &[f32],
    mean: &[f64],
    inv_std: &[f64],
    scale: &[f32],
    g: &NormGeometry,
    gx: &mut [f32],
    gscale: &mut [f32],
    gbias: &mut [f32],
) {
    let m = g.per_channel().max(1) as f64;
    let centre: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    let sum_gy = channel_sums(gy, gy, g, |d, _, _| d);
    let sum_gy_xc = channel_sums(gy, x, g, |d, v, c| d * (v - centre[c]));
    for c in 0..g.channels {
        gbias[c] += sum_gy[c] as f32;
        gscale[c] += (sum_gy_xc[c] * inv_std[c]) as f32;
    }
    if g.plane == 0 {
        return;
    }
    // gx += k (gy − mean(gy) − (x − μ) · q), with k = γ/σ and q = mean(gy·x̂)/σ.
    let k: Vec<f32> = (0..g.channels).map(|c| (scale[c] as f64 * inv_std[c]) as f32).collect();
    let mean_gy: Vec<f32> = sum_gy.iter().map(|&s| (s / m) as f32).collect();
    let q: Vec<f32> = (0..g.channels).map(|c| (sum_gy_xc[c] / m * inv_std[c] * inv_std[c]) as f32).collect();
    gx.par_chunks_mut(g.plane).zip(gy.par_chunks(g.plane).zip(x.par_chunks(g.plane))).enumerate().for_each(
        |(nc, (gx, (gy, x)))| {
            let c = nc % g.channels;
            let (k, a, q, mu) = (k[c], mean_gy[c], q[c], centre[c]);
            for ((o, &d), &v) in gx.iter_mut().zip(gy).zip(x) {
                *o += k * (d - a - (v - mu) * q);
            }
        },
    );
}

impl BatchNormKernel for Cpu {
    fn try_batch_norm_train<X: Shape, P: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        p: NormParams<'_, P, Self>,
        running: Running<&mut Tensor<P, f32, Self>>,
    ) -> Result<Tensor<X, f32, Self, T>, Self::Err> {
        let (g, momentum) = (p.g, p.momentum);
        let (x, mut tape, xs) = split_contiguous(x)?;
        let (scale, bias) = (read(p.scale), read(p.bias));
        let mut ys = output(x.device(), xs.len())?;
        let (mean, var) = timed(Phase::NormForward, || {
            let (mean, var) = statistics(&xs, &g);
            let inv: Vec<f64> = var.iter().map(|v| 1.0 / (v + p.epsilon).sqrt()).collect();
            let a: Vec<f32> = (0..g.channels).map(|c| (scale[c] as f64 * inv[c]) as f32).collect();
            let b: Vec<f32> = (0..g.channels)
                .map(|c| (bias[c] as f64 - mean[c] * scale[c] as f64 * inv[c]) as f32)
                .collect();
            affine(&xs, &a, &b, &g, &mut ys);
            (mean, var)
        });
        drop(xs);
        // Running statistics, as PyTorch: the variance unbiased.
        let m = g.per_channel() as f64;
        let unbias = if m > 1.0 { m / (m - 1.0) } else { 1.0 };
        let (rm, rv) = (read(running.mean), read(running.var));
        let rm: Vec<f32> = rm
            .iter()
            .zip(&mean)
            .map(|(&r, &b)| ((1.0 - momentum) * r as f64 + momentum * b) as f32)
            .collect();
        let rv: Vec<f32> = rv
            .iter()
            .zip(&var)
            .map(|(&r, &b)| ((1.0 - momentum) * r as f64 + momentum * b * unbias) as f32)
            .collect();
        running.mean.copy_from(&rm);
        running.var.copy_from(&rv);
        let y = x.device().try_tensor_from_vec(ys, *x.shape())?;
        if T::OWNS_TAPE {
            let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + p.epsilon).sqrt()).collect();
            let (y_ghost, s_ghost, b_ghost) = (y.ghost(), p.scale.ghost(), p.bias.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                let mut gs = take(grads.get_or_alloc_mut(&s_ghost)?);
                let mut gb = take(grads.get_or_alloc_mut(&b_ghost)?);
                let xs = read_scratch(&x);
                let gx = grads.get_or_alloc_mut(&x)?;
                timed(Phase::NormBackward, || {
                    backward(&xs, &gy, &mean, &inv_std, &scale, &g, gx, &mut gs, &mut gb)
                });
                restore(grads.get_or_alloc_mut(&s_ghost)?, gs);
                restore(grads.get_or_alloc_mut(&b_ghost)?, gb);
                restore(grads.get_or_alloc_mut(&y_ghost)?, gy);
                Ok(())
            });
        }
        Ok(y.put_tape(tape))
    }

    fn try_batch_norm_infer<X: Shape, P: Shape>(
        x: Tensor<X, f32, Self>,
        p: NormParams<'_, P, Self>,
        running: Running<&Tensor<P, f32, Self>>,
    ) -> Result<Tensor<X, f32, Self>, Self::Err> {
        let (x, _, xs) = split_contiguous(x)?;
        let g = p.g;
        let (scale, bias, rm, rv) = (read(p.scale), read(p.bias), read(running.mean), read(running.var));
        let inv: Vec<f64> = rv.iter().map(|&v| 1.0 / (v as f64 + p.epsilon).sqrt()).collect();
        let a: Vec<f32> = (0..g.channels).map(|c| (scale[c] as f64 * inv[c]) as f32).collect();
        let b: Vec<f32> = (0..g.channels)
            .map(|c| (bias[c] as f64 - rm[c] as f64 * scale[c] as f64 * inv[c]) as f32)
            .collect();
        let mut ys = output(x.device(), xs.len())?;
        timed(Phase::NormForward, || affine(&xs, &a, &b, &g, &mut ys));
        x.device().try_tensor_from_vec(ys, *x.shape())
    }
}
