//! im2row and row2im over a group of images, through a channels-last copy of the input:
//! convolution becomes one matrix product whose operands are all plain row-major.
//!
//! The patch matrix has one row per output position (image n, output row i, column j) and
//! one column per tap, ordered (kernel row u, column v, channel c): `rows[(n·OH + i)·OW +
//! j][(u·K' + v)·C + c] = x[n, c, i·S + u − P, j·S + v − P]` (0 in the padding). With the
//! input channels-last, each (u, v) tap of a patch is one contiguous run of C values, and a
//! whole kernel row one run of K'·C: building the matrix is copying.
//!
//! Only the [`Taps`] that read inside the input for some output are kept (K' ≤ K): a 3×3
//! convolution with padding 1 on a 1×1 image (ResNet-18's last stage at 28×28) reads only
//! its centre tap, and the other eight would multiply zeros.

use rayon::prelude::*;

use crate::ops::Geometry2d;

/// The kernel taps that read inside the input for at least one output position: rows
/// `u.0..u.1` by columns `v.0..v.1` (contiguous ranges), for `channels` channels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taps {
    pub u: (usize, usize),
    pub v: (usize, usize),
    pub channels: usize,
}

/// The taps `t` with `source(o, t, extent)` inside for some `o < out_len`, as a range.
fn live(g: &Geometry2d, extent: usize, out_len: usize) -> (usize, usize) {
    let inside = |t: usize| (0..out_len).any(|o| g.source(o, t, extent).is_some());
    let first = (0..g.kernel).find(|&t| inside(t)).unwrap_or(0);
    let end = (0..g.kernel).rev().find(|&t| inside(t)).map_or(first, |t| t + 1);
    (first, end)
}

impl Taps {
    /// The live taps of `g`.
    pub fn new(g: &Geometry2d) -> Self {
        Self { u: live(g, g.height, g.out_height), v: live(g, g.width, g.out_width), channels: g.in_channels }
    }

    /// Kernel columns kept.
    pub fn width(&self) -> usize {
        self.v.1 - self.v.0
    }

    /// Values per patch: kept rows × kept columns × channels.
    pub fn len(&self) -> usize {
        (self.u.1 - self.u.0) * self.width() * self.channels
    }
}

/// (N, C, H·W) → (N, H·W, C), images in parallel.
///
/// # Shapes
/// `src` and `dst`: `count` images of C × H·W values.
pub(crate) fn to_channels_last(src: &[f32], g: &Geometry2d, count: usize, dst: &mut [f32]) {
    transpose_images(src, [g.in_channels, g.in_plane()], count, dst, |d, s| *d = s);
}

/// `dst += src` with `src` channels-last and `dst` channels-first: (N, H·W, C) added onto
/// (N, C, H·W), images in parallel.
///
/// # Shapes
/// `src` and `dst`: `count` images of C × H·W values.
pub(crate) fn add_channels_first(src: &[f32], g: &Geometry2d, count: usize, dst: &mut [f32]) {
    transpose_images(src, [g.in_plane(), g.in_channels], count, dst, |d, s| *d += s);
}

/// `store(dst[q][p], src[p][q])` for each of `count` images, images in parallel.
///
/// # Shapes
/// `src`: `count` images of (A, B) = `[a, b]`; `dst`: `count` images of (B, A).
fn transpose_images(
    src: &[f32],
    [a, b]: [usize; 2],
    count: usize,
    dst: &mut [f32],
    store: impl Fn(&mut f32, f32) + Sync,
) {
    if a == 0 || b == 0 {
        return;
    }
    let image = a * b;
    dst[..count * image].par_chunks_mut(image).zip(src[..count * image].par_chunks(image)).for_each(
        |(d, s)| {
            for (q, row) in d.chunks_exact_mut(a).enumerate() {
                for (p, v) in row.iter_mut().enumerate() {
                    store(v, s[p * b + q]);
                }
            }
        },
    );
}

/// Writes the patches of `count` channels-last images into `rows`, a
/// (count·OH·OW) × `taps.len()` row-major matrix (see the module docs).
///
/// # Shapes
/// `x_last`: (count, H, W, C), `rows`: (count·OH·OW, K'·K'·C).
pub(crate) fn im2row(x_last: &[f32], g: &Geometry2d, taps: &Taps, count: usize, rows: &mut [f32]) {
    let (c, ow, w, h) = (g.in_channels, g.out_width, g.width, g.height);
    let (len, kc, image) = (taps.len(), taps.width() * g.in_channels, g.in_channels * g.in_plane());
    if len == 0 || g.out_plane() == 0 {
        return;
    }
    rows[..count * g.out_plane() * len].par_chunks_mut(len * ow).enumerate().for_each(|(ni, block)| {
        let (n, i) = (ni / g.out_height, ni % g.out_height);
        let x = &x_last[n * image..][..image];
        for (j, patch) in block.chunks_exact_mut(len).enumerate() {
            for (u, dst) in (taps.u.0..taps.u.1).zip(patch.chunks_exact_mut(kc)) {
                let Some(r) = g.source(i, u, h) else {
                    dst.fill(0.0);
                    continue;
                };
                let line = &x[r * w * c..][..w * c];
                let start = j * g.stride + taps.v.0;
                if start >= g.padding && start - g.padding + taps.width() <= w {
                    dst.copy_from_slice(&line[(start - g.padding) * c..][..kc]);
                } else {
                    for (v, tap) in (taps.v.0..taps.v.1).zip(dst.chunks_exact_mut(c)) {
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

/// Writes the channels-last input gradient `gx_last` from the patch gradients in `rows`
/// (laid out as [`im2row`] writes them), summing where windows overlap.
///
/// # Shapes
/// `rows`: (count·OH·OW, K'·K'·C), `gx_last`: (count, H, W, C).
pub(crate) fn row2im(rows: &[f32], g: &Geometry2d, taps: &Taps, count: usize, gx_last: &mut [f32]) {
    let (c, ow, w) = (g.in_channels, g.out_width, g.width);
    let (len, kc) = (taps.len(), taps.width() * g.in_channels);
    let line = w * c;
    if line == 0 {
        return;
    }
    if len == 0 || g.out_plane() == 0 {
        gx_last[..count * g.height * line].fill(0.0);
        return;
    }
    // Each input row (n, r) gathers from the output rows whose window covers it.
    gx_last[..count * g.height * line].par_chunks_mut(line).enumerate().for_each(|(nr, dst)| {
        let (n, r) = (nr / g.height, nr % g.height);
        dst.fill(0.0);
        for u in taps.u.0..taps.u.1 {
            // Output row i reads input row r through tap u when i·S + u − P = r.
            let Some(top) = (r + g.padding).checked_sub(u) else { continue };
            if top % g.stride != 0 || top / g.stride >= g.out_height {
                continue;
            }
            let i = top / g.stride;
            let out_rows = &rows[(n * g.out_height + i) * ow * len..][..ow * len];
            for (j, patch) in out_rows.chunks_exact(len).enumerate() {
                let grad = &patch[(u - taps.u.0) * kc..][..kc];
                let start = j * g.stride + taps.v.0;
                if start >= g.padding && start - g.padding + taps.width() <= w {
                    for (d, &s) in dst[(start - g.padding) * c..][..kc].iter_mut().zip(grad) {
                        *d += s;
                    }
                } else {
                    for (v, tap) in (taps.v.0..taps.v.1).zip(grad.chunks_exact(c)) {
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

/// The weights of the live taps, reordered from (O, C, K, K) to (O, K', K', C), the taps'
/// order in [`im2row`].
pub(crate) fn weights_to_taps(w: &[f32], g: &Geometry2d, taps: &Taps) -> Vec<f32> {
    let mut out = Vec::new();
    weights_to_taps_into(w, g, taps, &mut out);
    out
}

/// [`weights_to_taps`] into `out` (its allocation reused from step to step).
pub(crate) fn weights_to_taps_into(w: &[f32], g: &Geometry2d, taps: &Taps, out: &mut Vec<f32>) {
    let (k, c, full, len) = (g.kernel, g.in_channels, g.patch_len().max(1), taps.len().max(1));
    out.resize(g.out_channels * taps.len(), 0.0);
    out.par_chunks_exact_mut(len).zip(w.par_chunks_exact(full)).for_each(|(out, filter)| {
        let mut out = out.iter_mut();
        for u in taps.u.0..taps.u.1 {
            for v in taps.v.0..taps.v.1 {
                for (ch, o) in (0..c).zip(&mut out) {
                    *o = filter[(ch * k + u) * k + v];
                }
            }
        }
    });
}

/// Adds (when `accumulate`; else writes, zeros at the dead taps) a gradient over the live
/// taps ((O, K', K', C), as [`weights_to_taps`] orders them) onto the full weight gradient
/// (O, C, K, K).
pub(crate) fn add_taps_to_weights(
    g_taps: &[f32],
    g: &Geometry2d,
    taps: &Taps,
    gw: &mut [f32],
    accumulate: bool,
) {
    let (k, c, full, len) = (g.kernel, g.in_channels, g.patch_len().max(1), taps.len().max(1));
    gw.par_chunks_exact_mut(full).zip(g_taps.par_chunks_exact(len)).for_each(|(filter, grad)| {
        if !accumulate && taps.len() < full {
            filter.fill(0.0);
        }
        let mut grad = grad.iter();
        for u in taps.u.0..taps.u.1 {
            for v in taps.v.0..taps.v.1 {
                for (ch, &d) in (0..c).zip(&mut grad) {
                    let w = &mut filter[(ch * k + u) * k + v];
                    *w = if accumulate || taps.len() < full { *w + d } else { d };
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn im2row_of_a_3x3_image_with_padding() {
        let g = Geometry2d::new([1, 1, 3, 3], 1, [3, 1, 1]);
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut rows = vec![f32::NAN; 9 * 9];
        let taps = Taps::new(&g);
        assert_eq!(taps.len(), 9);
        im2row(&x, &g, &taps, 1, &mut rows);
        // The centre output sees the whole image; the top-left one the image shifted.
        assert_eq!(&rows[4 * 9..5 * 9], x.as_slice());
        assert_eq!(&rows[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
    }

    #[test]
    fn row2im_overwrites_and_sums_overlapping_windows() {
        // A 3x3 kernel, padding 1, on a 3x3 image: with every patch gradient 1, each pixel
        // receives one per window that covers it (4 at the corners, 9 at the centre).
        let g = Geometry2d::new([1, 1, 3, 3], 1, [3, 1, 1]);
        let taps = Taps::new(&g);
        let rows = vec![1.0; 9 * 9];
        let mut gx = vec![f32::NAN; 9];
        row2im(&rows, &g, &taps, 1, &mut gx);
        assert_eq!(gx, [4.0, 6.0, 4.0, 6.0, 9.0, 6.0, 4.0, 6.0, 4.0]);
    }

    #[test]
    fn transposes_and_reorders_round_trip() {
        let g = Geometry2d::new([2, 3, 2, 2], 4, [3, 1, 1]);
        let x: Vec<f32> = (0..24).map(|v| v as f32).collect();
        let (mut last, mut back) = (vec![0.0; 24], vec![0.0; 24]);
        to_channels_last(&x, &g, 2, &mut last);
        assert_eq!(&last[..6], &[0.0, 4.0, 8.0, 1.0, 5.0, 9.0]);
        back.fill(1.0);
        add_channels_first(&last, &g, 2, &mut back);
        assert_eq!(back, x.iter().map(|v| v + 1.0).collect::<Vec<_>>());
        let w: Vec<f32> = (0..4 * 27).map(|v| v as f32).collect();
        let taps = Taps::new(&g);
        let wl = weights_to_taps(&w, &g, &taps);
        assert_eq!(&wl[..4], &[0.0, 9.0, 18.0, 1.0]);
        let mut back = vec![0.0; w.len()];
        add_taps_to_weights(&wl, &g, &taps, &mut back, true);
        assert_eq!(back, w);
    }

    #[test]
    fn taps_that_only_read_padding_are_dropped() {
        // 3x3, padding 1, on a 1x1 image: only the centre tap reads the image.
        let g = Geometry2d::new([1, 5, 1, 1], 2, [3, 1, 1]);
        assert_eq!(Taps::new(&g), Taps { u: (1, 2), v: (1, 2), channels: 5 });
        // On 2x2 every tap reads something.
        assert_eq!(Taps::new(&Geometry2d::new([1, 5, 2, 2], 2, [3, 1, 1])).len(), 45);
        let w: Vec<f32> = (0..2 * 45).map(|v| v as f32).collect();
        let taps = Taps::new(&g);
        assert_eq!(
            weights_to_taps(&w, &g, &taps),
            [4.0, 13.0, 22.0, 31.0, 40.0, 49.0, 58.0, 67.0, 76.0, 85.0]
        );
    }
}
