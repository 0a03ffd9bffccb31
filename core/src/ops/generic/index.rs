//! Gather indices that turn a window op into a `gather` over a padded, flattened input.
//!
//! The input (N, C, H, W) is laid out as rows `c·H·W + r·W + s` (one column per image) with
//! one extra row at index C·H·W holding the padding value (0 or -inf).

use alloc::vec::Vec;

use dfdx::prelude::*;

use crate::ops::Geometry2d;

/// The input (N, C, H, W) as rows (C·H·W, N) plus one row of `pad` at index C·H·W: the
/// table that [`patches_by_tap`] and [`patches_by_window`] index into.
pub(crate) fn padded_rows<X: Shape, D: Device<f32>, T: Tape<f32, D>>(
    x: Tensor<X, f32, D, T>,
    g: &Geometry2d,
    pad: f32,
) -> Result<Tensor<(usize, usize), f32, D, T>, D::Err> {
    let dev = x.device().clone();
    let (n, c, h, w) = (g.batch, g.in_channels, g.height, g.width);
    let rows = x
        .try_reshape_like(&(n, c, h, w))?
        .try_permute::<(usize, usize, usize, usize), Axes4<1, 2, 3, 0>>()?
        .try_reshape_like(&(c * h * w, n))?;
    let pad_row = dev.try_zeros_like(&(1usize, n))?.try_add(pad)?;
    (rows, pad_row).try_concat_along(Axis::<0>)
}

/// Row of input element (c, row of output i + tap u, column of output j + tap v), or the
/// padding row.
#[inline(always)]
fn source_row(g: &Geometry2d, c: usize, (i, u): (usize, usize), (j, v): (usize, usize)) -> usize {
    match (g.source(i, u, g.height), g.source(j, v, g.width)) {
        (Some(r), Some(s)) => (c * g.height + r) * g.width + s,
        _ => g.in_channels * g.in_plane(),
    }
}

/// im2col order, (c, u, v, i, j): gathered rows reshape to the (C·K·K, OH·OW·N) patch matrix.
pub(crate) fn patches_by_tap(g: &Geometry2d) -> Vec<usize> {
    let k = g.kernel;
    let mut idx = Vec::with_capacity(g.patch_len() * g.out_plane());
    for c in 0..g.in_channels {
        for u in 0..k {
            for v in 0..k {
                for i in 0..g.out_height {
                    for j in 0..g.out_width {
                        idx.push(source_row(g, c, (i, u), (j, v)));
                    }
                }
            }
        }
    }
    idx
}

/// Window order, (c, i, j, u, v): gathered rows reshape to (C·OH·OW, K·K, N), one window
/// per row block, ready for a reduction over its K·K taps.
pub(crate) fn patches_by_window(g: &Geometry2d) -> Vec<usize> {
    let k = g.kernel;
    let mut idx = Vec::with_capacity(g.patch_len() * g.out_plane());
    for c in 0..g.in_channels {
        for i in 0..g.out_height {
            for j in 0..g.out_width {
                for u in 0..k {
                    for v in 0..k {
                        idx.push(source_row(g, c, (i, u), (j, v)));
                    }
                }
            }
        }
    }
    idx
}
