//! The training program's CPU kernels on channels-last batches, (N, H, W, C) — a batch is a
//! row-major matrix of N·H·W pixels by C channels. Activation gradients are written (`=`) or,
//! where a value feeds several nodes, added (`+=`) as the caller says: nothing is zero-filled
//! to be accumulated into. Parallel over rayon's threads, deterministic for a thread count
//! (reductions sum their parts in a fixed order).

pub(crate) mod conv;
pub(crate) mod dense;
pub(crate) mod norm;
pub(crate) mod pointwise;
pub(crate) mod pool;

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

/// Elements handed to one parallel task of the elementwise passes.
pub(crate) const CHUNK: usize = 1 << 14;

/// Rows of `cols` values per parallel task: about [`CHUNK`] values.
pub(crate) fn rows_per_task(cols: usize) -> usize {
    (CHUNK / cols.max(1)).max(1)
}

/// Per-column sums over the rows of `a` and `b` (row-major, `cols` columns, as long as each
/// other) of what `f(acc, row_a, row_b)` adds into the f32 accumulator `acc` for each row:
/// parts of [`rows_per_task`] rows in parallel, summed in order as f64.
pub(crate) fn column_sums<F>(a: &[f32], b: &[f32], cols: usize, f: F) -> Vec<f64>
where
    F: Fn(&mut [f32], &[f32], &[f32]) + Sync,
{
    if cols == 0 {
        return Vec::new();
    }
    let part = rows_per_task(cols) * cols;
    let parts: Vec<Vec<f32>> = a
        .par_chunks(part)
        .zip(b.par_chunks(part))
        .map(|(a, b)| {
            let mut acc = vec![0.0f32; cols];
            for (ra, rb) in a.chunks_exact(cols).zip(b.chunks_exact(cols)) {
                f(&mut acc, ra, rb);
            }
            acc
        })
        .collect();
    let mut sums = vec![0.0f64; cols];
    for p in &parts {
        sums.iter_mut().zip(p).for_each(|(s, &v)| *s += f64::from(v));
    }
    sums
}

/// `dst = src` or, when `accumulate`, `dst += src`, in parallel.
pub(crate) fn store(dst: &mut [f32], src: &[f32], accumulate: bool) {
    dst.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(d, s)| {
        if accumulate {
            d.iter_mut().zip(s).for_each(|(d, s)| *d += s);
        } else {
            d.copy_from_slice(s);
        }
    });
}
