//! `BatchNorm2D`: batch normalisation over channels, PyTorch's `nn.BatchNorm2d(C)`, with
//! this crate's fused kernel. Its tensors and their names are dfdx's (`scale`, `bias`,
//! `running_mean`, `running_var`), so checkpoints and the PyTorch name mapping see no
//! difference.

use dfdx::nn::modules::*;
use dfdx::prelude::*;

use crate::ops::{BatchNormKernel, NormGeometry, NormParams, Running};

/// The zero-sized builder (`dev.build_module::<BatchNorm2D<64>, f32>()`).
pub mod builder {
    /// Batch normalisation of `C` channels (ε 1e-5, momentum 0.1, as PyTorch). Builds
    /// [`super::BatchNorm2D`].
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct BatchNorm2D<const C: usize>;
}

impl<const C: usize, D: Device<f32>> BuildOnDevice<D, f32> for builder::BatchNorm2D<C> {
    type Built = BatchNorm2D<C, f32, D>;
}

/// Batch normalisation of `C` channels: in training (`forward_mut` on a traced tensor) with
/// the batch's statistics, updating the running ones; in inference (`forward`) with the
/// running ones.
///
/// # Shapes
/// Input and output (N, C, H, W); every tensor (C,).
#[derive(Debug, Clone)]
pub struct BatchNorm2D<const C: usize, E: Dtype, D: Storage<E>> {
    /// γ, initialised to 1.
    pub scale: Tensor<Rank1<C>, E, D>,
    /// β, initialised to 0.
    pub bias: Tensor<Rank1<C>, E, D>,
    /// Running mean, initialised to 0.
    pub running_mean: Tensor<Rank1<C>, E, D>,
    /// Running (unbiased) variance, initialised to 1.
    pub running_var: Tensor<Rank1<C>, E, D>,
    /// ε added to the variance.
    pub epsilon: f64,
    /// Weight of the batch's statistics in the running ones.
    pub momentum: f64,
}

impl<const C: usize, D: Device<f32>> TensorCollection<f32, D> for BatchNorm2D<C, f32, D> {
    type To<E2: Dtype, D2: Device<E2>> = BatchNorm2D<C, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor("scale", |s| &s.scale, |s| &mut s.scale, TensorOptions::reset_to_ones()),
                Self::tensor("bias", |s| &s.bias, |s| &mut s.bias, TensorOptions::reset_to_zeros()),
                Self::tensor(
                    "running_mean",
                    |s| &s.running_mean,
                    |s| &mut s.running_mean,
                    TensorOptions::detached(|t| t.try_fill_with_zeros()),
                ),
                Self::tensor(
                    "running_var",
                    |s| &s.running_var,
                    |s| &mut s.running_var,
                    TensorOptions::detached(|t| t.try_fill_with_ones()),
                ),
                Self::scalar(
                    "epsilon",
                    |s| &s.epsilon,
                    |s| &mut s.epsilon,
                    ScalarOptions::from_default(1e-5),
                ),
                Self::scalar(
                    "momentum",
                    |s| &s.momentum,
                    |s| &mut s.momentum,
                    ScalarOptions::from_default(0.1),
                ),
            ),
            |(scale, bias, running_mean, running_var, epsilon, momentum)| BatchNorm2D {
                scale,
                bias,
                running_mean,
                running_var,
                epsilon,
                momentum,
            },
        )
    }
}

fn geometry<S: Shape>(shape: &S) -> NormGeometry {
    let dims = shape.concrete();
    let d = dims.as_ref();
    NormGeometry { batch: d[0], channels: d[1], plane: d[2..].iter().product() }
}

impl<B: Dim, H: Dim, W: Dim, D: BatchNormKernel, const C: usize> Module<Tensor<(B, Const<C>, H, W), f32, D>>
    for BatchNorm2D<C, f32, D>
{
    type Output = Tensor<(B, Const<C>, H, W), f32, D>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), f32, D>) -> Result<Self::Output, D::Err> {
        let (epsilon, momentum, g) = (self.epsilon, self.momentum, geometry(x.shape()));
        let p = NormParams { scale: &self.scale, bias: &self.bias, epsilon, momentum, g };
        D::try_batch_norm_infer(x, p, Running { mean: &self.running_mean, var: &self.running_var })
    }
}

impl<B: Dim, H: Dim, W: Dim, D: BatchNormKernel, const C: usize>
    ModuleMut<Tensor<(B, Const<C>, H, W), f32, D, OwnedTape<f32, D>>> for BatchNorm2D<C, f32, D>
{
    type Output = Tensor<(B, Const<C>, H, W), f32, D, OwnedTape<f32, D>>;
    type Error = D::Err;

    fn try_forward_mut(
        &mut self,
        x: Tensor<(B, Const<C>, H, W), f32, D, OwnedTape<f32, D>>,
    ) -> Result<Self::Output, D::Err> {
        let Self { scale, bias, running_mean, running_var, epsilon, momentum } = self;
        let p = NormParams { scale, bias, epsilon: *epsilon, momentum: *momentum, g: geometry(x.shape()) };
        D::try_batch_norm_train(x, p, Running { mean: running_mean, var: running_var })
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::ops::generic::batch_norm as generic;
    use crate::ops::test_support::{assert_close, tensor4, uniform};

    type Bn = BatchNorm2D<3, f32, Cpu>;

    fn layer(dev: &Cpu) -> Bn {
        let mut bn = dev.build_module::<builder::BatchNorm2D<3>, f32>();
        bn.scale.copy_from(&[1.5, 0.5, -1.0]);
        bn.bias.copy_from(&[0.1, -0.2, 0.3]);
        bn.running_mean.copy_from(&[0.2, -0.1, 0.0]);
        bn.running_var.copy_from(&[1.2, 0.8, 2.0]);
        bn
    }

    /// The fused kernel against the dfdx-op composition: outputs, running statistics and
    /// gradients of x, γ and β, in training and in inference.
    #[test]
    fn fused_kernel_matches_the_generic_path() {
        let dev = Cpu::default();
        let dims = [4, 3, 5, 6];
        let data = uniform(4 * 3 * 30, 3).iter().map(|v| 3.0 * v + 1.0).collect::<Vec<_>>();
        let r = tensor4(&dev, uniform(4 * 3 * 30, 4), dims);

        let (mut fast, mut slow) = (layer(&dev), layer(&dev));
        let x = tensor4(&dev, data.clone(), dims);
        fn p(b: &Bn) -> NormParams<'_, Rank1<3>, Cpu> {
            let g = NormGeometry { batch: 4, channels: 3, plane: 30 };
            NormParams { scale: &b.scale, bias: &b.bias, epsilon: b.epsilon, momentum: 0.1, g }
        }
        let (bf, bs) = (fast.clone(), slow.clone());
        fn running(b: &mut Bn) -> Running<&mut Tensor<Rank1<3>, f32, Cpu>> {
            Running { mean: &mut b.running_mean, var: &mut b.running_var }
        }
        let yf = Cpu::try_batch_norm_train(x.leaky_trace(), p(&bf), running(&mut fast)).unwrap();
        let ys = generic::try_batch_norm_train(x.leaky_trace(), p(&bs), running(&mut slow)).unwrap();
        assert_close(&yf.as_vec(), &ys.as_vec(), 1e-5, "train output");
        assert_close(&fast.running_mean.as_vec(), &slow.running_mean.as_vec(), 1e-6, "running mean");
        assert_close(&fast.running_var.as_vec(), &slow.running_var.as_vec(), 1e-5, "running var");
        let gf = (yf * r.clone()).sum().backward();
        let gs = (ys * r).sum().backward();
        assert_close(&gf.get(&x).as_vec(), &gs.get(&x).as_vec(), 1e-4, "dx");
        assert_close(&gf.get(&bf.scale).as_vec(), &gs.get(&bs.scale).as_vec(), 1e-4, "dscale");
        assert_close(&gf.get(&bf.bias).as_vec(), &gs.get(&bs.bias).as_vec(), 1e-4, "dbias");

        let x = tensor4(&dev, data, dims);
        fn stats(b: &Bn) -> Running<&Tensor<Rank1<3>, f32, Cpu>> {
            Running { mean: &b.running_mean, var: &b.running_var }
        }
        let yf = Cpu::try_batch_norm_infer(x.clone(), p(&fast), stats(&fast)).unwrap();
        let ys = generic::try_batch_norm_infer(x, p(&slow), stats(&slow)).unwrap();
        assert_close(&yf.as_vec(), &ys.as_vec(), 1e-5, "inference output");
    }

    #[test]
    fn training_normalises_each_channel() {
        let dev = Cpu::default();
        let mut bn = dev.build_module::<builder::BatchNorm2D<2>, f32>();
        let x: Tensor<Rank4<2, 2, 1, 2>, f32, _> =
            dev.tensor([[[[1.0, 3.0]], [[10.0, 10.0]]], [[[5.0, 7.0]], [[20.0, 20.0]]]]);
        let y = bn.forward_mut(x.leaky_trace()).as_vec();
        // Channel 0: mean 4, variance 5; channel 1: mean 15, variance 25.
        let expect = |v: f32, m: f32, var: f32| (v - m) / (var + 1e-5).sqrt();
        let want = [
            expect(1.0, 4.0, 5.0),
            expect(3.0, 4.0, 5.0),
            -1.0,
            -1.0,
            expect(5.0, 4.0, 5.0),
            expect(7.0, 4.0, 5.0),
            1.0,
            1.0,
        ];
        assert_close(&y, &want, 1e-5, "normalised");
        // Running statistics: 0.9·(0, 1) + 0.1·(batch mean, unbiased variance).
        assert_close(&bn.running_mean.as_vec(), &[0.4, 1.5], 1e-6, "running mean");
        assert_close(
            &bn.running_var.as_vec(),
            &[0.9 + 0.1 * 20.0 / 3.0, 0.9 + 0.1 * 100.0 / 3.0],
            1e-5,
            "running var",
        );
    }
}
