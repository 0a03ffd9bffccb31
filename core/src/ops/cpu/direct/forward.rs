//! The direct forward pass: blocks of output pixels by [`NR`] channels summed in registers
//! over the taps and input channels, the taps read where they lie in the image.

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

use super::{applies, Store, MR, NR};
use crate::ops::Geometry2d;

/// Bytes of one tap range's weights (taps × channels × [`NR`]) kept in a core's L2 cache.
const WEIGHT_BLOCK_BYTES: usize = 320 << 10;
/// Output pixels per parallel task.
const PIXELS_PER_TASK: usize = 16 * MR;

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
    let (o, c, kk) = (g.out_channels, g.in_channels, g.kernel * g.kernel);
    let pixels = g.batch * g.out_plane();
    assert!(
        applies(g) && x.len() >= g.input_len() && w.len() >= kk * c * o && y.len() >= pixels * o,
        "direct convolution called outside its domain"
    );
    // Channels per pass over the weights: a pass's taps × channels × NR fit in L2.
    let chunk = (WEIGHT_BLOCK_BYTES / (kk * NR * 4)).clamp(1, c);
    let zeros = vec![0.0f32; c];
    let y = &mut y[..pixels * o];
    y.par_chunks_mut(PIXELS_PER_TASK * o).enumerate().for_each(|(task, out)| {
        let first = task * PIXELS_PER_TASK;
        let count = out.len() / o;
        let mut rows: Vec<[*const f32; MR]> = vec![[zeros.as_ptr(); MR]; kk];
        for ob in (0..o).step_by(NR) {
            for c0 in (0..c).step_by(chunk) {
                let cn = chunk.min(c - c0);
                let mode = match (c0 == 0, accumulate) {
                    (true, false) => Store::Write(bias.map(|b| &b[ob..ob + NR])),
                    _ => Store::Add,
                };
                for p0 in (0..count).step_by(MR) {
                    let m = MR.min(count - p0);
                    let live = gather(x, g, first + p0, m, c0, zeros.as_ptr(), &mut rows);
                    let dst = &mut out[p0 * o + ob..];
                    // SAFETY: `applies` checked AVX-512F; `gather` made every row pointer
                    // point at `cn` readable floats from c0 (an input pixel or `zeros`),
                    // `w` holds kk·c·o floats, and `dst` spans m pixels of o channels.
                    unsafe {
                        block(m, &rows[..], &live, &w[c0 * kk * o + ob..], cn, kk * o, o, dst, o, mode);
                    }
                }
            }
        }
    });
}

/// Row pointers for `m` output pixels from `first` (over the whole batch) and each tap:
/// the input pixel it reads, from channel `c0`, or `zeros` in the padding. Returns, per
/// tap, whether any of the pixels reads inside the image (the others are skipped).
#[allow(clippy::needless_range_loop)] // `r` indexes every tap's row of pointers
fn gather(
    x: &[f32],
    g: &Geometry2d,
    first: usize,
    m: usize,
    c0: usize,
    zeros: *const f32,
    rows: &mut [[*const f32; MR]],
) -> Vec<bool> {
    let (k, plane) = (g.kernel, g.out_plane());
    let mut live = vec![false; k * k];
    for r in 0..MR {
        let pixel = first + r.min(m - 1);
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
    live
}

/// One block: `m` pixels × [`NR`] channels of `dst` (row stride `ldd`) from the taps
/// marked `live`, `cn` channels each: tap `t`'s weights start at `w + t·tap_stride` with
/// row stride `ldw`.
///
/// # Safety
/// AVX-512F must be present; the pointers and lengths must be as [`forward`] makes them.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn block(
    m: usize,
    rows: &[[*const f32; MR]],
    live: &[bool],
    w: &[f32],
    cn: usize,
    ldw: usize,
    tap_stride: usize,
    dst: &mut [f32],
    ldd: usize,
    mode: Store<'_>,
) {
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! go {
            ($($m:literal)*) => {
                match m {
                    $($m => super::avx512::block::<$m>(rows, live, w.as_ptr(), cn, ldw, tap_stride, dst, ldd, mode),)*
                    _ => unreachable!("a block has 1 to {MR} pixels"),
                }
            };
        }
        go!(1 2 3 4 5 6);
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (m, rows, live, w, cn, ldw, tap_stride, dst, ldd, mode);
        unreachable!("the direct convolution runs only on x86-64");
    }
}
