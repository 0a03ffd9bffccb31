//! `Conv2D`: a 2-D convolution layer, PyTorch's `nn.Conv2d(I, O, K, stride=S, padding=P)`;
//! `Conv2D<I, O, K, S, P, NoBias>` is `nn.Conv2d(..., bias=False)` (see [`super::ConvBias`]).

use dfdx::nn::modules::*;
use dfdx::prelude::*;
use rand_distr::Uniform;

use super::conv_bias::{BiasField, Biased, ConvBias, NoBias};
use crate::ops::{conv2d, Conv2dKernel};
use crate::shape::{ChannelsMatch, SpatialMap, Window, WindowOut};

/// The zero-sized builders (`dev.build_module::<Conv2D<3, 8, 3, 1, 1>, f32>()`).
pub mod builder {
    use core::marker::PhantomData;

    use super::{Biased, NoBias};

    /// A 2-D convolution from `I` to `O` channels, kernel `K`×`K`, stride `S`, zero padding
    /// `P`, with a bias unless `B` is [`NoBias`]. Builds [`super::Conv2D`].
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Conv2D<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize = 1,
        const P: usize = 0,
        B = Biased,
    >(PhantomData<B>);

    /// [`Conv2D`] without bias, as torchvision's ResNets use before every batch norm.
    pub type Conv2DNoBias<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize = 1,
        const P: usize = 0,
    > = Conv2D<I, O, K, S, P, NoBias>;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, B, D>
    BuildOnDevice<D, f32> for builder::Conv2D<I, O, K, S, P, B>
where
    B: ConvBias,
    D: Device<f32>,
{
    type Built = Conv2D<I, O, K, S, P, f32, D, B>;
}

/// A 2-D convolution layer: `I` → `O` channels, kernel `K`×`K`, stride `S`, zero padding `P`,
/// with a bias ([`Biased`], the default) or without ([`NoBias`]).
///
/// Initialised like PyTorch's default: weight and bias uniform in ±1/sqrt(I·K·K).
///
/// # Shapes
/// Input (N, I, H, W) or (I, H, W); output (N, O, OH, OW) or (O, OH, OW), where the spatial
/// types follow [`crate::shape`]. `weight`: (O, I, K, K), `bias`: (O,) or `()`.
#[derive(Debug, Clone)]
pub struct Conv2D<
    const I: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    E: Dtype,
    D: Storage<E>,
    B: ConvBias = Biased,
> {
    /// Filters, (O, I, K, K).
    pub weight: Tensor<Rank4<O, I, K, K>, E, D>,
    /// One bias per output channel, (O,); `()` for [`NoBias`].
    pub bias: B::Param<O, E, D>,
}

/// The built [`builder::Conv2DNoBias`]: a [`Conv2D`] without bias.
pub type Conv2DNoBias<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, E, D> =
    Conv2D<I, O, K, S, P, E, D, NoBias>;

/// PyTorch's default bound for a layer with `fan_in` inputs per output: 1/sqrt(fan_in).
pub(crate) fn default_init_bound(fan_in: usize) -> f32 {
    1.0 / libm::sqrtf(fan_in.max(1) as f32)
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D, B>
    TensorCollection<f32, D> for Conv2D<I, O, K, S, P, f32, D, B>
where
    D: Device<f32>,
    B: ConvBias,
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2D<I, O, K, S, P, E2, D2, B>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(Self::reset),
                ),
                BiasField::<B, Self, _, _, O, D>::new(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(Self::reset),
                ),
            ),
            |(weight, bias)| Conv2D { weight, bias },
        )
    }
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D, B>
    Conv2D<I, O, K, S, P, f32, D, B>
where
    D: Device<f32>,
    B: ConvBias,
{
    /// PyTorch's default initialisation of weight and bias: uniform in ±1/sqrt(I·K·K).
    fn reset<Sh: Shape>(t: &mut Tensor<Sh, f32, D>) -> Result<(), D::Err> {
        let b = default_init_bound(I * K * K);
        t.try_fill_with_distr(Uniform::new(-b, b))
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E: Dtype,
        D: Storage<E>,
        B: ConvBias,
    > NonMutableModule for Conv2D<I, O, K, S, P, E, D, B>
{
}

impl<
        B,
        H,
        W,
        D,
        T,
        Bias,
        const C: usize,
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
    > Module<Tensor<(B, Const<C>, H, W), f32, D, T>> for Conv2D<I, O, K, S, P, f32, D, Bias>
where
    B: Dim,
    H: Dim,
    W: Dim,
    D: Conv2dKernel,
    T: Tape<f32, D>,
    Bias: ConvBias,
    Const<C>: ChannelsMatch<I>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    type Output = Tensor<(B, Const<O>, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        conv2d(x, &self.weight, Bias::tensor(&self.bias), Window::<K, S, P>)
    }
}

impl<
        H,
        W,
        D,
        T,
        Bias,
        const C: usize,
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
    > Module<Tensor<(Const<C>, H, W), f32, D, T>> for Conv2D<I, O, K, S, P, f32, D, Bias>
where
    H: Dim,
    W: Dim,
    D: Conv2dKernel,
    T: Tape<f32, D>,
    Bias: ConvBias,
    Const<C>: ChannelsMatch<I>,
    Window<K, S, P>: SpatialMap<H> + SpatialMap<W>,
{
    type Output = Tensor<(Const<O>, WindowOut<H, K, S, P>, WindowOut<W, K, S, P>), f32, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
        let (c, h, w) = *x.shape();
        let y = self.try_forward(x.try_reshape_like(&(Const::<1>, c, h, w))?)?;
        let (_, o, oh, ow) = *y.shape();
        y.try_reshape_like(&(o, oh, ow))
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    /// Without bias, the layer is the biased one with a zero bias; it has no `bias` tensor.
    #[test]
    fn no_bias_equals_a_biased_convolution_with_zero_bias() {
        let dev = Cpu::default();
        let plain = dev.build_module::<builder::Conv2DNoBias<3, 5, 3, 2, 1>, f32>();
        let mut biased = dev.build_module::<builder::Conv2D<3, 5, 3, 2, 1>, f32>();
        biased.weight = plain.weight.clone();
        biased.bias = dev.zeros();
        assert_eq!(plain.num_trainable_params(), 5 * 3 * 9);
        assert_eq!(biased.num_trainable_params(), 5 * 3 * 9 + 5);
        let x: Tensor<Rank4<2, 3, 7, 7>, f32, _> = dev.sample_normal();
        assert_eq!(plain.forward(x.clone()).as_vec(), biased.forward(x.clone()).as_vec());
        let y = plain.forward(dev.sample_normal::<Rank3<3, 7, 7>>());
        assert_eq!(y.shape().concrete(), [5, 4, 4]);
    }
}
