//! ReLU and the residual add, forward and backward, on any layout.

use rayon::prelude::*;

use super::CHUNK;

/// `y = max(x, 0)`.
pub(crate) fn relu(x: &[f32], y: &mut [f32]) {
    y.par_chunks_mut(CHUNK).zip(x.par_chunks(CHUNK)).for_each(|(y, x)| {
        y.iter_mut().zip(x).for_each(|(y, &x)| *y = x.max(0.0));
    });
}

/// The gradient through a ReLU whose output was `y`: `gx (+)= gy · [y > 0]`.
pub(crate) fn relu_backward(y: &[f32], gy: &[f32], gx: &mut [f32], accumulate: bool) {
    gx.par_chunks_mut(CHUNK).zip(gy.par_chunks(CHUNK).zip(y.par_chunks(CHUNK))).for_each(|(gx, (gy, y))| {
        for ((d, &g), &v) in gx.iter_mut().zip(gy).zip(y) {
            let t = if v > 0.0 { g } else { 0.0 };
            *d = if accumulate { *d + t } else { t };
        }
    });
}

/// `y = a + b`, then ReLU if `relu`.
pub(crate) fn add(a: &[f32], b: &[f32], y: &mut [f32], relu: bool) {
    y.par_chunks_mut(CHUNK).zip(a.par_chunks(CHUNK).zip(b.par_chunks(CHUNK))).for_each(|(y, (a, b))| {
        for ((y, &a), &b) in y.iter_mut().zip(a).zip(b) {
            let t = a + b;
            *y = if relu { t.max(0.0) } else { t };
        }
    });
}
