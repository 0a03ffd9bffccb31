//! Whether a [`super::modules::Conv2D`] has a bias, as a marker type: [`Biased`] (PyTorch's
//! default, the chapter's convolutions) or [`NoBias`] (`bias=False`, torchvision's
//! convolutions before every batch norm). candle's `Conv2d` holds `bias: Option<Tensor>`,
//! burn's config a `bias: bool`; here the choice is a type, so a bias-free layer has no
//! bias field at all.

use core::fmt::Debug;
use core::marker::PhantomData;

use dfdx::nn::tensor_collection::{ModuleFields, ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::prelude::*;

/// A convolution's bias: one learned offset per output channel, or none.
pub trait ConvBias: Debug + Clone + Copy + Default + PartialEq + Eq + 'static {
    /// The bias parameter of a layer with `O` output channels: a (O,) tensor, or `()`.
    type Param<const O: usize, E: Dtype, D: Storage<E>>: Debug + Clone;
    /// Whether the layer has a bias.
    const ENABLED: bool;

    /// The bias tensor the forward pass adds, if any.
    fn tensor<const O: usize, E: Dtype, D: Storage<E>>(
        param: &Self::Param<O, E, D>,
    ) -> Option<&Tensor<Rank1<O>, E, D>>;

    /// Visits the bias of module `M` as the tensor named `name` (nothing for [`NoBias`]).
    fn visit<M, V, F1, F2, const O: usize, D>(
        visitor: &mut V,
        name: &str,
        get_ref: F1,
        get_mut: F2,
        options: TensorOptions<Rank1<O>, f32, D>,
    ) -> Result<Option<Self::Param<O, V::E2, V::D2>>, V::Err>
    where
        D: Device<f32>,
        M: TensorCollection<f32, D>,
        V: ModuleVisitor<M, f32, D>,
        F1: FnMut(&M) -> &Self::Param<O, f32, D>,
        F2: FnMut(&mut M) -> &mut Self::Param<O, f32, D>;
}

/// A convolution with a bias (PyTorch's `nn.Conv2d(..., bias=True)`, the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Biased;

/// A convolution without a bias (PyTorch's `nn.Conv2d(..., bias=False)`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoBias;

impl ConvBias for Biased {
    type Param<const O: usize, E: Dtype, D: Storage<E>> = Tensor<Rank1<O>, E, D>;
    const ENABLED: bool = true;

    fn tensor<const O: usize, E: Dtype, D: Storage<E>>(
        param: &Tensor<Rank1<O>, E, D>,
    ) -> Option<&Tensor<Rank1<O>, E, D>> {
        Some(param)
    }

    fn visit<M, V, F1, F2, const O: usize, D>(
        visitor: &mut V,
        name: &str,
        get_ref: F1,
        get_mut: F2,
        options: TensorOptions<Rank1<O>, f32, D>,
    ) -> Result<Option<Tensor<Rank1<O>, V::E2, V::D2>>, V::Err>
    where
        D: Device<f32>,
        M: TensorCollection<f32, D>,
        V: ModuleVisitor<M, f32, D>,
        F1: FnMut(&M) -> &Tensor<Rank1<O>, f32, D>,
        F2: FnMut(&mut M) -> &mut Tensor<Rank1<O>, f32, D>,
    {
        visitor.visit_tensor(name, get_ref, get_mut, options)
    }
}

impl ConvBias for NoBias {
    type Param<const O: usize, E: Dtype, D: Storage<E>> = ();
    const ENABLED: bool = false;

    fn tensor<const O: usize, E: Dtype, D: Storage<E>>(_: &()) -> Option<&Tensor<Rank1<O>, E, D>> {
        None
    }

    fn visit<M, V, F1, F2, const O: usize, D>(
        _visitor: &mut V,
        _name: &str,
        _get_ref: F1,
        _get_mut: F2,
        _options: TensorOptions<Rank1<O>, f32, D>,
    ) -> Result<Option<()>, V::Err>
    where
        D: Device<f32>,
        M: TensorCollection<f32, D>,
        V: ModuleVisitor<M, f32, D>,
        F1: FnMut(&M) -> &(),
        F2: FnMut(&mut M) -> &mut (),
    {
        Ok(Some(()))
    }
}

/// The bias of module `M` as one of the fields a `TensorCollection` visits (dfdx's
/// `TensorField` for [`Biased`], nothing for [`NoBias`]).
pub(crate) struct BiasField<'a, B, M, F1, F2, const O: usize, D: Device<f32>> {
    name: &'a str,
    get_ref: F1,
    get_mut: F2,
    options: TensorOptions<Rank1<O>, f32, D>,
    marker: PhantomData<(B, M)>,
}

impl<'a, B, M, F1, F2, const O: usize, D> BiasField<'a, B, M, F1, F2, O, D>
where
    B: ConvBias,
    D: Device<f32>,
    F1: FnMut(&M) -> &B::Param<O, f32, D>,
    F2: FnMut(&mut M) -> &mut B::Param<O, f32, D>,
{
    /// The bias of `M` named `name`, reached by `get_ref` and `get_mut`, reset by `options`.
    pub(crate) fn new(
        name: &'a str,
        get_ref: F1,
        get_mut: F2,
        options: TensorOptions<Rank1<O>, f32, D>,
    ) -> Self {
        Self { name, get_ref, get_mut, options, marker: PhantomData }
    }
}

impl<B, M, F1, F2, const O: usize, D> ModuleFields<M, f32, D> for BiasField<'_, B, M, F1, F2, O, D>
where
    B: ConvBias,
    D: Device<f32>,
    M: TensorCollection<f32, D>,
    F1: FnMut(&M) -> &B::Param<O, f32, D>,
    F2: FnMut(&mut M) -> &mut B::Param<O, f32, D>,
{
    type Options<E2: Dtype, D2: Device<E2>> = Option<B::Param<O, E2, D2>>;
    type Output<E2: Dtype, D2: Device<E2>> = B::Param<O, E2, D2>;

    fn visit_fields<V: ModuleVisitor<M, f32, D>>(
        self,
        visitor: &mut V,
    ) -> Result<Option<B::Param<O, V::E2, V::D2>>, V::Err> {
        B::visit(visitor, self.name, self.get_ref, self.get_mut, self.options)
    }

    fn handle_options<E2: Dtype, D2: Device<E2>>(
        options: Option<B::Param<O, E2, D2>>,
    ) -> Option<B::Param<O, E2, D2>> {
        options
    }
}
