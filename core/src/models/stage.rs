//! A ResNet stage: one special first block, then `N - 1` identical blocks; d2l's
//! `resnet_block` (and torchvision's `layerK`); the stages by block kind are in `stage_kinds`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::marker::PhantomData;

use dfdx::prelude::*;

/// A stage of `N` blocks: `First`, then `N - 1` copies of `Rest` (all builders). `N ≥ 1`.
///
/// # Shapes
/// Those of `First`; `Rest` must map `First`'s output shape to itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stage<First, Rest, const N: usize>(PhantomData<(First, Rest)>);

impl<First, Rest, D, const N: usize> BuildOnDevice<D, f32> for Stage<First, Rest, N>
where
    D: Device<f32>,
    First: BuildOnDevice<D, f32>,
    Rest: BuildOnDevice<D, f32>,
{
    type Built = StageModule<First::Built, Rest::Built, N>;
}

/// A built [`Stage`]: parameters are named `0.*` (the first block) to `{N-1}.*`, as in a
/// PyTorch `nn.Sequential`.
#[derive(Debug, Clone)]
pub struct StageModule<First, Rest, const N: usize> {
    /// The first block (the one that may change channels and stride).
    pub first: First,
    /// The `N - 1` blocks after it.
    pub rest: Vec<Rest>,
}

impl<First, Rest, const N: usize> StageModule<First, Rest, N> {
    /// Evaluated (at compile time) by every forward: a stage has at least one block.
    const NOT_EMPTY: () = assert!(N >= 1, "a Stage needs N >= 1 blocks");
}

impl<First, Rest, E, D, const N: usize> TensorCollection<E, D> for StageModule<First, Rest, N>
where
    E: Dtype,
    D: Device<E>,
    First: TensorCollection<E, D>,
    Rest: TensorCollection<E, D>,
{
    type To<E2: Dtype, D2: Device<E2>> = StageModule<First::To<E2, D2>, Rest::To<E2, D2>, N>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        let names: Vec<String> = (1..N).map(|i| format!("{i}")).collect();
        let rest = names
            .iter()
            .enumerate()
            .map(|(i, name)| Self::module(name, move |s| &s.rest[i], move |s| &mut s.rest[i]))
            .collect::<Vec<_>>();
        visitor.visit_fields((Self::module("0", |s| &s.first, |s| &mut s.first), rest), |(first, rest)| {
            StageModule { first, rest }
        })
    }
}

/// Implements `$trait` (`Module` or `ModuleMut`) for [`StageModule`] with `$forward`: the
/// first block, then each of the rest in turn.
macro_rules! stage_forward {
    ($trait:ident, $forward:ident $(, $mut:ident)?) => {
        impl<X, First, Rest, const N: usize> $trait<X> for StageModule<First, Rest, N>
        where
            First: $trait<X>,
            Rest: $trait<First::Output, Output = First::Output, Error = First::Error>,
        {
            type Output = First::Output;
            type Error = First::Error;

            fn $forward(&$($mut)? self, x: X) -> Result<Self::Output, Self::Error> {
                let () = Self::NOT_EMPTY;
                let mut y = self.first.$forward(x)?;
                for block in &$($mut)? self.rest {
                    y = block.$forward(y)?;
                }
                Ok(y)
            }
        }
    };
}

stage_forward!(Module, try_forward);
stage_forward!(ModuleMut, try_forward_mut, mut);
