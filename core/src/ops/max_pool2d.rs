//! 2-D max-pooling as a differentiable op on dfdx tensors (PyTorch's `F.max_pool2d` with
//! dilation 1, `ceil_mode=False`): the typed entry point and the per-device kernel trait.

use dfdx::prelude::*;

use super::Geometry2d;
use crate::shape::{SpatialMap, Window, WindowOut};

/// A device that can run 2-D max-pooling forward and backward.
///
/// `Cpu` overrides it with the fast argmax kernel (with the `std` feature); any other device
/// gets the default, [`generic::max_pool2d`](super::generic::max_pool2d), from an empty `impl`.
pub trait MaxPool2dKernel: Device<f32> {
    /// Max-pools `x`, recording the backward pass on its tape.
    ///
    /// # Shapes
    /// `x`: (N, C, H, W), returns (N, C, OH, OW) with the dimension types of `y_shape`.
    fn try_max_pool2d<X: Shape, Y: Shape, T: Tape<f32, Self>>(
        x: Tensor<X, f32, Self, T>,
        geometry: Geometry2d,
        y_shape: Y,
    ) -> Result<Tensor<Y, f32, Self, T>, Self::Err> {
        super::generic::max_pool2d::try_max_pool2d(x, geometry, y_shape)
    }
}

/// Max-pooling with a `K`×`K` window, stride `S` and padding `P` (the `window` marker);
/// the padding never wins (it counts as `-inf`).
///
/// # Shapes
/// `x`: (N, C, H, W), returns (N, C, OH, OW).
///
/// ```
/// use resnet_core::prelude::*;
/// use resnet_core::ops::max_pool2d;
/// let dev = Cpu::default();
/// let x: Tensor<Rank4<1, 1, 4, 4>, f32, _> = dev.tensor([[[
///     [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0],
/// ]]]);
/// let y = max_pool2d(x, Window::<3, 2, 1>).unwrap();
/// assert_eq!(y.as_vec(), [6.0, 8.0, 9.0, 8.0]);
/// ```
pub fn max_pool2d<B, C, H, W, D, T, const K: usize, const S: usize, const P: usize>(
    x: Tensor<(B, C, H, W), f32, D, T>,
    _window: Window<K, S, P>,
) -> Result<Tensor<(B, C, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>, D::Err>
where
    B: Dim,
    C: Dim,
    H: Dim,
    W: Dim,
    D: MaxPool2dKernel,
    T: Tape<f32, D>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    let (b, c, h, w) = *x.shape();
    let g = Geometry2d::new([b.size(), c.size(), h.size(), w.size()], c.size(), [K, S, P]);
    let y_shape =
        (b, c, <Window<K, S, P> as SpatialMap<H>>::map(h), <Window<K, S, P> as SpatialMap<W>>::map(w));
    D::try_max_pool2d(x, g, y_shape)
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::ops::test_support::*;
    use crate::ops::{generic, reference};
    use crate::shape::{Half, Windowed};

    /// Runs one path forward and backward on `loss = sum(y · r)`: returns y and ∂x.
    fn run(path: Path, g: &Geometry2d, x: &[f32], r: &[f32]) -> [Vec<f32>; 2] {
        let dev = Cpu::default();
        let xt = tensor4(&dev, x.to_vec(), [g.batch, g.in_channels, g.height, g.width]);
        let y_shape = (g.batch, g.in_channels, g.out_height, g.out_width);
        let y = match path {
            Path::Fast => Cpu::try_max_pool2d(xt.leaky_trace(), *g, y_shape),
            Path::Generic => generic::max_pool2d::try_max_pool2d(xt.leaky_trace(), *g, y_shape),
        }
        .unwrap();
        let y_values = y.as_vec();
        let grads = (y * dev.tensor_from_vec(r.to_vec(), y_shape)).sum().backward();
        [y_values, grads.get(&xt).as_vec()]
    }

    #[test]
    fn both_paths_match_the_reference_and_finite_differences() {
        for (i, case) in POOL_CASES.iter().enumerate() {
            let g = pool_geometry(case);
            // Distinct values 0.01 apart: a step of 1e-3 never changes a window's argmax.
            let x = distinct(g.input_len(), i as u64);
            let r = uniform(g.output_len(), 50 + i as u64);
            let expected = reference::max_pool2d(&x, &g);
            let numeric = finite_difference(&x, 1e-3, |x| dot(&reference::max_pool2d(x, &g), &r));
            for path in [Path::Fast, Path::Generic] {
                let [y, dx] = run(path, &g, &x, &r);
                assert_eq!(y, expected, "{path:?} forward, {g:?}");
                assert_close(&dx, &numeric, 1e-3, &alloc::format!("{path:?} dx, {g:?}"));
            }
        }
    }

    #[test]
    fn fast_and_generic_paths_agree() {
        for (i, case) in POOL_CASES.iter().enumerate() {
            let g = pool_geometry(case);
            let x = uniform(g.input_len(), 300 + i as u64);
            let r = uniform(g.output_len(), 400 + i as u64);
            let [fy, fdx] = run(Path::Fast, &g, &x, &r);
            let [gy, gdx] = run(Path::Generic, &g, &x, &r);
            assert_eq!(fy, gy, "y, {g:?}");
            assert_close(&fdx, &gdx, 1e-6, &alloc::format!("dx, {g:?}"));
        }
    }

    #[test]
    fn ties_send_the_gradient_to_the_first_maximum_on_the_fast_path() {
        let dev = Cpu::default();
        let x: Tensor<Rank4<1, 1, 2, 2>, f32, _> = dev.tensor([[[[1.0, 1.0], [1.0, 0.0]]]]);
        let y = max_pool2d(x.leaky_trace(), Window::<2, 2, 0>).unwrap();
        let grads = y.sum().backward();
        assert_eq!(grads.get(&x).array(), [[[[1.0, 0.0], [0.0, 0.0]]]]);
    }

    #[test]
    fn typed_op_maps_spatial_types() {
        let dev = Cpu::default();
        let x: Tensor<(usize, Const<2>, usize, usize), f32, _> = dev.sample_normal_like(&(3, Const, 9, 8));
        let y: Tensor<(usize, Const<2>, Half<usize>, Half<usize>), f32, _> =
            max_pool2d(x.clone(), Window::<3, 2, 1>).unwrap();
        assert_eq!(y.shape().concrete(), [3, 2, 5, 4]);
        let z: Tensor<(usize, Const<2>, Windowed<usize, 2, 2, 0>, Windowed<usize, 2, 2, 0>), f32, _> =
            max_pool2d(x, Window::<2, 2, 0>).unwrap();
        assert_eq!(z.shape().concrete(), [3, 2, 4, 4]);
    }
}
