//! The direct convolution against im2row + gemm.

use alloc::vec;
use alloc::vec::Vec;

use super::*;
use crate::ops::cpu::im2col::{add_taps_to_weights, weights_to_taps, Taps};
use crate::ops::test_support::uniform;
use crate::program::kernels::conv;

/// (N, C, P) → (N, P, C).
fn to_last(x: &[f32], n: usize, c: usize, p: usize) -> Vec<f32> {
    let mut y = vec![0.0; x.len()];
    for i in 0..n {
        for ch in 0..c {
            for q in 0..p {
                y[(i * p + q) * c + ch] = x[(i * c + ch) * p + q];
            }
        }
    }
    y
}

fn close(a: &[f32], b: &[f32], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= 1e-4 * (1.0 + y.abs()), "{what}[{i}]: {x} vs {y}");
    }
}

/// Forward (written, with bias, and added) and the stride-1 input gradient against
/// im2row + gemm, over strides, paddings, images smaller than the kernel's reach, and
/// more channels than one pass over the weights holds.
#[test]
fn direct_convolution_equals_im2row_and_gemm() {
    if !available() {
        eprintln!("no AVX-512F here: the direct convolution is never called");
        return;
    }
    for (window, (c, o, h)) in [
        ([3, 1, 1], (16, 64, 5)),
        ([3, 2, 1], (32, 128, 7)),
        ([1, 2, 0], (64, 64, 6)),
        ([3, 1, 1], (64, 128, 1)),
        ([3, 1, 1], (320, 64, 3)),
        ([1, 1, 0], (64, 64, 4)),
        ([5, 1, 2], (64, 64, 4)),
        ([3, 2, 1], (256, 512, 4)),
        ([3, 1, 1], (512, 512, 2)),
    ] {
        let n = 3;
        let g = Geometry2d::new([n, c, h, h + 1], o, window);
        assert!(applies(&g));
        let taps = Taps::new(&g);
        let (x, w, b, gy) = (
            uniform(g.input_len(), 1),
            uniform(g.weight_len(), 2),
            uniform(o, 3),
            uniform(g.output_len(), 4),
        );
        let x = to_last(&x, n, c, g.in_plane());
        let mut want = vec![0.0; g.output_len()];
        conv::forward(&x, &weights_to_taps(&w, &g, &taps), Some(&b), &g, &taps, &mut want);
        let mut wk = Vec::new();
        weights_for_forward(&w, &g, &mut wk);
        let mut y = vec![f32::NAN; g.output_len()];
        forward(&x, &wk, Some(&b), &g, &mut y, false);
        close(&y, &want, "y");
        let mut twice = want.clone();
        forward(&x, &wk, None, &g, &mut twice, true);
        let doubled: Vec<f32> =
            want.iter().zip(&b.repeat(g.batch * g.out_plane())).map(|(v, b)| 2.0 * v - b).collect();
        close(&twice, &doubled, "y added");

        let gy_last = to_last(&gy, n, o, g.out_plane());
        let mut gw_taps = vec![0.0; o * taps.len()];
        conv::backward(&x, &weights_to_taps(&w, &g, &taps), &g, &taps, &gy_last, None, &mut gw_taps, None);
        let mut want_gw = vec![0.0; w.len()];
        add_taps_to_weights(&gw_taps, &g, &taps, &mut want_gw, false);
        let mut gw_cto = vec![f32::NAN; w.len()];
        weight_gradient(&x, &gy_last, &g, &mut gw_cto);
        let mut gw = vec![f32::NAN; w.len()];
        weights_to_model_order(&gw_cto, &g, &mut gw);
        close(&gw, &want_gw, "gw");
        let Some(t) = input_gradient_geometry(&g) else {
            assert!(g.stride != 1 || c % NR != 0, "{g:?} should have a direct input gradient");
            continue;
        };
        let gy = to_last(&gy, n, o, g.out_plane());
        let mut want = vec![0.0; g.input_len()];
        let mut gw = vec![0.0; o * taps.len()];
        conv::backward(
            &x,
            &weights_to_taps(&w, &g, &taps),
            &g,
            &taps,
            &gy,
            Some((&mut want, false)),
            &mut gw,
            None,
        );
        let mut wb = Vec::new();
        weights_for_input_gradient(&w, &g, &mut wb);
        let mut gx = vec![f32::NAN; g.input_len()];
        forward(&gy, &wb, None, &t, &mut gx, false);
        close(&gx, &want, "gx");
    }
}
