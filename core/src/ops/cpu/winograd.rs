//! 3×3 stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray,
//! "Fast Algorithms for Convolutional Neural Networks", 2015) on channels-last images:
//! each 2×2 block of outputs ("tile") comes from a 4×4 block of input through 16 products
//! instead of 36, so the matrix products do 4/9 of im2col's multiplications.
//!
//! With `d` a tile's 4×4 input, `g` a 3×3 filter: `V = Bᵀ d B`, `U = G g Gᵀ` (both 4×4),
//! `Y = Aᵀ (U ⊙ V) A` (2×2). Summed over input channels, the elementwise product becomes 16
//! matrix products, one per position ξ of the 4×4: `M_ξ = V_ξ · U_ξ`, (tiles × C) · (C × O).

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

use super::gemm::{sgemm, MatRef};
use super::scratch::Scratch;
use crate::ops::Geometry2d;

/// Channels transformed together (one AVX-512 register of `f32`).
const LANES: usize = 16;

/// Floats of transformed input one group of images may use: 16 MiB.
const GROUP_BUDGET: usize = 1 << 22;

/// Whether `g` is a convolution this module computes: 3×3, stride 1, padding at most 2, an
/// output of at least 4×4 (on smaller ones the tiles would mostly compute padding).
pub(crate) fn applies(g: &Geometry2d) -> bool {
    g.kernel == 3 && g.stride == 1 && g.padding <= 2 && g.out_height >= 4 && g.out_width >= 4
}

/// Whether Winograd is the faster way for `g` (which [`applies`]): with fewer than 128
/// input or output channels the 16 products are too thin for the `gemm` crate to pay for
/// the transforms. Measured on ResNet-18's layers, 2 cores: 64 channels at 24×24 and 7×7 no
/// faster than im2col; 128 at 12×12 a tenth faster, 128 at 4×4 a quarter, 256 at 6×6 a third.
pub(crate) fn pays(g: &Geometry2d) -> bool {
    applies(g) && g.in_channels >= 128 && g.out_channels >= 128
}

/// A 3×3 filter bank transformed for [`forward`]: `U_ξ` for each ξ, as (16, C, O).
pub(crate) struct Filters {
    u: Vec<f32>,
    c: usize,
    o: usize,
}

impl Filters {
    /// `U = G g Gᵀ` of each (output, input) channel pair of `w`.
    ///
    /// # Shapes
    /// `w`: (O, C, 3, 3).
    pub fn new(w: &[f32], o: usize, c: usize) -> Self {
        let mut u = vec![0.0f32; 16 * c * o];
        // Rows of U_ξ are input channels: fill channel by channel in parallel.
        let by_channel: Vec<Vec<f32>> = (0..c)
            .into_par_iter()
            .map(|ic| {
                let mut out = vec![0.0f32; 16 * o];
                for oc in 0..o {
                    let g = |a: usize, b: usize| w[((oc * c + ic) * 3 + a) * 3 + b];
                    // t = G g: 4×3
                    let t: [[f32; 3]; 4] = [
                        core::array::from_fn(|b| g(0, b)),
                        core::array::from_fn(|b| 0.5 * (g(0, b) + g(1, b) + g(2, b))),
                        core::array::from_fn(|b| 0.5 * (g(0, b) - g(1, b) + g(2, b))),
                        core::array::from_fn(|b| g(2, b)),
                    ];
                    // U = t Gᵀ: 4×4
                    for (a, row) in t.iter().enumerate() {
                        let v = [
                            row[0],
                            0.5 * (row[0] + row[1] + row[2]),
                            0.5 * (row[0] - row[1] + row[2]),
                            row[2],
                        ];
                        for (b, x) in v.into_iter().enumerate() {
                            out[(a * 4 + b) * o + oc] = x;
                        }
                    }
                }
                out
            })
            .collect();
        for (ic, values) in by_channel.iter().enumerate() {
            for xi in 0..16 {
                u[(xi * c + ic) * o..][..o].copy_from_slice(&values[xi * o..][..o]);
            }
        }
        Self { u, c, o }
    }
}

impl Filters {
    /// `U_ξ` of position `xi` (0..16): (C, O).
    pub(crate) fn position(&self, xi: usize) -> &[f32] {
        &self.u[xi * self.c * self.o..][..self.c * self.o]
    }
}

/// Tiles of an output plane: (rows, columns) of 2×2 blocks.
pub(crate) fn tile_grid(g: &Geometry2d) -> (usize, usize) {
    (g.out_height.div_ceil(2), g.out_width.div_ceil(2))
}

/// `y = conv(x, w)` for a geometry that [`applies`], `w` given as [`Filters`] with C inputs
/// and O outputs; `y` is overwritten.
///
/// # Shapes
/// `x`: (N, H, W, C) channels-last; `y`: (N, OH, OW, O) channels-last.
pub(crate) fn forward(x: &[f32], f: &Filters, g: &Geometry2d, y: &mut [f32]) {
    let (c, o) = (f.c, f.o);
    let (th, tw) = tile_grid(g);
    let per_image = th * tw;
    let (img_in, img_out) = (g.in_plane() * c, g.out_plane() * o);
    if per_image == 0 || g.batch == 0 {
        return;
    }
    let group = (GROUP_BUDGET / (16 * per_image * c.max(o)).max(1)).clamp(1, g.batch);
    let mut v = Scratch::take(16 * group * per_image * c);
    let mut m = Scratch::take(16 * group * per_image * o);
    for first in (0..g.batch).step_by(group) {
        let count = group.min(g.batch - first);
        let tiles = count * per_image;
        let v = &mut v[..16 * tiles * c];
        transform_input(&x[first * img_in..][..count * img_in], g, c, v);
        let m = &mut m[..16 * tiles * o];
        for xi in 0..16 {
            let a = MatRef { data: &v[xi * c..], row_stride: 16 * c, col_stride: 1 };
            let b = MatRef::rows(&f.u[xi * c * o..][..c * o], o);
            sgemm([tiles, c, o], a, b, &mut m[xi * tiles * o..][..tiles * o], false);
        }
        transform_output(m, g, o, tiles, &mut y[first * img_out..][..count * img_out]);
    }
}

/// `V = Bᵀ d B` of every tile, as (tiles, 16, C): padding reads as zero.
fn transform_input(x: &[f32], g: &Geometry2d, c: usize, v: &mut [f32]) {
    let (th, tw) = tile_grid(g);
    let zeros = vec![0.0f32; c];
    v.par_chunks_mut(16 * c).enumerate().for_each(|(t, out)| {
        let (n, ti, tj) = (t / (th * tw), t / tw % th, t % tw);
        let image = &x[n * g.in_plane() * c..][..g.in_plane() * c];
        input_tile(image, g, c, (ti, tj), &zeros, out, c);
    });
}

/// `V = Bᵀ d B` of tile (`ti`, `tj`) of one channels-last `image`, its 16 positions written
/// `stride` floats apart in `v` (C each); padding reads as `zeros` (C of them).
pub(crate) fn input_tile(
    image: &[f32],
    g: &Geometry2d,
    c: usize,
    (ti, tj): (usize, usize),
    zeros: &[f32],
    v: &mut [f32],
    stride: usize,
) {
    let (h, w, p) = (g.height as isize, g.width as isize, g.padding as isize);
    // The tile's 4×4 input pixels, C values each.
    let pixel = |a: usize, b: usize| -> &[f32] {
        let (r, s) = (2 * ti as isize + a as isize - p, 2 * tj as isize + b as isize - p);
        if r < 0 || s < 0 || r >= h || s >= w {
            zeros
        } else {
            &image[(r as usize * g.width + s as usize) * c..][..c]
        }
    };
    let d: [[&[f32]; 4]; 4] = core::array::from_fn(|a| core::array::from_fn(|b| pixel(a, b)));
    for ch in (0..c).step_by(LANES) {
        let len = LANES.min(c - ch);
        // The 16 pixels' lanes, zero past `len`.
        let mut x = [[0.0f32; LANES]; 16];
        for (k, lanes) in x.iter_mut().enumerate() {
            lanes[..len].copy_from_slice(&d[k / 4][k % 4][ch..][..len]);
        }
        // t = Bᵀ d (rows), then V = t B (columns), lane by lane.
        let mut t = [[0.0f32; LANES]; 16];
        for b in 0..4 {
            for l in 0..LANES {
                let (d0, d1, d2, d3) = (x[b][l], x[4 + b][l], x[8 + b][l], x[12 + b][l]);
                t[b][l] = d0 - d2;
                t[4 + b][l] = d1 + d2;
                t[8 + b][l] = d2 - d1;
                t[12 + b][l] = d1 - d3;
            }
        }
        for a in 0..4 {
            let r = &t[4 * a..4 * a + 4];
            let mut q = [[0.0f32; LANES]; 4];
            for l in 0..LANES {
                q[0][l] = r[0][l] - r[2][l];
                q[1][l] = r[1][l] + r[2][l];
                q[2][l] = r[2][l] - r[1][l];
                q[3][l] = r[1][l] - r[3][l];
            }
            for (b, lanes) in q.iter().enumerate() {
                v[(a * 4 + b) * stride + ch..][..len].copy_from_slice(&lanes[..len]);
            }
        }
    }
}

/// `Y = Aᵀ M A` of every tile into the channels-last output, dropping the outputs past an
/// odd edge.
fn transform_output(m: &[f32], g: &Geometry2d, o: usize, tiles: usize, y: &mut [f32]) {
    let (th, tw) = tile_grid(g);
    let ow = g.out_width;
    // One task per (image, tile row): its one or two output rows.
    y.par_chunks_mut(g.out_plane() * o)
        .enumerate()
        .flat_map(|(n, image)| {
            image.par_chunks_mut(2 * ow * o).enumerate().map(move |(ti, out)| (n, ti, out))
        })
        .for_each(|(n, ti, out)| {
            for tj in 0..tw {
                let t = (n * th + ti) * tw + tj;
                output_tile(&m[t * o..], tiles * o, o, out, ow, tj, None);
            }
        });
}

/// `Y = Aᵀ M A` (+ `bias`) of one tile, its 16 positions read `stride` floats apart from `m`
/// (O each), into tile column `tj` of `out`: the tile row's one or two output rows of `ow`
/// pixels, channels-last (the outputs past an odd edge dropped).
pub(crate) fn output_tile(
    m: &[f32],
    stride: usize,
    o: usize,
    out: &mut [f32],
    ow: usize,
    tj: usize,
    bias: Option<&[f32]>,
) {
    let rows = out.len() / (ow * o);
    let cols = (ow - 2 * tj).min(2);
    for ch in (0..o).step_by(LANES) {
        let len = LANES.min(o - ch);
        let mut x = [[0.0f32; LANES]; 16];
        for (xi, lanes) in x.iter_mut().enumerate() {
            lanes[..len].copy_from_slice(&m[xi * stride + ch..][..len]);
        }
        let mut b = [0.0f32; LANES];
        if let Some(bias) = bias {
            b[..len].copy_from_slice(&bias[ch..][..len]);
        }
        // s = Aᵀ M: 2×4, then Y = s A: 2×2, lane by lane.
        let mut y = [[0.0f32; LANES]; 4];
        for l in 0..LANES {
            let s0: [f32; 4] = core::array::from_fn(|k| x[k][l] + x[4 + k][l] + x[8 + k][l]);
            let s1: [f32; 4] = core::array::from_fn(|k| x[4 + k][l] - x[8 + k][l] - x[12 + k][l]);
            y[0][l] = s0[0] + s0[1] + s0[2] + b[l];
            y[1][l] = s0[1] - s0[2] - s0[3] + b[l];
            y[2][l] = s1[0] + s1[1] + s1[2] + b[l];
            y[3][l] = s1[1] - s1[2] - s1[3] + b[l];
        }
        for a in 0..rows {
            for c in 0..cols {
                out[(a * ow + 2 * tj + c) * o + ch..][..len].copy_from_slice(&y[a * 2 + c][..len]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::reference;
    use crate::ops::test_support::{assert_close, swap_axes as swap, uniform};

    #[test]
    fn the_convolution_equals_the_definition() {
        // (n, c, o, h, w, padding)
        let cases = [
            (2, 3, 5, 4, 4, 1),
            (1, 2, 3, 7, 9, 1),
            (3, 4, 2, 6, 7, 0),
            (1, 3, 4, 5, 6, 2),
            (2, 20, 17, 6, 5, 1),
        ];
        for (n, c, o, h, w, p) in cases {
            let g = Geometry2d::new([n, c, h, w], o, [3, 1, p]);
            assert!(applies(&g), "{g:?}");
            let (x, wt) = (uniform(g.input_len(), 1), uniform(g.weight_len(), 2));
            let want = reference::conv2d(&x, &wt, None, &g);
            let mut y = vec![f32::NAN; g.output_len()];
            forward(&swap(&x, [n, c, h * w]), &Filters::new(&wt, o, c), &g, &mut y);
            assert_close(&swap(&y, [n, g.out_plane(), o]), &want, 1e-5, &format!("forward {g:?}"));
        }
    }

    #[test]
    fn a_batch_of_several_groups_gives_each_image_its_own_result() {
        // 128 channels of 20×20: 20 images per group, so 21 make two groups.
        let g = Geometry2d::new([21, 128, 20, 20], 128, [3, 1, 1]);
        assert!(GROUP_BUDGET / (16 * 100 * 128) < g.batch);
        let (x, wt) = (uniform(g.input_len(), 4), uniform(g.weight_len(), 5));
        let f = Filters::new(&wt, 128, 128);
        let mut y = vec![f32::NAN; g.output_len()];
        forward(&x, &f, &g, &mut y);
        let one = Geometry2d { batch: 1, ..g };
        let (img_in, img_out) = (g.input_len() / 21, g.output_len() / 21);
        for n in [0, 19, 20] {
            let mut alone = vec![f32::NAN; img_out];
            forward(&x[n * img_in..][..img_in], &f, &one, &mut alone);
            assert_eq!(&y[n * img_out..][..img_out], alone.as_slice(), "image {n}");
        }
    }

    #[test]
    fn small_or_strided_windows_are_left_to_im2col() {
        assert!(!applies(&Geometry2d::new([1, 1, 3, 3], 1, [3, 1, 1])));
        assert!(!applies(&Geometry2d::new([1, 1, 8, 8], 1, [3, 2, 1])));
        assert!(!applies(&Geometry2d::new([1, 1, 8, 8], 1, [1, 1, 0])));
        assert!(!pays(&Geometry2d::new([1, 64, 24, 24], 64, [3, 1, 1])));
        assert!(pays(&Geometry2d::new([1, 128, 4, 4], 128, [3, 1, 1])));
    }
}
