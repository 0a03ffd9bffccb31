//! `Conv2D`: a 2-D convolution layer with bias, PyTorch's `nn.Conv2d(I, O, K, stride=S,
//! padding=P)`.

use dfdx::nn::modules::*;
use dfdx::prelude::*;
use rand_distr::Uniform;

/// The zero-sized builder (`dev.build_module::<Conv2D<3, 8, 3, 1, 1>, f32>()`).
pub mod builder {
    /// A 2-D convolution from `I` to `O` channels, kernel `K`×`K`, stride `S`, zero padding
    /// `P`, with bias. Builds [`super::Conv2D`].
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Conv2D<const I: usize, const O: usize, const K: usize, const S: usize = 1, const P: usize = 0>;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D> BuildOnDevice<D, f32>
    for builder::Conv2D<I, O, K, S, P>
where
    D: Device<f32>,
{
    type Built = Conv2D<I, O, K, S, P, f32, D>;
}

/// A 2-D convolution layer: `I` → `O` channels, kernel `K`×`K`, stride `S`, zero padding `P`.
///
/// Initialised like PyTorch's default: weight and bias uniform in ±1/sqrt(I·K·K).
///
/// # Shapes
/// Input (N, I, H, W) or (I, H, W); output (N, O, OH, OW) or (O, OH, OW), where the spatial
/// types follow [`crate::shape`]. `weight`: (O, I, K, K), `bias`: (O,).
#[derive(Debug, Clone)]
pub struct Conv2D<
    const I: usize,
    const O: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    E: Dtype,
    D: Storage<E>,
> {
    /// Filters, (O, I, K, K).
    pub weight: Tensor<Rank4<O, I, K, K>, E, D>,
    /// One bias per output channel, (O,).
    pub bias: Tensor<Rank1<O>, E, D>,
}

/// PyTorch's default bound for a layer with `fan_in` inputs per output: 1/sqrt(fan_in).
pub(crate) fn default_init_bound(fan_in: usize) -> f32 {
    1.0 / libm::sqrtf(fan_in.max(1) as f32)
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D: Device<f32>>
    TensorCollection<f32, D> for Conv2D<I, O, K, S, P, f32, D>
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2D<I, O, K, S, P, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "weight",
                    |s| &s.weight,
                    |s| &mut s.weight,
                    TensorOptions::reset_with(|t| {
                        let b = default_init_bound(I * K * K);
                        t.try_fill_with_distr(Uniform::new(-b, b))
                    }),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(|t| {
                        let b = default_init_bound(I * K * K);
                        t.try_fill_with_distr(Uniform::new(-b, b))
                    }),
                ),
            ),
            |(weight, bias)| Conv2D { weight, bias },
        )
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
    > NonMutableModule for Conv2D<I, O, K, S, P, E, D>
{
}

/// Implements `Module` for a convolution layer type `$layer<I, O, K, S, P, f32, D>` with a
/// `weight` field, batched (N, C, H, W) and unbatched (C, H, W); `$bias` maps `&self` to the
/// optional bias.
macro_rules! conv_forward {
    ($layer:ident, $bias:expr) => {
        impl<
                B,
                H,
                W,
                D,
                T,
                const C: usize,
                const I: usize,
                const O: usize,
                const K: usize,
                const S: usize,
                const P: usize,
            > Module<Tensor<(B, Const<C>, H, W), f32, D, T>> for $layer<I, O, K, S, P, f32, D>
        where
            B: Dim,
            H: Dim,
            W: Dim,
            D: $crate::ops::Conv2dKernel,
            T: Tape<f32, D>,
            Const<C>: $crate::shape::ChannelsMatch<I>,
            $crate::shape::Window<K, S, P>: $crate::shape::SpatialMap<H> + $crate::shape::SpatialMap<W>,
        {
            type Output = Tensor<
                (B, Const<O>, $crate::shape::WindowOut<H, K, S, P>, $crate::shape::WindowOut<W, K, S, P>),
                f32,
                D,
                T,
            >;
            type Error = D::Err;

            fn try_forward(&self, x: Tensor<(B, Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
                let bias: fn(&Self) -> Option<&Tensor<Rank1<O>, f32, D>> = $bias;
                $crate::ops::conv2d(x, &self.weight, bias(self), $crate::shape::Window::<K, S, P>)
            }
        }

        impl<
                H,
                W,
                D,
                T,
                const C: usize,
                const I: usize,
                const O: usize,
                const K: usize,
                const S: usize,
                const P: usize,
            > Module<Tensor<(Const<C>, H, W), f32, D, T>> for $layer<I, O, K, S, P, f32, D>
        where
            H: Dim,
            W: Dim,
            D: $crate::ops::Conv2dKernel,
            T: Tape<f32, D>,
            Const<C>: $crate::shape::ChannelsMatch<I>,
            $crate::shape::Window<K, S, P>: $crate::shape::SpatialMap<H> + $crate::shape::SpatialMap<W>,
        {
            type Output = Tensor<
                (Const<O>, $crate::shape::WindowOut<H, K, S, P>, $crate::shape::WindowOut<W, K, S, P>),
                f32,
                D,
                T,
            >;
            type Error = D::Err;

            fn try_forward(&self, x: Tensor<(Const<C>, H, W), f32, D, T>) -> Result<Self::Output, D::Err> {
                let (c, h, w) = *x.shape();
                let y = self.try_forward(x.try_reshape_like(&(Const::<1>, c, h, w))?)?;
                let (_, o, oh, ow) = *y.shape();
                y.try_reshape_like(&(o, oh, ow))
            }
        }
    };
}
pub(crate) use conv_forward;

conv_forward!(Conv2D, |s| Some(&s.bias));
