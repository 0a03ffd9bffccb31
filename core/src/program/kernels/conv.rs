//! Convolution on channels-last batches: im2row over groups of images and one product per
//! group straight into the channels-last output (no transpose); backward the weight gradient
//! `gyᵀ · rows` and the input gradient `gy · W` through row2im, which writes it.
//! A 1×1 stride-1 convolution builds no patch matrix: its input is one.

use rayon::prelude::*;

use super::dense::bias_gradient;
use super::CHUNK;
use crate::ops::cpu::conv2d::group_size;
use crate::ops::cpu::gemm::{sgemm, MatRef};
use crate::ops::cpu::im2col::{im2row, row2im, Taps};
use crate::ops::cpu::profile::{timed, Phase};
use crate::ops::cpu::scratch::Scratch;
use crate::ops::Geometry2d;

/// Whether the input is its own patch matrix (1×1, stride 1, no padding).
fn direct(g: &Geometry2d) -> bool {
    g.kernel == 1 && g.stride == 1 && g.padding == 0
}

/// The batch in groups that fit the scratch budget: (first image, image count).
fn groups(g: &Geometry2d) -> impl Iterator<Item = (usize, usize)> {
    let (size, n) = (group_size(g), g.batch);
    (0..n).step_by(size).map(move |first| (first, size.min(n - first)))
}

/// The patch matrix of images `first..first + count` of `x`: `x` itself when [`direct`],
/// else written into `rows`.
fn patches<'a>(
    x: &'a [f32],
    g: &Geometry2d,
    taps: &Taps,
    (first, count): (usize, usize),
    rows: &'a mut Option<Scratch>,
    phase: Phase,
) -> &'a [f32] {
    let img_in = g.in_channels * g.in_plane();
    let images = &x[first * img_in..][..count * img_in];
    match rows {
        Some(rows) => {
            let rows = &mut rows[..count * g.out_plane() * taps.len()];
            timed(phase, || im2row(images, g, taps, count, rows));
            rows
        }
        None => images,
    }
}

/// Scratch for one group's patch matrix, unless [`direct`].
fn rows_scratch(g: &Geometry2d, taps: &Taps) -> Option<Scratch> {
    (!direct(g)).then(|| Scratch::take(group_size(g).min(g.batch) * g.out_plane() * taps.len()))
}

/// `y = conv(x, weight) + bias`.
///
/// # Shapes
/// `x`: (N, H, W, C); `w_taps`: (O, live taps) as [`crate::ops::cpu::im2col`] orders them;
/// `bias`: (O,); `y`: (N, OH, OW, O).
pub(crate) fn forward(
    x: &[f32],
    w_taps: &[f32],
    bias: Option<&[f32]>,
    g: &Geometry2d,
    taps: &Taps,
    y: &mut [f32],
) {
    let (o, live, plane_out) = (g.out_channels, taps.len(), g.out_plane());
    let mut rows = rows_scratch(g, taps);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let p = patches(x, g, taps, (first, count), &mut rows, Phase::ConvForwardIm2col);
        let out = &mut y[first * plane_out * o..][..positions * o];
        timed(Phase::ConvForwardGemm, || {
            let (a, b) = (MatRef::rows(p, live), MatRef::transposed(w_taps, live));
            sgemm([positions, live, o], a, b, out, false)
        });
        if let Some(b) = bias {
            timed(Phase::ConvForwardScatter, || {
                out.par_chunks_mut((CHUNK / o.max(1)).max(1) * o).for_each(|chunk| {
                    for px in chunk.chunks_exact_mut(o) {
                        px.iter_mut().zip(b).for_each(|(v, b)| *v += b);
                    }
                })
            });
        }
    }
}

/// The gradients of [`forward`] given the output gradient `gy`: [`weight_gradient`] and,
/// if asked, [`input_gradient`].
///
/// # Shapes
/// As [`forward`]; `gy`: (N, OH, OW, O), `gw_taps`: (O, live taps), `gx`: (N, H, W, C).
#[cfg(test)]
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    x: &[f32],
    w_taps: &[f32],
    g: &Geometry2d,
    taps: &Taps,
    gy: &[f32],
    gx: Option<(&mut [f32], bool)>,
    gw_taps: &mut [f32],
    gbias: Option<&mut [f32]>,
) {
    weight_gradient(x, g, taps, gy, gw_taps, gbias);
    if let Some((gx, accumulate)) = gx {
        input_gradient(w_taps, g, taps, gy, gx, accumulate);
    }
}

/// `gw_taps = gyᵀ · rows` and `gbias = Σ gy`, both written.
///
/// # Shapes
/// As [`backward`].
pub(crate) fn weight_gradient(
    x: &[f32],
    g: &Geometry2d,
    taps: &Taps,
    gy: &[f32],
    gw_taps: &mut [f32],
    gbias: Option<&mut [f32]>,
) {
    let (o, live, plane_out) = (g.out_channels, taps.len(), g.out_plane());
    let mut rows = rows_scratch(g, taps);
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let gy = &gy[first * plane_out * o..][..positions * o];
        let p = patches(x, g, taps, (first, count), &mut rows, Phase::ConvBackwardIm2col);
        timed(Phase::ConvBackwardWeight, || {
            let (a, b) = (MatRef::transposed(gy, o), MatRef::rows(p, live));
            sgemm([o, positions, live], a, b, gw_taps, first > 0)
        });
    }
    if let Some(gb) = gbias {
        bias_gradient(&gy[..g.batch * plane_out * o], gb);
    }
}

/// `gx = row2im(gy · W)`, or added to `gx` when `accumulate`.
///
/// # Shapes
/// As [`backward`].
pub(crate) fn input_gradient(
    w_taps: &[f32],
    g: &Geometry2d,
    taps: &Taps,
    gy: &[f32],
    gx: &mut [f32],
    accumulate: bool,
) {
    let (o, live, plane_out, img_in) =
        (g.out_channels, taps.len(), g.out_plane(), g.in_channels * g.in_plane());
    let mut rows = rows_scratch(g, taps);
    let mut gx_part = (accumulate && !direct(g)).then(|| Scratch::take(group_size(g).min(g.batch) * img_in));
    for (first, count) in groups(g) {
        let positions = count * plane_out;
        let gy = &gy[first * plane_out * o..][..positions * o];
        let gx = &mut gx[first * img_in..][..count * img_in];
        let input_gemm = |out: &mut [f32], accumulate: bool| {
            timed(Phase::ConvBackwardInput, || {
                let (a, b) = (MatRef::rows(gy, o), MatRef::rows(w_taps, live));
                sgemm([positions, o, live], a, b, out, accumulate)
            })
        };
        match rows.as_deref_mut() {
            None => input_gemm(gx, accumulate),
            Some(rows) => {
                let grad_rows = &mut rows[..positions * live];
                input_gemm(grad_rows, false);
                timed(Phase::ConvBackwardCol2im, || match gx_part.as_deref_mut() {
                    Some(part) => {
                        let part = &mut part[..count * img_in];
                        row2im(grad_rows, g, taps, count, part);
                        super::store(gx, part, true);
                    }
                    None => row2im(grad_rows, g, taps, count, gx),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::cpu::conv_reference::ConvCase;
    use crate::ops::cpu::im2col::{add_taps_to_weights, weights_to_taps};
    use crate::ops::test_support::{assert_close, swap_axes};

    /// Forward and backward, channels-last, against the NCHW kernels of the tape.
    #[test]
    fn channels_last_convolution_equals_the_tapes() {
        for (c, o, h, window) in [
            (6, 5, 4, [1, 1, 0]),
            (3, 4, 5, [3, 1, 1]),
            (1, 4, 9, [7, 2, 3]),
            (4, 3, 6, [1, 2, 0]),
            (2, 3, 1, [3, 2, 1]),
            (64, 600, 20, [1, 1, 0]),
            (512, 700, 2, [1, 1, 0]),
        ] {
            let n = 3;
            let g = Geometry2d::new([n, c, h, h + 1], o, window);
            let taps = Taps::new(&g);
            let ConvCase { x, w, b, y: want, gx, gw, gb, x_last, gy_last, .. } = ConvCase::new(&g);
            let (plane, plane_out) = (g.in_plane(), g.out_plane());
            let w_taps = weights_to_taps(&w, &g, &taps);
            let mut y = vec![f32::NAN; g.output_len()];
            forward(&x_last, &w_taps, Some(&b), &g, &taps, &mut y);
            assert_close(&swap_axes(&y, [n, plane_out, o]), &want, 1e-4, "y");

            for accumulate in [false, true] {
                let mut our_gx = vec![if accumulate { 1.0 } else { f32::NAN }; x.len()];
                let (mut gw_taps, mut our_gb) = (vec![0.0; o * taps.len()], vec![f32::NAN; o]);
                let mut our_gw = vec![f32::NAN; w.len()];
                backward(
                    &x_last,
                    &w_taps,
                    &g,
                    &taps,
                    &gy_last,
                    Some((&mut our_gx, accumulate)),
                    &mut gw_taps,
                    Some(&mut our_gb),
                );
                add_taps_to_weights(&gw_taps, &g, &taps, &mut our_gw, false);
                let shift: Vec<f32> = gx.iter().map(|v| v + if accumulate { 1.0 } else { 0.0 }).collect();
                assert_close(&swap_axes(&our_gx, [n, plane, c]), &shift, 1e-4, "gx");
                assert_close(&our_gw, &gw, 1e-4, "gw");
                assert_close(&our_gb, &gb, 1e-4, "gb");
            }
        }
    }
}
