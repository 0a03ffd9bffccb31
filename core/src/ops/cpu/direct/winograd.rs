//! Winograd's F(2×2, 3×3) (see [`crate::ops::cpu::winograd`]) with its 16 products on the
//! direct kernel's register blocks, a task's tiles at a time: each task transforms its
//! images' tiles into a buffer of its own, multiplies each of the 16 positions by its
//! transformed filter bank, and transforms the sums back into its output pixels, so the
//! transformed data never travels through memory. A 3×3 stride-1 convolution then does 16
//! multiplications per 2×2 outputs where the direct kernel does 36.

use alloc::vec;

use rayon::prelude::*;

use super::forward::block;
use super::{Out, Panel, Store, MR, NR};
use crate::ops::cpu::scratch::Scratch;
use crate::ops::cpu::winograd::{self, input_tile, output_tile, tile_grid, Filters};
use crate::ops::Geometry2d;

/// Floats of transformed input (16 × tiles × C) a task aims at: 1 MiB.
const TASK_FLOATS: usize = 1 << 18;

/// Whether [`forward`] computes `g` on this machine: a 3×3 stride-1 convolution Winograd
/// takes ([`winograd::applies`]) with the direct kernel's channels ([`super::applies`]),
/// onto an output plane of whole tiles, 6×6 or larger. Measured on ResNet-18's compiled
/// inference: 10% faster with it at 96×96 (planes of 24, 12 and 6), 14% slower at 28×28 when
/// it also took the planes of 7 (a quarter of the tiles' outputs dropped) and 4.
pub(crate) fn applies(g: &Geometry2d) -> bool {
    let whole_tiles = g.out_height.is_multiple_of(2) && g.out_width.is_multiple_of(2);
    winograd::applies(g) && super::applies(g) && whole_tiles && g.out_height.min(g.out_width) >= 6
}

/// `y = conv(x, w) + bias`, `w` given as [`Filters`]. Call only where [`applies`] says so.
///
/// # Shapes
/// `x`: (N, H, W, C); `bias`: (O,); `y`: (N, OH, OW, O), all channels-last.
pub(crate) fn forward(x: &[f32], f: &Filters, bias: Option<&[f32]>, g: &Geometry2d, y: &mut [f32]) {
    let (c, o) = (g.in_channels, g.out_channels);
    let (th, tw) = tile_grid(g);
    let per_image = th * tw;
    let (img_in, img_out) = (g.in_plane() * c, g.out_plane() * o);
    assert!(
        applies(g) && x.len() >= g.batch * img_in && y.len() >= g.batch * img_out,
        "Winograd on the direct kernel called outside its domain"
    );
    if per_image == 0 || g.batch == 0 {
        return;
    }
    let images = (TASK_FLOATS / (16 * per_image * c.max(o))).clamp(1, g.batch);
    let zeros = vec![0.0f32; c];
    y[..g.batch * img_out].par_chunks_mut(images * img_out).enumerate().for_each(|(task, out)| {
        let (first, count) = (task * images, out.len() / img_out);
        let tiles = count * per_image;
        // V as (16, tiles, C), M as (16, tiles, O).
        let mut v = Scratch::take(16 * tiles * c);
        let mut m = Scratch::take(16 * tiles * o);
        for t in 0..tiles {
            let (n, ti, tj) = (t / per_image, t / tw % th, t % tw);
            let image = &x[(first + n) * img_in..][..img_in];
            input_tile(image, g, c, (ti, tj), &zeros, &mut v[t * c..], tiles * c);
        }
        let mut rows = [[zeros.as_ptr(); MR]];
        for xi in 0..16 {
            let (vx, u) = (&v[xi * tiles * c..][..tiles * c], f.position(xi));
            let mx = &mut m[xi * tiles * o..][..tiles * o];
            for ob in (0..o).step_by(NR) {
                for t0 in (0..tiles).step_by(MR) {
                    let rows_here = MR.min(tiles - t0);
                    for (r, row) in rows[0].iter_mut().enumerate() {
                        *row = vx[(t0 + r.min(rows_here - 1)) * c..].as_ptr();
                    }
                    // SAFETY: `applies` checked AVX-512F; each row points at C floats of V_ξ,
                    // `u` holds C·O floats, and `mx` spans the block's tiles of O channels.
                    let panel = Panel { w: &u[ob..], cn: c, ldw: o, tap_stride: 0 };
                    let out = Out { dst: &mut mx[t0 * o + ob..], ldd: o, mode: Store::Write(None) };
                    unsafe { block(rows_here, &rows, &[true], panel, out) };
                }
            }
        }
        for (n, image) in out.chunks_mut(img_out).enumerate() {
            for (ti, tile_row) in image.chunks_mut(2 * g.out_width * o).enumerate() {
                for tj in 0..tw {
                    let t = (n * th + ti) * tw + tj;
                    output_tile(&m[t * o..], tiles * o, o, tile_row, g.out_width, tj, bias);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::ops::reference;
    use crate::ops::test_support::{assert_close, swap_axes, uniform};

    /// Against the definition, over planes and paddings 0 to 2, tasks of one image
    /// and of several (a partial last task included), with and without bias.
    #[test]
    fn winograd_on_the_direct_kernel_equals_the_definition() {
        if !super::super::available() {
            eprintln!("no AVX-512F here: never called");
            return;
        }
        for (n, c, o, h, w, p) in [
            (3, 16, 64, 6, 6, 1),
            (7, 64, 128, 8, 8, 1),
            (2, 32, 64, 10, 8, 0),
            (5, 64, 64, 6, 6, 2),
            (2, 128, 64, 24, 24, 1),
            (13, 256, 256, 6, 6, 1),
        ] {
            let g = Geometry2d::new([n, c, h, w], o, [3, 1, p]);
            assert!(applies(&g), "{g:?}");
            let (x, wt, b) = (uniform(g.input_len(), 1), uniform(g.weight_len(), 2), uniform(o, 3));
            let want = reference::conv2d(&x, &wt, Some(&b), &g);
            let want = swap_axes(&want, [n, o, g.out_plane()]);
            let x_last = swap_axes(&x, [n, c, h * w]);
            let f = Filters::new(&wt, o, c);
            let mut y = vec![f32::NAN; g.output_len()];
            forward(&x_last, &f, Some(&b), &g, &mut y);
            assert_close(&y, &want, 1e-4, &format!("{g:?}"));
            let unbiased: Vec<f32> = want.iter().zip(b.iter().cycle()).map(|(v, b)| v - b).collect();
            forward(&x_last, &f, None, &g, &mut y);
            assert_close(&y, &unbiased, 1e-4, &format!("{g:?} without bias"));
        }
        // Planes with a partial tile, or too small, are left to the direct kernel.
        for (h, w) in [(7, 7), (6, 7), (4, 4)] {
            assert!(!applies(&Geometry2d::new([1, 64, h, w], 64, [3, 1, 1])), "{h}x{w}");
        }
    }
}
