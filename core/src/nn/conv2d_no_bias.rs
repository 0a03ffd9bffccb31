//! `Conv2DNoBias`: a 2-D convolution without bias, PyTorch's `nn.Conv2d(I, O, K, stride=S,
//! padding=P, bias=False)`, as torchvision's ResNets use before every batch norm.

use dfdx::nn::modules::*;
use dfdx::prelude::*;
use rand_distr::Uniform;

use super::conv2d::{conv_forward, default_init_bound};

/// The zero-sized builder (`dev.build_module::<Conv2DNoBias<3, 8, 3, 1, 1>, f32>()`).
pub mod builder {
    /// A 2-D convolution from `I` to `O` channels, kernel `K`×`K`, stride `S`, zero padding
    /// `P`, without bias. Builds [`super::Conv2DNoBias`].
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Conv2DNoBias<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize = 1,
        const P: usize = 0,
    >;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D> BuildOnDevice<D, f32>
    for builder::Conv2DNoBias<I, O, K, S, P>
where
    D: Device<f32>,
{
    type Built = Conv2DNoBias<I, O, K, S, P, f32, D>;
}

/// A 2-D convolution layer without bias: `I` → `O` channels, kernel `K`×`K`, stride `S`,
/// zero padding `P`. Initialised like PyTorch's default: uniform in ±1/sqrt(I·K·K).
///
/// # Shapes
/// As [`super::modules::Conv2D`]; `weight`: (O, I, K, K).
#[derive(Debug, Clone)]
pub struct Conv2DNoBias<
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
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, D: Device<f32>>
    TensorCollection<f32, D> for Conv2DNoBias<I, O, K, S, P, f32, D>
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2DNoBias<I, O, K, S, P, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, f32, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            Self::tensor(
                "weight",
                |s| &s.weight,
                |s| &mut s.weight,
                TensorOptions::reset_with(|t| {
                    let b = default_init_bound(I * K * K);
                    t.try_fill_with_distr(Uniform::new(-b, b))
                }),
            ),
            |weight| Conv2DNoBias { weight },
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
    > NonMutableModule for Conv2DNoBias<I, O, K, S, P, E, D>
{
}

conv_forward!(Conv2DNoBias, |_| None);

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::nn::builders::Conv2D;

    /// Without bias, the layer is the biased one with a zero bias.
    #[test]
    fn equals_a_biased_convolution_with_zero_bias() {
        let dev = Cpu::default();
        let plain = dev.build_module::<builder::Conv2DNoBias<3, 5, 3, 2, 1>, f32>();
        let mut biased = dev.build_module::<Conv2D<3, 5, 3, 2, 1>, f32>();
        biased.weight = plain.weight.clone();
        biased.bias = dev.zeros();
        assert_eq!(plain.num_trainable_params(), 5 * 3 * 9);
        let x: Tensor<Rank4<2, 3, 7, 7>, f32, _> = dev.sample_normal();
        assert_eq!(plain.forward(x.clone()).as_vec(), biased.forward(x.clone()).as_vec());
        let y = plain.forward(dev.sample_normal::<Rank3<3, 7, 7>>());
        assert_eq!(y.shape().concrete(), [5, 4, 4]);
    }
}
