//! Stochastic gradient descent with PyTorch's semantics (`torch.optim.SGD`: momentum without
//! dampening, optional Nesterov, L2 weight decay added to the gradient), whose momentum
//! buffers are kept as a copy of the model so that checkpoints can save and restore them.
//! Without momentum (d2l's setting) each tensor takes one fused pass of dfdx's SGD kernel,
//! reading its gradient in place.

use dfdx::nn::tensor_collection::{TensorCollection, ViewTensorMut};
use dfdx::optim::{SgdConfig, WeightDecay};
use dfdx::prelude::*;

use crate::nn::visit::{each_tensor, EachTensor, InPlace};
pub use crate::run::SgdSettings;

/// SGD with `torch.optim.SGD`'s semantics (named apart from dfdx's `Sgd` in the prelude) over
/// a model `M`; with momentum, `velocity` is a model-shaped copy of the buffers.
#[derive(Clone, Debug)]
pub struct TorchSgd<M> {
    /// Hyper-parameters.
    pub settings: SgdSettings,
    /// Momentum buffers (same structure as the model); `None` before the first step or
    /// without momentum.
    pub velocity: Option<M>,
}

/// A step with momentum, PyTorch's way (the buffers are model-shaped tensors).
struct Step<'a, D: Device<f32>> {
    lr: f64,
    settings: SgdSettings,
    grads: &'a Gradients<f32, D>,
}

impl<'a, D: Device<f32>> Step<'a, D> {
    /// The update direction of one parameter (`g + wd·w`, through its momentum buffer).
    fn direction<S: Shape>(
        &self,
        w: &Tensor<S, f32, D>,
        v: &mut Tensor<S, f32, D>,
    ) -> Result<Tensor<S, f32, D>, D::Err> {
        let mut g = self.grads.get(w);
        if self.settings.weight_decay != 0.0 {
            g.try_axpy(1.0, w, self.settings.weight_decay)?;
        }
        v.try_axpy(self.settings.momentum, &g, 1.0)?;
        if self.settings.nesterov {
            g.try_axpy(1.0, v, self.settings.momentum)?;
            Ok(g)
        } else {
            Ok(v.clone())
        }
    }

    /// Moves a trainable parameter `w` by `-lr` times its direction; leaves the rest alone.
    fn apply<S: Shape>(
        &self,
        trainable: bool,
        w: &mut Tensor<S, f32, D>,
        velocity: &mut Tensor<S, f32, D>,
    ) -> Result<(), D::Err> {
        if trainable {
            let d = self.direction(w, velocity)?;
            w.try_axpy(1.0, &d, -self.lr)?;
        }
        Ok(())
    }
}

/// A step without momentum: `w -= lr · (g + wd·w)` in one pass of dfdx's kernel per tensor,
/// with PyTorch's rounding (`g + wd·w`, then `w - lr·g`).
struct PlainStep<'a, D: Device<f32>> {
    config: SgdConfig,
    grads: &'a mut Gradients<f32, D>,
    /// The kernel's velocity argument, which it reads and writes only with momentum: one
    /// buffer as long as the largest tensor so far, shared by all.
    unused_velocity: Option<(<D as Storage<f32>>::Vec, usize)>,
}

impl<'a, D: Device<f32>> EachTensor<D> for PlainStep<'a, D> {
    type Viewer = ViewTensorMut;
    type Err = D::Err;

    fn tensor<S: Shape>(&mut self, trainable: bool, w: &mut Tensor<S, f32, D>) -> Result<(), D::Err> {
        if !trainable {
            return Ok(());
        }
        let len: usize = w.shape().num_elements();
        let velocity = match &mut self.unused_velocity {
            Some((v, capacity)) if *capacity >= len => v,
            slot => &mut slot.insert((<D as Storage<f32>>::try_alloc_len(w.device(), len)?, len)).0,
        };
        let grad = self.grads.get_or_alloc_mut(w)?;
        self.config.try_update(w, velocity, grad)
    }
}

/// A [`Step`] over the model and its momentum buffers, walked in step.
struct MomentumStep<'a, D: Device<f32>>(Step<'a, D>);

impl<'a, D: Device<f32>> EachTensor<D> for MomentumStep<'a, D> {
    type Viewer = (ViewTensorMut, ViewTensorMut);
    type Err = D::Err;

    fn tensor<S: Shape>(
        &mut self,
        trainable: bool,
        (w, v): (&mut Tensor<S, f32, D>, &mut Tensor<S, f32, D>),
    ) -> Result<(), D::Err> {
        self.0.apply(trainable, w, v)
    }
}

struct Zero;

impl<D: Device<f32>> EachTensor<D> for Zero {
    type Viewer = ViewTensorMut;
    type Err = D::Err;

    fn tensor<S: Shape>(&mut self, _: bool, t: &mut Tensor<S, f32, D>) -> Result<(), D::Err> {
        t.try_fill_with_zeros()
    }
}

impl<M> TorchSgd<M> {
    /// An optimizer with no momentum buffers yet.
    pub fn new(settings: SgdSettings) -> Self {
        Self { settings, velocity: None }
    }

    /// One step at learning rate `lr`: every trainable tensor of `model` moves against its
    /// gradient in `grads` (a tensor without one, which `alloc_grads` + `backward` never
    /// leave, gets a zero gradient). The gradients are read in place, not changed.
    pub fn update<D: Device<f32>>(
        &mut self,
        model: &mut M,
        grads: &mut Gradients<f32, D>,
        lr: f64,
    ) -> Result<(), D::Err>
    where
        M: TensorCollection<f32, D> + Clone,
    {
        if self.settings.momentum == 0.0 {
            let weight_decay =
                (self.settings.weight_decay != 0.0).then_some(WeightDecay::L2(self.settings.weight_decay));
            let config = SgdConfig { lr, momentum: None, weight_decay };
            let mut step = PlainStep { config, grads, unused_velocity: None };
            return each_tensor::<M, D, _>(model, &mut InPlace(&mut step));
        }
        let step = Step { lr, settings: self.settings, grads };
        let velocity = match &mut self.velocity {
            Some(v) => v,
            none => {
                let mut v = model.clone();
                each_tensor::<M, D, _>(&mut v, &mut InPlace(&mut Zero))?;
                none.insert(v)
            }
        };
        each_tensor::<M, D, _>((model, velocity), &mut InPlace(&mut MomentumStep(step)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfdx::nn::builders::Linear;

    /// PyTorch's SGD written out by hand for one weight.
    fn reference(w0: f32, grads: &[f32], s: SgdSettings, lr: f32) -> f32 {
        let (mut w, mut v) = (w0, 0.0f32);
        for (i, &g) in grads.iter().enumerate() {
            let mut g = g + s.weight_decay as f32 * w;
            if s.momentum != 0.0 {
                v = if i == 0 { g } else { s.momentum as f32 * v + g };
                g = if s.nesterov { g + s.momentum as f32 * v } else { v };
            }
            w -= lr * g;
        }
        w
    }

    #[test]
    fn matches_pytorch_sgd_with_and_without_momentum() {
        let dev = Cpu::default();
        for settings in [
            SgdSettings { momentum: 0.0, nesterov: false, weight_decay: 0.0 },
            SgdSettings { momentum: 0.0, nesterov: false, weight_decay: 1e-2 },
            SgdSettings { momentum: 0.9, nesterov: false, weight_decay: 5e-4 },
            SgdSettings { momentum: 0.9, nesterov: true, weight_decay: 1e-2 },
        ] {
            let mut model = dev.build_module::<Linear<1, 1>, f32>();
            let w0 = model.weight.array()[0][0];
            let mut sgd = TorchSgd::new(settings);
            let mut seen = Vec::new();
            for x in [1.0f32, -2.0, 0.5] {
                let mut grads = model.forward(dev.tensor([x]).leaky_trace()).sum().backward();
                seen.push(grads.get(&model.weight).array()[0][0]);
                sgd.update(&mut model, &mut grads, 0.1).unwrap();
            }
            let expected = reference(w0, &seen, settings, 0.1);
            assert!((model.weight.array()[0][0] - expected).abs() < 1e-6, "{settings:?}");
            assert_eq!(sgd.velocity.is_some(), settings.momentum > 0.0);
        }
    }
}
