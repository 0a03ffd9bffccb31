//! `Join`: a residual block's two branches added, `f(x) + r(x)` — dfdx's
//! `GeneralizedResidual` with the add as this crate's [`JoinKernel`] op (fast on `Cpu`).

use dfdx::nn::modules::*;
use dfdx::prelude::*;

use crate::ops::JoinKernel;

/// `f(x) + r(x)`: the main path `f` and the shortcut `r` of a residual block, which must
/// produce the same shape (a stride or channel mismatch between them does not compile). Its
/// tensors are named `f.…` and `r.…`, as dfdx's `GeneralizedResidual` names them; it is its
/// own builder (`Join<F, R>` of builders builds `Join<F::Built, R::Built>`).
///
/// # Shapes
/// Input: whatever `f` and `r` take; output: their common output shape.
#[derive(Debug, Clone, Default)]
pub struct Join<F, R> {
    /// The main path.
    pub f: F,
    /// The shortcut.
    pub r: R,
}

impl<D: Device<E>, E: Dtype, F: BuildOnDevice<D, E>, R: BuildOnDevice<D, E>> BuildOnDevice<D, E>
    for Join<F, R>
{
    type Built = Join<F::Built, R::Built>;
}

impl<E: Dtype, D: Device<E>, F: TensorCollection<E, D>, R: TensorCollection<E, D>> TensorCollection<E, D>
    for Join<F, R>
{
    type To<E2: Dtype, D2: Device<E2>> = Join<F::To<E2, D2>, R::To<E2, D2>>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (Self::module("f", |s| &s.f, |s| &mut s.f), Self::module("r", |s| &s.r, |s| &mut s.r)),
            |(f, r)| Join { f, r },
        )
    }
}

/// Implements `$trait` (`Module` or `ModuleMut`) for [`Join`] with `$forward`: both branches
/// run on `x` (the main path on a tape-free copy), then [`JoinKernel::try_join`] adds them.
macro_rules! join_forward {
    ($trait:ident, $forward:ident $(, $mut:ident)?) => {
        impl<X, S, D, T, F, R> $trait<X> for Join<F, R>
        where
            X: WithEmptyTape,
            S: Shape,
            D: JoinKernel,
            T: Tape<f32, D>,
            F: $trait<X, Output = Tensor<S, f32, D, T>, Error = D::Err>,
            R: $trait<X, Output = Tensor<S, f32, D, T>, Error = D::Err>,
        {
            type Output = Tensor<S, f32, D, T>;
            type Error = D::Err;

            fn $forward(&$($mut)? self, x: X) -> Result<Self::Output, D::Err> {
                let f = self.f.$forward(x.with_empty_tape())?;
                D::try_join(f, self.r.$forward(x)?)
            }
        }
    };
}

join_forward!(Module, try_forward);
join_forward!(ModuleMut, try_forward_mut, mut);
