//! Helpers for the op tests: seeded random data, closeness checks, finite differences.

use alloc::vec::Vec;

use dfdx::prelude::*;
use rand::{rngs::StdRng, Rng, SeedableRng};

use super::Geometry2d;

/// Which implementation of an op a test runs.
#[derive(Clone, Copy, Debug)]
pub enum Path {
    /// The `Cpu` kernel.
    Fast,
    /// The device-generic composition of dfdx ops.
    Generic,
}

/// A 4-D tensor with run-time dims, filled from `data`.
pub fn tensor4(
    dev: &Cpu,
    data: Vec<f32>,
    dims: [usize; 4],
) -> Tensor<(usize, usize, usize, usize), f32, Cpu> {
    dev.tensor_from_vec(data, (dims[0], dims[1], dims[2], dims[3]))
}

/// `len` values uniform in [-1, 1), from `seed`.
pub fn uniform(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..len).map(|_| rng.gen_range(-1.0f32..1.0)).collect()
}

/// `len` distinct values spaced 0.01 apart, shuffled (so max-pooling has no ties).
pub fn distinct(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut v: Vec<f32> = (0..len).map(|i| i as f32 * 0.01 - len as f32 * 0.005).collect();
    for i in (1..len).rev() {
        v.swap(i, rng.gen_range(0..=i));
    }
    v
}

/// Asserts `|a - b| <= tol · max(|b|, 1)` elementwise, naming the first offender.
pub fn assert_close(a: &[f32], b: &[f32], tol: f32, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths differ");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        let err = (x - y).abs() / y.abs().max(1.0);
        assert!(err <= tol, "{what}: element {i}: {x} vs {y} (relative error {err:e} > {tol:e})");
    }
}

/// (N, A, B) → (N, B, A): channels-first to channels-last and back.
pub fn swap_axes(x: &[f32], [n, a, b]: [usize; 3]) -> Vec<f32> {
    let mut y = alloc::vec![0.0; x.len()];
    for i in 0..n {
        for p in 0..a {
            for q in 0..b {
                y[(i * b + q) * a + p] = x[(i * a + p) * b + q];
            }
        }
    }
    y
}

/// The gradient of `f` at `x` by central differences with step `eps`, in f64.
pub fn finite_difference(x: &[f32], eps: f32, f: impl Fn(&[f32]) -> f64) -> Vec<f32> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            probe[i] = x[i] + eps;
            let up = f(&probe);
            probe[i] = x[i] - eps;
            let down = f(&probe);
            probe[i] = x[i];
            ((up - down) / (2.0 * eps as f64)) as f32
        })
        .collect()
}

/// `sum(y · r)` in f64: a scalar loss whose gradient with respect to `y` is `r`.
pub fn dot(y: &[f32], r: &[f32]) -> f64 {
    y.iter().zip(r).map(|(&a, &b)| a as f64 * b as f64).sum()
}

/// Window geometries covering strides 1 and 2, paddings 0..=3, odd and even sizes and
/// kernels, and images too small for some kernel taps: `([N, C, H, W], O, [K, S, P])`.
pub const CONV_CASES: &[([usize; 4], usize, [usize; 3])] = &[
    ([2, 3, 7, 6], 4, [3, 1, 1]),
    ([2, 3, 8, 8], 4, [3, 2, 1]),
    ([1, 2, 9, 7], 3, [5, 2, 2]),
    ([2, 2, 6, 5], 3, [1, 2, 0]),
    ([1, 3, 7, 7], 2, [7, 2, 3]),
    ([2, 2, 5, 6], 2, [3, 1, 0]),
    ([1, 2, 6, 6], 2, [2, 2, 0]),
    ([1, 1, 5, 5], 2, [3, 2, 3]),
    ([3, 2, 4, 4], 2, [3, 1, 2]),
    ([1, 2, 11, 10], 3, [4, 3, 1]),
    // Taps that only ever read padding (dropped by the CPU kernel): 1x1 and 2x2 images.
    ([3, 4, 1, 1], 5, [3, 1, 1]),
    ([2, 2, 2, 2], 3, [5, 1, 2]),
    // Larger planes, square and narrow.
    ([1, 2, 15, 14], 3, [3, 1, 1]),
    ([2, 2, 26, 5], 3, [3, 1, 1]),
];

/// Max-pool geometries (padding at most half the kernel): `([N, C, H, W], [K, S, P])`.
pub const POOL_CASES: &[([usize; 4], [usize; 3])] = &[
    ([2, 3, 8, 8], [3, 2, 1]),
    ([2, 2, 7, 7], [3, 2, 1]),
    ([1, 2, 6, 5], [2, 2, 0]),
    ([2, 2, 5, 6], [3, 1, 1]),
    ([1, 3, 9, 8], [3, 2, 0]),
    ([1, 2, 8, 7], [5, 1, 2]),
    ([1, 1, 9, 10], [7, 2, 3]),
];

/// The geometry of a conv case.
pub fn conv_geometry(&(dims, o, win): &([usize; 4], usize, [usize; 3])) -> Geometry2d {
    Geometry2d::new(dims, o, win)
}

/// The geometry of a pool case.
pub fn pool_geometry(&(dims, win): &([usize; 4], [usize; 3])) -> Geometry2d {
    Geometry2d::new(dims, dims[1], win)
}
