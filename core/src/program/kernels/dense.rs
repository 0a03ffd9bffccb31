//! The head's layers: global average pooling, flattening to NCHW order, the linear layer,
//! and mean cross-entropy on the logits — forward and backward.

use alloc::vec::Vec;

use rayon::prelude::*;

use super::{column_sums, rows_per_task};
use crate::ops::cpu::gemm::{sgemm, MatRef};

/// The mean of each channel of each image.
///
/// # Shapes
/// `x`: (N, P, C) with P = H·W; `y`: (N, C).
pub(crate) fn global_avg_pool(x: &[f32], plane: usize, c: usize, y: &mut [f32]) {
    y.par_chunks_mut(c).zip(x.par_chunks(plane * c)).for_each(|(sum, image)| {
        sum.fill(0.0);
        for px in image.chunks_exact(c) {
            sum.iter_mut().zip(px).for_each(|(s, v)| *s += v);
        }
        sum.iter_mut().for_each(|s| *s /= plane as f32);
    });
}

/// `gx (+)= gy / P` at every pixel.
///
/// # Shapes
/// `gy`: (N, C); `gx`: (N, P, C).
pub(crate) fn global_avg_pool_backward(gy: &[f32], plane: usize, c: usize, gx: &mut [f32], accumulate: bool) {
    gx.par_chunks_mut(plane * c).zip(gy.par_chunks(c)).for_each(|(image, g)| {
        for px in image.chunks_exact_mut(c) {
            for (d, &v) in px.iter_mut().zip(g) {
                let t = v / plane as f32;
                *d = if accumulate { *d + t } else { t };
            }
        }
    });
}

/// (N, P, C) → (N, C, P) when `forward`, (N, C, P) → (N, P, C) otherwise; `dst (+)= `.
pub(crate) fn flatten(src: &[f32], plane: usize, c: usize, dst: &mut [f32], forward: bool, accumulate: bool) {
    let image = plane * c;
    dst.par_chunks_mut(image).zip(src.par_chunks(image)).for_each(|(d, s)| {
        for p in 0..plane {
            for ch in 0..c {
                let (to, from) =
                    if forward { (ch * plane + p, p * c + ch) } else { (p * c + ch, ch * plane + p) };
                d[to] = if accumulate { d[to] + s[from] } else { s[from] };
            }
        }
    });
}

/// `y = x · weightᵀ + bias`.
///
/// # Shapes
/// `x`: (N, I), `weight`: (O, I), `bias`: (O,), `y`: (N, O).
pub(crate) fn linear(x: &[f32], weight: &[f32], bias: &[f32], y: &mut [f32]) {
    let (o, n) = (bias.len(), y.len() / bias.len().max(1));
    let i = x.len() / n.max(1);
    sgemm([n, i, o], MatRef::rows(x, i), MatRef::transposed(weight, i), y, false);
    for row in y.chunks_exact_mut(o.max(1)) {
        row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
    }
}

/// The linear layer's gradients: `gweight = gyᵀ · x`, `gbias = Σ gy`, and, if asked,
/// `gx (+)= gy · weight`.
///
/// # Shapes
/// `x`, `gx`: (N, I); `weight`, `gweight`: (O, I); `gy`: (N, O); `gbias`: (O,).
pub(crate) fn linear_backward(
    x: &[f32],
    weight: &[f32],
    gy: &[f32],
    gx: Option<(&mut [f32], bool)>,
    gweight: &mut [f32],
    gbias: &mut [f32],
) {
    let o = gbias.len();
    let n = gy.len() / o.max(1);
    let i = x.len() / n.max(1);
    sgemm([o, n, i], MatRef::transposed(gy, o), MatRef::rows(x, i), gweight, false);
    bias_gradient(gy, gbias);
    if let Some((gx, accumulate)) = gx {
        sgemm([n, o, i], MatRef::rows(gy, o), MatRef::rows(weight, i), gx, accumulate);
    }
}

/// `gbias = Σ` over the rows of `gy`, (rows, O).
pub(crate) fn bias_gradient(gy: &[f32], gbias: &mut [f32]) {
    let sums =
        column_sums(gy, gy, gbias.len(), |acc, row, _| acc.iter_mut().zip(row).for_each(|(a, v)| *a += v));
    gbias.iter_mut().zip(sums).for_each(|(b, s)| *b = s as f32);
}

/// Mean cross-entropy of `logits` against `labels` (PyTorch's `F.cross_entropy`; a label
/// outside the classes counts no target), and its gradient `(softmax − one-hot) / N`
/// written into `grad`.
///
/// # Shapes
/// `logits`, `grad`: (N, classes); `labels`: (N,).
pub(crate) fn cross_entropy(logits: &[f32], labels: &[usize], grad: &mut [f32]) -> f64 {
    let n = labels.len().max(1);
    let classes = logits.len() / n;
    let per_task = rows_per_task(classes);
    let losses: Vec<f64> = grad
        .par_chunks_mut(per_task * classes)
        .zip(logits.par_chunks(per_task * classes).zip(labels.par_chunks(per_task)))
        .map(|(g, (z, labels))| {
            let mut loss = 0.0f64;
            for ((g, z), &label) in g.chunks_exact_mut(classes).zip(z.chunks_exact(classes)).zip(labels) {
                let max = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f64 = z.iter().map(|&v| f64::from(v - max).exp()).sum();
                let lse = f64::from(max) + sum.ln();
                for (c, (g, &v)) in g.iter_mut().zip(z).enumerate() {
                    let p = (f64::from(v) - lse).exp();
                    let target = if c == label { 1.0 } else { 0.0 };
                    *g = ((p - target) / n as f64) as f32;
                }
                if label < classes {
                    loss += lse - f64::from(z[label]);
                }
            }
            loss
        })
        .collect();
    losses.iter().sum::<f64>() / n as f64
}
