//! 2-D convolution as a differentiable op on dfdx tensors (PyTorch's `F.conv2d` with
//! dilation 1 and groups 1): the typed entry point and the per-device kernel trait.

use dfdx::prelude::*;

use super::Geometry2d;
use crate::shape::{ChannelsMatch, SpatialMap, Window, WindowOut};

/// A device that can run a 2-D convolution forward and backward.
///
/// `Cpu` overrides it with the fast im2col + `gemm` kernel; any other device gets the
/// default, [`generic::conv2d`](super::generic::conv2d), from an empty `impl`. Without the
/// `std` feature `Cpu` has no kernel: dfdx's own CPU matmul fallback (without its `cpu`
/// feature) overwrites instead of accumulating, so numeric work on `Cpu` needs `std`.
pub trait Conv2dKernel: Device<f32> {
    /// Convolves `x` with `p.weight` (and adds `p.bias`), recording the backward pass on
    /// `x`'s tape.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W), returns (N, O, OH, OW) with the dimension types of `y_shape`.
    fn try_conv2d<X: Shape, Wt: Shape, Bs: Shape, Y: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        p: ConvParams<'_, Wt, Bs, Self>,
        y_shape: Y,
    ) -> Result<Tensor<Y, f32, Self, T>, Self::Err> {
        super::generic::conv2d::try_conv2d(x, p, y_shape)
    }
}

/// What a convolution reads besides `x`: its filters, its bias if any, and the call's sizes.
///
/// # Shapes
/// `weight`: (O, C, K, K), `bias`: (O,); `g` holds those sizes and `x`'s as numbers.
#[derive(Debug)]
pub struct ConvParams<'a, Wt: Shape, Bs: Shape, D: Storage<f32>> {
    /// The filters.
    pub weight: &'a Tensor<Wt, f32, D>,
    /// One bias per output channel, if any.
    pub bias: Option<&'a Tensor<Bs, f32, D>>,
    /// N, C, H, W, O, K, stride and padding.
    pub g: Geometry2d,
}

/// 2-D convolution with kernel `K`, stride `S`, zero padding `P` (the `window` marker).
///
/// The output's spatial types follow [`crate::shape`]: a stride-1 "same" window keeps them,
/// a stride-2 "same" window halves them, any other window wraps them. A channel mismatch
/// between `x` and `weight` does not compile.
///
/// # Shapes
/// `x`: (N, C=I, H, W), `weight`: (O, I, K, K), `bias`: (O,), returns (N, O, OH, OW).
///
/// ```
/// use resnet_core::prelude::*;
/// use resnet_core::ops::conv2d;
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 6, 6));
/// let w: Tensor<Rank4<8, 3, 3, 3>, f32, _> = dev.ones();
/// let y = conv2d(x, &w, None, Window::<3, 2, 1>).unwrap();
/// assert_eq!(y.shape().concrete(), [2, 8, 3, 3]);
/// ```
pub fn conv2d<
    B,
    H,
    W,
    D,
    T,
    const C: usize,
    const O: usize,
    const I: usize,
    const K: usize,
    const S: usize,
    const P: usize,
>(
    x: Tensor<(B, Const<C>, H, W), f32, D, T>,
    weight: &Tensor<Rank4<O, I, K, K>, f32, D>,
    bias: Option<&Tensor<Rank1<O>, f32, D>>,
    _window: Window<K, S, P>,
) -> Result<Tensor<(B, Const<O>, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>, D::Err>
where
    B: Dim,
    H: Dim,
    W: Dim,
    D: Conv2dKernel,
    T: Tape<f32, D>,
    Const<C>: ChannelsMatch<I>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    let (b, _, h, w) = *x.shape();
    let g = Geometry2d::new([b.size(), C, h.size(), w.size()], O, [K, S, P]);
    let y_shape =
        (b, Const, <Window<K, S, P> as SpatialMap<H>>::map(h), <Window<K, S, P> as SpatialMap<W>>::map(w));
    D::try_conv2d(x, ConvParams { weight, bias, g }, y_shape)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::ops::test_support::*;
    use crate::ops::{generic, reference};
    use crate::shape::Half;

    /// Runs one path forward and backward on `loss = sum(y · r)`: returns y, ∂x, ∂w, ∂b.
    fn run(path: Path, g: &Geometry2d, x: &[f32], w: &[f32], b: &[f32], r: &[f32]) -> [Vec<f32>; 4] {
        let dev = Cpu::default();
        let xt = tensor4(&dev, x.to_vec(), [g.batch, g.in_channels, g.height, g.width]);
        let wt = tensor4(&dev, w.to_vec(), [g.out_channels, g.in_channels, g.kernel, g.kernel]);
        let bt = dev.tensor_from_vec(b.to_vec(), (g.out_channels,));
        let y_shape = (g.batch, g.out_channels, g.out_height, g.out_width);
        let p = ConvParams { weight: &wt, bias: Some(&bt), g: *g };
        let y = match path {
            Path::Fast => Cpu::try_conv2d(xt.leaky_trace(), p, y_shape),
            Path::Generic => generic::conv2d::try_conv2d(xt.leaky_trace(), p, y_shape),
        }
        .unwrap();
        let y_values = y.as_vec();
        let rt = dev.tensor_from_vec(r.to_vec(), y_shape);
        let grads = (y * rt).sum().backward();
        [y_values, grads.get(&xt).as_vec(), grads.get(&wt).as_vec(), grads.get(&bt).as_vec()]
    }

    fn data(g: &Geometry2d, seed: u64) -> [Vec<f32>; 4] {
        [
            uniform(g.input_len(), seed),
            uniform(g.weight_len(), seed + 1),
            uniform(g.out_channels, seed + 2),
            uniform(g.output_len(), seed + 3),
        ]
    }

    #[test]
    fn both_paths_match_the_naive_reference() {
        for (i, case) in CONV_CASES.iter().enumerate() {
            let g = conv_geometry(case);
            let [x, w, b, r] = data(&g, 10 * i as u64);
            let expected = reference::conv2d(&x, &w, Some(&b), &g);
            for path in [Path::Fast, Path::Generic] {
                let [y, ..] = run(path, &g, &x, &w, &b, &r);
                assert_close(&y, &expected, 1e-4, &alloc::format!("{path:?} forward, {g:?}"));
            }
        }
    }

    #[test]
    fn both_paths_match_finite_difference_gradients() {
        for (i, case) in CONV_CASES.iter().enumerate() {
            let g = conv_geometry(case);
            let [x, w, b, r] = data(&g, 100 + 10 * i as u64);
            // The loss is linear in each of x, w, b: central differences are exact up to
            // rounding, so a large step keeps rounding noise small.
            let eps = 0.125;
            let gx = finite_difference(&x, eps, |x| dot(&reference::conv2d(x, &w, Some(&b), &g), &r));
            let gw = finite_difference(&w, eps, |w| dot(&reference::conv2d(&x, w, Some(&b), &g), &r));
            let gb = finite_difference(&b, eps, |b| dot(&reference::conv2d(&x, &w, Some(b), &g), &r));
            for path in [Path::Fast, Path::Generic] {
                let [_, ax, aw, ab] = run(path, &g, &x, &w, &b, &r);
                let what = |t: &str| alloc::format!("{path:?} d{t}, {g:?}");
                assert_close(&ax, &gx, 1e-3, &what("x"));
                assert_close(&aw, &gw, 1e-3, &what("w"));
                assert_close(&ab, &gb, 1e-3, &what("b"));
            }
        }
    }

    #[test]
    fn fast_and_generic_paths_agree() {
        for (i, case) in CONV_CASES.iter().enumerate() {
            let g = conv_geometry(case);
            let [x, w, b, r] = data(&g, 1000 + 10 * i as u64);
            let fast = run(Path::Fast, &g, &x, &w, &b, &r);
            let generic = run(Path::Generic, &g, &x, &w, &b, &r);
            for (name, (a, e)) in ["y", "dx", "dw", "db"].iter().zip(fast.iter().zip(&generic)) {
                assert_close(a, e, 1e-4, &alloc::format!("{name}, {g:?}"));
            }
        }
    }

    #[test]
    fn gradients_accumulate_over_two_uses_of_the_input() {
        // x feeds two convolutions; its gradient must be the sum of both contributions.
        let dev = Cpu::default();
        let g = Geometry2d::new([2, 2, 5, 5], 3, [3, 1, 1]);
        let x = tensor4(&dev, uniform(g.input_len(), 7), [2, 2, 5, 5]);
        let w = tensor4(&dev, uniform(g.weight_len(), 8), [3, 2, 3, 3]);
        let shape = (2, 3, 5, 5);
        let conv = |x| {
            Cpu::try_conv2d::<_, _, (usize,), _, _>(x, ConvParams { weight: &w, bias: None, g }, shape)
                .unwrap()
        };
        let grads_once = conv(x.leaky_trace()).sum().backward();
        let grads_twice = (conv(x.leaky_trace()) + conv(x.leaky_trace())).sum().backward();
        let single = grads_once.get(&x).as_vec();
        let double: Vec<f32> = single.iter().map(|v| 2.0 * v).collect();
        assert_close(&grads_twice.get(&x).as_vec(), &double, 1e-5, "dx of x used twice");
    }

    #[test]
    fn typed_op_maps_spatial_types_and_accepts_run_time_sizes() {
        let dev = Cpu::default();
        let x: Tensor<(usize, Const<3>, usize, usize), f32, _> = dev.sample_normal_like(&(4, Const, 7, 6));
        let w: Tensor<Rank4<5, 3, 3, 3>, f32, _> = dev.sample_normal();
        let y: Tensor<(usize, Const<5>, Half<usize>, Half<usize>), f32, _> =
            conv2d(x.clone(), &w, None, Window::<3, 2, 1>).unwrap();
        assert_eq!(y.shape().concrete(), [4, 5, 4, 3]);
        let same: Tensor<(usize, Const<5>, usize, usize), f32, _> =
            conv2d(x, &w, None, Window::<3, 1, 1>).unwrap();
        assert_eq!(same.shape().concrete(), [4, 5, 7, 6]);
        let fixed: Tensor<Rank4<2, 3, 9, 9>, f32, _> = dev.sample_normal();
        let y = conv2d(fixed, &w, None, Window::<3, 2, 1>).unwrap();
        let _: &Tensor<(Const<2>, Const<5>, Half<Const<9>>, Half<Const<9>>), f32, _> = &y;
        assert_eq!(y.shape().concrete(), [2, 5, 5, 5]);
    }
}
