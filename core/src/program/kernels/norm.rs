//! Batch normalisation in training mode on channels-last batches, with an optional ReLU:
//! statistics over every pixel of the batch per channel (two passes, for accuracy), the
//! normalisation in one pass, the closed-form backward from the input and the output.

use alloc::vec::Vec;

use rayon::prelude::*;

use super::{column_sums, rows_per_task};

/// The batch's statistics of one batch norm, kept from the forward pass for the backward.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Stats {
    /// Per-channel mean.
    pub mean: Vec<f64>,
    /// Per-channel biased variance.
    pub var: Vec<f64>,
    /// `1 / sqrt(var + ε)`.
    pub inv_std: Vec<f64>,
}

/// `y = γ (x − μ) / σ + β`, then ReLU if `relu`; returns the batch's statistics.
///
/// # Shapes
/// `x`, `y`: (N·H·W, C); `scale`, `bias`: (C,).
pub(crate) fn forward(
    x: &[f32],
    scale: &[f32],
    bias: &[f32],
    epsilon: f64,
    relu: bool,
    y: &mut [f32],
) -> Stats {
    let c = scale.len();
    let m = (x.len() / c.max(1)).max(1) as f64;
    let sum = |acc: &mut [f32], row: &[f32], _: &[f32]| acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    let mean: Vec<f64> = column_sums(x, x, c, sum).into_iter().map(|s| s / m).collect();
    let centre: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
    let var: Vec<f64> = column_sums(x, x, c, |acc, row, _| {
        for ((a, &v), &mu) in acc.iter_mut().zip(row).zip(&centre) {
            *a += (v - mu) * (v - mu);
        }
    })
    .into_iter()
    .map(|s| s / m)
    .collect();
    let inv_std: Vec<f64> = var.iter().map(|v| 1.0 / (v + epsilon).sqrt()).collect();
    let a: Vec<f32> = (0..c).map(|ch| (f64::from(scale[ch]) * inv_std[ch]) as f32).collect();
    let b: Vec<f32> = (0..c)
        .map(|ch| (f64::from(bias[ch]) - mean[ch] * f64::from(scale[ch]) * inv_std[ch]) as f32)
        .collect();
    let part = rows_per_task(c) * c;
    y.par_chunks_mut(part).zip(x.par_chunks(part)).for_each(|(y, x)| {
        for (yr, xr) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
            for (((o, &v), &a), &b) in yr.iter_mut().zip(xr).zip(&a).zip(&b) {
                let t = v * a + b;
                *o = if relu { t.max(0.0) } else { t };
            }
        }
    });
    Stats { mean, var, inv_std }
}

/// The gradients of [`forward`]: with x̂ = (x − μ)/σ and gy gated by `y > 0` when `relu`,
/// `gβ = Σ gy`, `gγ = Σ gy·x̂`, `gx (+)= γ/σ · (gy − mean(gy) − x̂ · mean(gy·x̂))`.
///
/// # Shapes
/// `x`, `y`, `gy`, `gx`: (N·H·W, C); the rest (C,).
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    x: &[f32],
    y: &[f32],
    gy: &[f32],
    stats: &Stats,
    scale: &[f32],
    relu: bool,
    gx: Option<(&mut [f32], bool)>,
    gscale: &mut [f32],
    gbias: &mut [f32],
) {
    let c = scale.len();
    let m = (x.len() / c.max(1)).max(1) as f64;
    let centre: Vec<f32> = stats.mean.iter().map(|&v| v as f32).collect();
    let gate = |g: f32, y: f32| if !relu || y > 0.0 { g } else { 0.0 };
    // Σ gy and Σ gy·(x − μ) in one read of gy, y and x, parts summed in order.
    let part = rows_per_task(c) * c;
    let parts: Vec<(Vec<f32>, Vec<f32>)> = gy
        .par_chunks(part)
        .zip(y.par_chunks(part).zip(x.par_chunks(part)))
        .map(|(gy, (y, x))| {
            let (mut s, mut sx) = (alloc::vec![0.0f32; c], alloc::vec![0.0f32; c]);
            for ((gr, yr), xr) in gy.chunks_exact(c).zip(y.chunks_exact(c)).zip(x.chunks_exact(c)) {
                for ch in 0..c {
                    let g = gate(gr[ch], yr[ch]);
                    s[ch] += g;
                    sx[ch] += g * (xr[ch] - centre[ch]);
                }
            }
            (s, sx)
        })
        .collect();
    let (mut sum_gy, mut sum_gy_xc) = (alloc::vec![0.0f64; c], alloc::vec![0.0f64; c]);
    for (s, sx) in &parts {
        for ch in 0..c {
            sum_gy[ch] += f64::from(s[ch]);
            sum_gy_xc[ch] += f64::from(sx[ch]);
        }
    }
    for ch in 0..c {
        gbias[ch] = sum_gy[ch] as f32;
        gscale[ch] = (sum_gy_xc[ch] * stats.inv_std[ch]) as f32;
    }
    let Some((gx, accumulate)) = gx else { return };
    let k: Vec<f32> = (0..c).map(|ch| (f64::from(scale[ch]) * stats.inv_std[ch]) as f32).collect();
    let mean_gy: Vec<f32> = sum_gy.iter().map(|&s| (s / m) as f32).collect();
    let q: Vec<f32> =
        (0..c).map(|ch| (sum_gy_xc[ch] / m * stats.inv_std[ch] * stats.inv_std[ch]) as f32).collect();
    gx.par_chunks_mut(part)
        .zip(gy.par_chunks(part).zip(y.par_chunks(part).zip(x.par_chunks(part))))
        .for_each(|(gx, (gy, (y, x)))| {
            for (((dr, gr), yr), xr) in
                gx.chunks_exact_mut(c).zip(gy.chunks_exact(c)).zip(y.chunks_exact(c)).zip(x.chunks_exact(c))
            {
                for ch in 0..c {
                    let t = k[ch] * (gate(gr[ch], yr[ch]) - mean_gy[ch] - (xr[ch] - centre[ch]) * q[ch]);
                    dr[ch] = if accumulate { dr[ch] + t } else { t };
                }
            }
        });
}
