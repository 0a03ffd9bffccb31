//! The direct convolution against the tape's NCHW kernels (im2row + gemm).

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::ops::cpu::conv_reference::ConvCase;
use crate::ops::test_support::{assert_close, swap_axes};

/// Forward (written, with bias, and added), the weight gradient and the stride-1 input
/// gradient against the tape's kernels, over strides, paddings, images smaller than the
/// kernel's reach, more channels than one pass over the weights holds, and batches that
/// block pixels by image and by position (a partial block of images included).
#[test]
fn direct_convolution_equals_im2row_and_gemm() {
    if !available() {
        eprintln!("no AVX-512F here: the direct convolution is never called");
        return;
    }
    let cases = [
        ([3, 1, 1], (16, 64, 5)),
        ([3, 2, 1], (32, 128, 7)),
        ([1, 2, 0], (64, 64, 6)),
        ([3, 1, 1], (64, 128, 1)),
        ([3, 1, 1], (320, 64, 3)),
        ([1, 1, 0], (64, 64, 4)),
        ([5, 1, 2], (64, 64, 4)),
        ([3, 2, 1], (256, 512, 4)),
        ([3, 1, 1], (512, 512, 2)),
    ];
    for (n, (window, (c, o, h))) in cases.into_iter().flat_map(|case| [3, 13].map(|n| (n, case))) {
        let g = Geometry2d::new([n, c, h, h + 1], o, window);
        assert!(applies(&g));
        let ConvCase { w, b, gx: want_gx, gw: want_gw, y: want, x_last, gy_last, .. } = ConvCase::new(&g);
        let (plane, plane_out) = (g.in_plane(), g.out_plane());
        let want = swap_axes(&want, [n, o, plane_out]);
        let mut wk = Vec::new();
        weights_for_forward(&w, &g, &mut wk);
        let mut y = vec![f32::NAN; g.output_len()];
        forward(&x_last, &wk, Some(&b), &g, &mut y, false);
        assert_close(&y, &want, 1e-4, "y");
        let mut twice = want.clone();
        forward(&x_last, &wk, None, &g, &mut twice, true);
        let doubled: Vec<f32> =
            want.iter().zip(&b.repeat(g.batch * plane_out)).map(|(v, b)| 2.0 * v - b).collect();
        assert_close(&twice, &doubled, 1e-4, "y added");

        let mut ordered = vec![f32::NAN; w.len()];
        weight_gradient(&x_last, &gy_last, &g, &mut ordered);
        let mut gw = vec![f32::NAN; w.len()];
        weights_to_model_order(&ordered, &g, &mut gw);
        assert_close(&gw, &want_gw, 1e-4, "gw");

        let Some(t) = input_gradient_geometry(&g) else {
            assert!(g.stride != 1 || c % NR != 0, "{g:?} should have a direct input gradient");
            continue;
        };
        let mut wb = Vec::new();
        weights_for_input_gradient(&w, &g, &mut wb);
        let mut gx = vec![f32::NAN; g.input_len()];
        forward(&gy_last, &wb, None, &t, &mut gx, false);
        assert_close(&gx, &swap_axes(&want_gx, [n, c, plane]), 1e-4, "gx");
    }
}
