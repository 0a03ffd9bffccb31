//! The direct forward pass: blocks of output pixels by [`NR`] channels summed in registers
//! over the taps and input channels, the taps read where they lie in the image.

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

use super::{applies, Out, Panel, Store, MR, NR};
use crate::ops::Geometry2d;

/// Bytes of one tap range's weights (taps × channels × [`NR`]) kept in a core's L2 cache.
const WEIGHT_BLOCK_BYTES: usize = 320 << 10;
/// Output pixels per parallel task.
const PIXELS_PER_TASK: usize = 16 * MR;
/// Output planes up to this many pixels are computed position by position (see [`Order`]).
const SMALL_PLANE: usize = 64;

/// Which output pixels share a register block.
#[derive(Clone, Copy)]
enum Order {
    /// [`MR`] consecutive pixels of an image (the last block of a task may span two).
    Pixels,
    /// One position of [`MR`] images: every pixel of the block reads the same taps, so
    /// none computes another's padding. On planes of a few pixels, consecutive pixels lie
    /// on different edges and their blocks would do each tap (twice the work at 2×2).
    Positions,
}

/// `y (+)= conv(x, w) + bias`: written, or added when `accumulate` (then without bias).
/// Call only where [`applies`] says so.
///
/// # Shapes
/// `x`: (N, H, W, C); `w`: (C, K·K, O) from [`weights_for_forward`]; `bias`: (O,);
/// `y`: (N, OH, OW, O).
pub(crate) fn forward(
    x: &[f32],
    w: &[f32],
    bias: Option<&[f32]>,
    g: &Geometry2d,
    y: &mut [f32],
    accumulate: bool,
) {
    let (o, c, kk, plane) = (g.out_channels, g.in_channels, g.kernel * g.kernel, g.out_plane());
    let pixels = g.batch * plane;
    assert!(
        applies(g) && x.len() >= g.input_len() && w.len() >= kk * c * o && y.len() >= pixels * o,
        "direct convolution called outside its domain"
    );
    if pixels == 0 {
        return;
    }
    // Channels per pass over the weights: a pass's taps × channels × NR fit in L2.
    let chunk = (WEIGHT_BLOCK_BYTES / (kk * NR * 4)).clamp(1, c);
    // A task of whole images, MR of them at least, when blocks go position by position.
    let (order, task_pixels) = if plane <= SMALL_PLANE && g.batch >= MR {
        let images = (PIXELS_PER_TASK / plane).max(1).next_multiple_of(MR);
        (Order::Positions, images * plane)
    } else {
        (Order::Pixels, PIXELS_PER_TASK)
    };
    let zeros = vec![0.0f32; c];
    let y = &mut y[..pixels * o];
    y.par_chunks_mut(task_pixels * o).enumerate().for_each(|(task, out)| {
        let first = task * task_pixels;
        let count = out.len() / o;
        let mut rows: Vec<[*const f32; MR]> = vec![[zeros.as_ptr(); MR]; kk];
        let mut live = vec![false; kk];
        // Each block: its first pixel (in the task), its size, the stride of its pixels.
        let blocks: Vec<(usize, usize, usize)> = match order {
            Order::Pixels => (0..count).step_by(MR).map(|p0| (p0, MR.min(count - p0), 1)).collect(),
            Order::Positions => {
                let images = count / plane;
                (0..plane)
                    .flat_map(|at| {
                        (0..images).step_by(MR).map(move |n| (n * plane + at, MR.min(images - n), plane))
                    })
                    .collect()
            }
        };
        for ob in (0..o).step_by(NR) {
            for c0 in (0..c).step_by(chunk) {
                let cn = chunk.min(c - c0);
                let mode = match (c0 == 0, accumulate) {
                    (true, false) => Store::Write(bias.map(|b| &b[ob..ob + NR])),
                    _ => Store::Add,
                };
                for &(p0, m, step) in &blocks {
                    gather(x, g, |r| first + p0 + r * step, m, c0, zeros.as_ptr(), &mut rows, &mut live);
                    let dst = &mut out[p0 * o + ob..];
                    // SAFETY: `applies` checked AVX-512F; `gather` made every row pointer
                    // point at `cn` readable floats from c0 (an input pixel or `zeros`),
                    // `w` holds kk·c·o floats, and `dst` spans m pixels `step` apart of o
                    // channels each.
                    let panel = Panel { w: &w[c0 * kk * o + ob..], cn, ldw: kk * o, tap_stride: o };
                    unsafe { block(m, &rows[..], &live, panel, Out { dst, ldd: step * o, mode }) };
                }
            }
        }
    });
}

/// Row pointers for the `m` output pixels `pixel(0..m)` (over the whole batch) and each
/// tap: the input pixel it reads, from channel `c0`, or `zeros` in the padding. Sets, per
/// tap, whether any of the pixels reads inside the image in `live` (the others are skipped).
#[allow(clippy::needless_range_loop, clippy::too_many_arguments)] // `r` indexes every tap's row
fn gather(
    x: &[f32],
    g: &Geometry2d,
    pixel: impl Fn(usize) -> usize,
    m: usize,
    c0: usize,
    zeros: *const f32,
    rows: &mut [[*const f32; MR]],
    live: &mut [bool],
) {
    let (k, plane) = (g.kernel, g.out_plane());
    live.fill(false);
    for r in 0..MR {
        let pixel = pixel(r.min(m - 1));
        let (n, at) = (pixel / plane, pixel % plane);
        let (oy, ox) = (at / g.out_width, at % g.out_width);
        for ky in 0..k {
            let iy = g.source(oy, ky, g.height);
            for kx in 0..k {
                let t = ky * k + kx;
                rows[t][r] = match (iy, g.source(ox, kx, g.width)) {
                    (Some(iy), Some(ix)) if r < m => {
                        live[t] = true;
                        x[((n * g.height + iy) * g.width + ix) * g.in_channels + c0..].as_ptr()
                    }
                    _ => zeros,
                };
            }
        }
    }
}

/// One block: `m` pixels × [`NR`] channels of `out` from the taps marked `live`, through
/// the weights `panel`.
///
/// # Safety
/// AVX-512F must be present; the pointers and lengths must be as [`forward`] makes them.
pub(super) unsafe fn block(
    m: usize,
    rows: &[[*const f32; MR]],
    live: &[bool],
    panel: Panel<'_>,
    out: Out<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! go {
            ($($m:literal)*) => {
                match m {
                    $($m => super::avx512::block::<$m>(rows, live, panel, out),)*
                    _ => unreachable!("a block has 1 to {MR} pixels"),
                }
            };
        }
        go!(1 2 3 4 5 6);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (m, rows, live, panel, out);
        unreachable!("the direct convolution runs only on x86-64");
    }
}
