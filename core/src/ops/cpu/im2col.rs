//! im2row and row2im over a group of images, through a channels-last copy of the input:
//! convolution becomes one matrix product whose operands are all plain row-major.
//!
//! The patch matrix has one row per output position (image n, output row i, column j) and
//! one column per tap, ordered (kernel row u, column v, channel c): `rows[(n·OH + i)·OW +
//! j][(u·K + v)·C + c] = x[n, c, i·S + u − P, j·S + v − P]` (0 in the padding). With the
//! input channels-last, each (u, v) tap of a patch is one contiguous run of C values, and a
//! whole kernel row one run of K·C: building the matrix is copying.

use rayon::prelude::*;

use crate::ops::Geometry2d;

/// (N, C, H·W) → (N, H·W, C), or back with `channels_last = false`.
///
/// # Shapes
/// `src` and `dst`: `count` images of C × H·W values.
pub(crate) fn transpose_channels(
    src: &[f32],
    g: &Geometry2d,
    count: usize,
    dst: &mut [f32],
    channels_last: bool,
) {
    let (c, plane) = (g.in_channels, g.in_plane());
    if c == 0 || plane == 0 {
        return;
    }
    let image = c * plane;
    dst[..count * image].par_chunks_mut(image).zip(src[..count * image].par_chunks(image)).for_each(
        |(d, s)| {
            if channels_last {
                for (p, row) in d.chunks_exact_mut(c).enumerate() {
                    for (ch, v) in row.iter_mut().enumerate() {
                        *v = s[ch * plane + p];
                    }
                }
            } else {
                for (ch, out) in d.chunks_exact_mut(plane).enumerate() {
                    for (p, v) in out.iter_mut().enumerate() {
                        *v = s[p * c + ch];
                    }
                }
            }
        },
    );
}

/// Writes the patches of `count` channels-last images into `rows`, a
/// (count·OH·OW) × (K·K·C) row-major matrix (see the module docs).
///
/// # Shapes
/// `x_last`: (count, H, W, C), `rows`: (count·OH·OW, K·K·C).
pub(crate) fn im2row(x_last: &[f32], g: &Geometry2d, count: usize, rows: &mut [f32]) {
    let (k, c, ow, w, h) = (g.kernel, g.in_channels, g.out_width, g.width, g.height);
    let (ckk, kc, image) = (g.patch_len(), k * c, g.in_channels * g.in_plane());
    if ckk == 0 || g.out_plane() == 0 {
        return;
    }
    rows[..count * g.out_plane() * ckk].par_chunks_mut(ckk * ow).enumerate().for_each(|(ni, block)| {
        let (n, i) = (ni / g.out_height, ni % g.out_height);
        let x = &x_last[n * image..][..image];
        for (j, patch) in block.chunks_exact_mut(ckk).enumerate() {
            for u in 0..k {
                let dst = &mut patch[u * kc..][..kc];
                let Some(r) = g.source(i, u, h) else {
                    dst.fill(0.0);
                    continue;
                };
                let line = &x[r * w * c..][..w * c];
                let start = j * g.stride;
                if start >= g.padding && start - g.padding + k <= w {
                    dst.copy_from_slice(&line[(start - g.padding) * c..][..kc]);
                } else {
                    for (v, tap) in dst.chunks_exact_mut(c).enumerate() {
                        match g.source(j, v, w) {
                            Some(s) => tap.copy_from_slice(&line[s * c..][..c]),
                            None => tap.fill(0.0),
                        }
                    }
                }
            }
        }
    });
}

/// Adds the patch gradients in `rows` (laid out as [`im2row`] writes them) back onto the
/// channels-last input gradient `gx_last`, summing where windows overlap.
///
/// # Shapes
/// `rows`: (count·OH·OW, K·K·C), `gx_last`: (count, H, W, C).
pub(crate) fn row2im_add(rows: &[f32], g: &Geometry2d, count: usize, gx_last: &mut [f32]) {
    let (k, c, ow, w) = (g.kernel, g.in_channels, g.out_width, g.width);
    let (ckk, kc) = (g.patch_len(), k * c);
    let line = w * c;
    if line == 0 || g.out_plane() == 0 {
        return;
    }
    // Each input row (n, r) gathers from the output rows whose window covers it.
    gx_last[..count * g.height * line].par_chunks_mut(line).enumerate().for_each(|(nr, dst)| {
        let (n, r) = (nr / g.height, nr % g.height);
        for u in 0..k {
            // Output row i reads input row r through tap u when i·S + u − P = r.
            let Some(top) = (r + g.padding).checked_sub(u) else { continue };
            if top % g.stride != 0 || top / g.stride >= g.out_height {
                continue;
            }
            let i = top / g.stride;
            let out_rows = &rows[(n * g.out_height + i) * ow * ckk..][..ow * ckk];
            for (j, patch) in out_rows.chunks_exact(ckk).enumerate() {
                let grad = &patch[u * kc..][..kc];
                let start = j * g.stride;
                if start >= g.padding && start - g.padding + k <= w {
                    for (d, &s) in dst[(start - g.padding) * c..][..kc].iter_mut().zip(grad) {
                        *d += s;
                    }
                } else {
                    for (v, tap) in grad.chunks_exact(c).enumerate() {
                        if let Some(s) = g.source(j, v, w) {
                            for (d, &t) in dst[s * c..][..c].iter_mut().zip(tap) {
                                *d += t;
                            }
                        }
                    }
                }
            }
        }
    });
}

/// The weights reordered from (O, C, K, K) to (O, K, K, C), the taps' order in [`im2row`]
/// (or back with `channels_last = false`).
pub(crate) fn reorder_weight(w: &[f32], g: &Geometry2d, channels_last: bool) -> Vec<f32> {
    let (k, c) = (g.kernel, g.in_channels);
    let mut out = vec![0.0f32; w.len()];
    for (o_src, o_dst) in w.chunks_exact(g.patch_len().max(1)).zip(out.chunks_exact_mut(g.patch_len().max(1)))
    {
        for ch in 0..c {
            for t in 0..k * k {
                let (first, last) = (ch * k * k + t, t * c + ch);
                if channels_last {
                    o_dst[last] = o_src[first];
                } else {
                    o_dst[first] = o_src[last];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn im2row_of_a_3x3_image_with_padding() {
        let g = Geometry2d::new([1, 1, 3, 3], 1, [3, 1, 1]);
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut rows = vec![f32::NAN; 9 * 9];
        im2row(&x, &g, 1, &mut rows);
        // The centre output sees the whole image; the top-left one the image shifted.
        assert_eq!(&rows[4 * 9..5 * 9], x.as_slice());
        assert_eq!(&rows[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
    }

    #[test]
    fn transposes_and_reorders_round_trip() {
        let g = Geometry2d::new([2, 3, 2, 2], 4, [3, 1, 1]);
        let x: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let (mut last, mut back) = (vec![0.0; 24], vec![0.0; 24]);
        transpose_channels(&x, &g, 2, &mut last, true);
        assert_eq!(&last[..6], &[0.0, 4.0, 8.0, 1.0, 5.0, 9.0]);
        transpose_channels(&last, &g, 2, &mut back, false);
        assert_eq!(back, x);
        let w: Vec<f32> = (0..4 * 27).map(|v| v as f32).collect();
        let wl = reorder_weight(&w, &g, true);
        assert_eq!(&wl[..4], &[0.0, 9.0, 18.0, 1.0]);
        assert_eq!(reorder_weight(&wl, &g, false), w);
    }
}
