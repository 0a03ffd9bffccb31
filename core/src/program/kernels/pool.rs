//! Max-pooling on channels-last batches: each output pixel the per-channel maximum of the
//! pixels its window covers (padding never wins), with the pixel each maximum came from;
//! backward routes each output gradient to that pixel.

use rayon::prelude::*;

use crate::ops::cpu::max_pool2d::span;
use crate::ops::Geometry2d;

/// Marks a window that lies entirely in the padding (it has no maximum).
const NO_SOURCE: u32 = u32::MAX;

/// `y = max over each window of x`, and in `argmax` the pixel (within its image) of each
/// maximum: the first in the window's row-major order, NaN winning, as PyTorch.
///
/// # Shapes
/// `x`: (N, H, W, C); `y`, `argmax`: (N, OH, OW, C).
pub(crate) fn forward(x: &[f32], g: &Geometry2d, y: &mut [f32], argmax: &mut [u32]) {
    let (c, w) = (g.in_channels, g.width);
    let (img_in, img_out) = (g.in_plane() * c, g.out_plane() * c);
    if img_in == 0 || img_out == 0 {
        return;
    }
    y.par_chunks_mut(img_out).zip(argmax.par_chunks_mut(img_out)).zip(x.par_chunks(img_in)).for_each(
        |((y, arg), x)| {
            for i in 0..g.out_height {
                let (r0, r1) = span(g, i, g.height);
                for j in 0..g.out_width {
                    let (c0, c1) = span(g, j, w);
                    let at = (i * g.out_width + j) * c;
                    let (best, from) = (&mut y[at..][..c], &mut arg[at..][..c]);
                    if r0 >= r1 || c0 >= c1 {
                        best.fill(f32::NEG_INFINITY);
                        from.fill(NO_SOURCE);
                        continue;
                    }
                    best.copy_from_slice(&x[(r0 * w + c0) * c..][..c]);
                    from.fill((r0 * w + c0) as u32);
                    for r in r0..r1 {
                        for s in c0..c1 {
                            let pixel = (r * w + s) as u32;
                            for ((b, f), &v) in
                                best.iter_mut().zip(from.iter_mut()).zip(&x[(r * w + s) * c..][..c])
                            {
                                let take = (v > *b) | v.is_nan();
                                *b = if take { v } else { *b };
                                *f = if take { pixel } else { *f };
                            }
                        }
                    }
                }
            }
        },
    );
}

/// `gx[argmax] += gy` for every output, over `gx` zeroed first unless `accumulate`.
///
/// # Shapes
/// `gy`, `argmax`: (N, OH, OW, C); `gx`: (N, H, W, C).
pub(crate) fn backward(gy: &[f32], argmax: &[u32], g: &Geometry2d, gx: &mut [f32], accumulate: bool) {
    let c = g.in_channels;
    let (img_in, img_out) = (g.in_plane() * c, g.out_plane() * c);
    if img_in == 0 || img_out == 0 {
        return;
    }
    gx.par_chunks_mut(img_in).zip(gy.par_chunks(img_out).zip(argmax.par_chunks(img_out))).for_each(
        |(gx, (gy, arg))| {
            if !accumulate {
                gx.fill(0.0);
            }
            for (gp, ap) in gy.chunks_exact(c).zip(arg.chunks_exact(c)) {
                for (ch, (&d, &a)) in gp.iter().zip(ap).enumerate() {
                    if a != NO_SOURCE {
                        gx[a as usize * c + ch] += d;
                    }
                }
            }
        },
    );
}
