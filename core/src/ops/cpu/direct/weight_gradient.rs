//! The direct weight gradient: for each tap, the sum over the batch's pixels of the input
//! pixel it reads times the output gradient there, blocks of input by output channels in
//! registers; the pixels whose tap falls in the padding are left out.

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

use super::{applies, MR, NR};
use crate::ops::cpu::scratch::Scratch;
use crate::ops::Geometry2d;

/// Pixels whose (input, output gradient) pairs the weight gradient gathers at a time.
const PIXELS_PER_GATHER: usize = 128;

/// `gw = Σ_pixels x(pixel, tap) ⊗ gy(pixel)`: the weight gradient of [`forward`] in its
/// (C, K·K, O) order, written. The batch's pixels are split into one part per thread,
/// each summed on its own, and the parts added in order.
///
/// # Shapes
/// `x`: (N, H, W, C); `gy`: (N, OH, OW, O); `gw`: (C, K·K, O).
pub(crate) fn weight_gradient(x: &[f32], gy: &[f32], g: &Geometry2d, gw: &mut [f32]) {
    let (o, c, kk) = (g.out_channels, g.in_channels, g.kernel * g.kernel);
    let pixels = g.batch * g.out_plane();
    assert!(
        applies(g) && x.len() >= g.input_len() && gy.len() >= pixels * o && gw.len() >= c * kk * o,
        "direct weight gradient called outside its domain"
    );
    let parts = rayon::current_num_threads().clamp(1, pixels.div_ceil(PIXELS_PER_GATHER).max(1));
    let per_part = pixels.div_ceil(parts);
    // The parts' sums come from the kernels' pool: a fresh allocation of this size per call
    // lands in a worker thread's malloc arena and grows resident memory step by step.
    let mut sums: Vec<Scratch> = (0..parts).map(|_| Scratch::zeroed(c * kk * o)).collect();
    sums.par_iter_mut().enumerate().for_each(|(part, sum)| {
        let (lo, hi) = (part * per_part, ((part + 1) * per_part).min(pixels));
        let mut pairs: Vec<Vec<(*const f32, *const f32)>> = vec![Vec::new(); kk];
        for first in (lo..hi).step_by(PIXELS_PER_GATHER) {
            pairs_of(x, gy, g, first..(first + PIXELS_PER_GATHER).min(hi), &mut pairs);
            for (t, list) in pairs.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
                for c0 in (0..c).step_by(MR) {
                    for ob in (0..o).step_by(NR) {
                        let at = (c0 * kk + t) * o + ob;
                        // SAFETY: AVX-512F checked by `applies`; each pair points at a
                        // whole input pixel (c channels) and output-gradient pixel (o);
                        // `sum` holds MR.min(c - c0) rows of stride kk·o from `at`.
                        unsafe { weight_block(MR.min(c - c0), list, c0, ob, &mut sum[at..], kk * o) };
                    }
                }
            }
        }
    });
    let gw = &mut gw[..c * kk * o];
    gw.par_chunks_mut(1 << 14).enumerate().for_each(|(i, chunk)| {
        let at = i << 14;
        chunk.copy_from_slice(&sums[0][at..][..chunk.len()]);
        for s in &sums[1..] {
            chunk.iter_mut().zip(&s[at..]).for_each(|(d, v)| *d += v);
        }
    });
}

/// For each tap, the (input pixel, output-gradient pixel) pairs of the output pixels in
/// `range` (over the whole batch) whose tap reads inside the image.
fn pairs_of(
    x: &[f32],
    gy: &[f32],
    g: &Geometry2d,
    range: core::ops::Range<usize>,
    pairs: &mut [Vec<(*const f32, *const f32)>],
) {
    let (k, plane) = (g.kernel, g.out_plane());
    pairs.iter_mut().for_each(Vec::clear);
    for pixel in range {
        let (n, at) = (pixel / plane, pixel % plane);
        let (oy, ox) = (at / g.out_width, at % g.out_width);
        let out = gy[pixel * g.out_channels..].as_ptr();
        for ky in 0..k {
            let Some(iy) = g.source(oy, ky, g.height) else { continue };
            for kx in 0..k {
                let Some(ix) = g.source(ox, kx, g.width) else { continue };
                let input = x[((n * g.height + iy) * g.width + ix) * g.in_channels..].as_ptr();
                pairs[ky * k + kx].push((input, out));
            }
        }
    }
}

/// `sum[r][j] += Σ_pairs input[c0 + r] · gradient[ob + j]` for `m` rows (stride `ld`) of
/// [`NR`] columns.
///
/// # Safety
/// AVX-512F must be present; the pointers and lengths must be as [`weight_gradient`] makes
/// them.
pub(super) unsafe fn weight_block(
    m: usize,
    pairs: &[(*const f32, *const f32)],
    c0: usize,
    ob: usize,
    sum: &mut [f32],
    ld: usize,
) {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! go {
            ($($m:literal)*) => {
                match m {
                    $($m => super::avx512::weight_block::<$m>(pairs, c0, ob, sum, ld),)*
                    _ => unreachable!("a block has 1 to {MR} rows"),
                }
            };
        }
        go!(1 2 3 4 5 6);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (m, pairs, c0, ob, sum, ld);
        unreachable!("the direct convolution runs only on x86-64");
    }
}
