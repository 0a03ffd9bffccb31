//! One walk over a model's tensors for the crate's in-place visitors (initialisation, SGD,
//! checkpoints): dfdx's `TensorVisitor` also asks for an output dtype and device and an
//! `Option` of a new tensor, which a walk that only reads or writes in place never uses.
//! A viewer such as `(ViewTensorMut, ViewTensorMut)` walks two models of one type in step.

use dfdx::nn::tensor_collection::{
    RecursiveWalker, TensorCollection, TensorOptions, TensorViewer, TensorVisitor,
};
use dfdx::prelude::*;

/// How a [`TensorViewer`] `V` shows one tensor of shape `S` (`&mut Tensor`, a name, a pair).
pub(crate) type View<'a, V, S, D> = <V as TensorViewer>::View<'a, Tensor<S, f32, D>>;

/// What to do with each tensor of a model, in the model's order; run it with [`each_tensor`]
/// through an [`InPlace`].
pub(crate) trait EachTensor<D: Device<f32>> {
    /// How the walk shows each tensor, e.g. `ViewTensorMut` or `(ViewTensorRef, ViewTensorName)`.
    type Viewer: TensorViewer;
    /// The error that stops the walk.
    type Err;

    /// Visits one tensor; `trainable` says whether an optimiser updates it.
    fn tensor<S: Shape>(&mut self, trainable: bool, t: View<'_, Self::Viewer, S, D>)
        -> Result<(), Self::Err>;
}

/// Adapts an [`EachTensor`] to dfdx's visitor, which builds no new model here. The caller
/// makes it (`&mut InPlace(&mut visitor)`), so that it lives as long as the models' view.
pub(crate) struct InPlace<'v, V>(pub &'v mut V);

impl<D: Device<f32>, V: EachTensor<D>> TensorVisitor<f32, D> for InPlace<'_, V> {
    type Viewer = V::Viewer;
    type Err = V::Err;
    type E2 = f32;
    type D2 = D;

    fn visit<S: Shape>(
        &mut self,
        opts: TensorOptions<S, f32, D>,
        t: View<'_, V::Viewer, S, D>,
    ) -> Result<Option<Tensor<S, f32, D>>, V::Err> {
        self.0.tensor(opts.do_gradient_update, t)?;
        Ok(None)
    }
}

/// Runs `visitor` on every tensor (trainable or not) of the model(s) in `models`, a view of
/// model type `M`: `&mut model`, `(&model, String::new())` for names, `(&mut a, &mut b)`.
pub(crate) fn each_tensor<'a, M: TensorCollection<f32, D>, D: Device<f32>, V: EachTensor<D>>(
    models: <V::Viewer as TensorViewer>::View<'a, M>,
    visitor: &'a mut InPlace<'_, V>,
) -> Result<(), V::Err> {
    M::iter_tensors(&mut RecursiveWalker { m: models, f: visitor })?;
    Ok(())
}
