//! im2col and col2im over a group of images: convolution becomes one matrix product.

use rayon::prelude::*;

use crate::ops::Geometry2d;

/// Output positions `j` whose kernel tap `t` reads inside `0..extent`: `lo..hi`.
#[inline(always)]
pub(crate) fn valid_taps(g: &Geometry2d, t: usize, extent: usize, out_len: usize) -> (usize, usize) {
    let (s, p) = (g.stride, g.padding);
    let lo = if p > t { (p - t).div_ceil(s) } else { 0 };
    let hi = if extent + p > t { (extent + p - t).div_ceil(s) } else { 0 };
    let lo = lo.min(out_len);
    (lo, hi.clamp(lo, out_len))
}

/// Writes the patches of `count` images into `cols`, a (C·K·K) × (count·OH·OW) row-major
/// matrix: row `(c, u, v)`, column `(n, i, j)` holds `x[n, c, i·S + u - P, j·S + v - P]`
/// (0 in the padding).
///
/// # Shapes
/// `x`: (count, C, H, W), `cols`: (C·K·K, count·OH·OW).
pub(crate) fn im2col(x: &[f32], g: &Geometry2d, count: usize, cols: &mut [f32]) {
    let (k, oh, ow, w) = (g.kernel, g.out_height, g.out_width, g.width);
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    let row_len = count * out_plane;
    if row_len == 0 {
        return;
    }
    cols[..g.patch_len() * row_len].par_chunks_mut(row_len).enumerate().for_each(|(row, dst)| {
        let (c, u, v) = (row / (k * k), (row / k) % k, row % k);
        let (lo, hi) = valid_taps(g, v, w, ow);
        for n in 0..count {
            let src_plane = &x[(n * g.in_channels + c) * plane..][..plane];
            let seg = &mut dst[n * out_plane..][..out_plane];
            for i in 0..oh {
                let out = &mut seg[i * ow..][..ow];
                let Some(r) = g.source(i, u, g.height) else {
                    out.fill(0.0);
                    continue;
                };
                out[..lo].fill(0.0);
                out[hi..].fill(0.0);
                if lo < hi {
                    let src = &src_plane[r * w..][..w];
                    let first = lo * g.stride + v - g.padding;
                    if g.stride == 1 {
                        out[lo..hi].copy_from_slice(&src[first..first + (hi - lo)]);
                    } else {
                        for (o, j) in out[lo..hi].iter_mut().zip((first..).step_by(g.stride)) {
                            *o = src[j];
                        }
                    }
                }
            }
        }
    });
}

/// Adds the patch gradients in `cols` (laid out as [`im2col`] writes them) back onto the
/// input gradient `gx`, summing where windows overlap.
///
/// # Shapes
/// `cols`: (C·K·K, count·OH·OW), `gx`: (count, C, H, W).
pub(crate) fn col2im_add(cols: &[f32], g: &Geometry2d, count: usize, gx: &mut [f32]) {
    let (k, oh, ow, w, c_in) = (g.kernel, g.out_height, g.out_width, g.width, g.in_channels);
    let (plane, out_plane) = (g.in_plane(), g.out_plane());
    let row_len = count * out_plane;
    if plane == 0 || row_len == 0 {
        return;
    }
    gx[..count * c_in * plane].par_chunks_mut(plane).enumerate().for_each(|(nc, dst_plane)| {
        let (n, c) = (nc / c_in, nc % c_in);
        for u in 0..k {
            for v in 0..k {
                let row = (c * k + u) * k + v;
                let seg = &cols[row * row_len + n * out_plane..][..out_plane];
                let (lo, hi) = valid_taps(g, v, w, ow);
                if lo >= hi {
                    continue;
                }
                let first = lo * g.stride + v - g.padding;
                for i in 0..oh {
                    let Some(r) = g.source(i, u, g.height) else {
                        continue;
                    };
                    let dst = &mut dst_plane[r * w..][..w];
                    let src = &seg[i * ow..][..ow];
                    for (&s, j) in src[lo..hi].iter().zip((first..).step_by(g.stride)) {
                        dst[j] += s;
                    }
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_taps_cover_exactly_the_inside_positions() {
        for (h, k, s, p) in [(5, 3, 1, 1), (6, 3, 2, 1), (7, 7, 2, 3), (4, 2, 2, 0), (3, 5, 1, 3)] {
            let g = Geometry2d::new([1, 1, h, h], 1, [k, s, p]);
            for t in 0..k {
                let (lo, hi) = valid_taps(&g, t, h, g.out_width);
                for j in 0..g.out_width {
                    let inside = g.source(j, t, h).is_some();
                    assert_eq!(inside, (lo..hi).contains(&j), "h{h} k{k} s{s} p{p} t{t} j{j}");
                }
            }
        }
    }

    #[test]
    fn im2col_of_a_3x3_image_with_padding() {
        let g = Geometry2d::new([1, 1, 3, 3], 1, [3, 1, 1]);
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut cols = vec![f32::NAN; 9 * 9];
        im2col(&x, &g, 1, &mut cols);
        // Centre tap (u = v = 1) sees the image itself; top-left tap sees it shifted.
        assert_eq!(&cols[4 * 9..5 * 9], x.as_slice());
        assert_eq!(&cols[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
    }
}
