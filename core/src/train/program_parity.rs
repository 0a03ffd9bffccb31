//! The compiled training program against dfdx's tape, the oracle: one SGD step of every
//! catalog model on a small batch gives the same loss, gradients, updated weights, running
//! statistics and momentum (relative 1e-4, or for a model with a ReLU or max-pool within
//! f32 rounding of its kink, what its own [`sensitivity`] allows). (Later steps drift apart
//! as any two orders of summation do: a max-pool or ReLU that a 1e-5 change tips routes a
//! gradient elsewhere.)

use dfdx::nn::tensor_collection::{ViewTensorName, ViewTensorRef};
use dfdx::prelude::*;

use super::loss::{cross_entropy, one_hot};
use super::{SgdSettings, TorchSgd, Trainable, CLASSES, IN_CHANNELS};
use crate::checkpoint::{named_tensors, NamedTensor};
use crate::models::{with_model, ModelName};
use crate::nn::init::xavier_uniform;
use crate::nn::visit::{each_tensor, EachTensor, InPlace};
use crate::program::{Lower, TrainProgram};

/// A learning rate that keeps the second step near the first (batch norm over 4 images).
const LR: f64 = 0.005;

/// Every trainable tensor's gradient, by name.
struct Grads<'a>(&'a Gradients<f32, Cpu>, Vec<NamedTensor>);

impl EachTensor<Cpu> for Grads<'_> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = CpuError;

    fn tensor<S: Shape>(
        &mut self,
        trainable: bool,
        (t, name): (&Tensor<S, f32, Cpu>, String),
    ) -> Result<(), CpuError> {
        if trainable {
            let data = self.0.get(t).as_vec();
            self.1.push(NamedTensor { name, shape: t.shape().concrete().into(), data });
        }
        Ok(())
    }
}

fn norm(v: &[f32]) -> f64 {
    v.iter().map(|y| f64::from(*y).powi(2)).sum::<f64>().sqrt()
}

/// `‖a − b‖ / (‖b‖ + floor)` over the tensors `b` names (each must be in `a`), the worst
/// with its name. The floor is for gradients that vanish in exact arithmetic (a
/// convolution's bias before a batch norm), which both sides round to noise.
fn worst(a: &[NamedTensor], b: &[NamedTensor], floor: f64) -> (f64, String) {
    let mut out = (0.0, String::new());
    for t in b {
        let u = a.iter().find(|u| u.name == t.name).unwrap_or_else(|| panic!("{} missing", t.name));
        let diff: f64 = u.data.iter().zip(&t.data).map(|(x, y)| f64::from(x - y).powi(2)).sum::<f64>().sqrt();
        let rel = diff / (norm(&t.data) + floor);
        if rel > out.0 {
            out = (rel, t.name.clone());
        }
    }
    out
}

/// How far the program's own gradients move when every weight moves by at most 1e-6 of
/// itself, less than the rounding of a sum in f32, in each of four patterns: deep networks
/// at this size (ResNet-50 and deeper, the plain and pre-activation ones) have ReLUs and
/// max-pools so close to their kinks that this moves gradients by 1e-3 to 1e-1 (measured),
/// and no two f32 implementations can agree closer than that; a shallower one may have a
/// single ReLU within rounding of zero (ResNet-34 here: one of 16 384 inputs of a gate at
/// 2e-6, whose flip moves the stages below by 1e-2). Those without stay below 1e-4.
/// Returns the largest relative change of the loss `loss` and of the gradients.
fn sensitivity<M: Lower>(
    program: &TrainProgram,
    images: &[f32],
    labels: &[usize],
    side: usize,
    loss: f64,
    floor: f64,
) -> (f64, f64) {
    let mut moved = TrainProgram::compile::<M>([IN_CHANNELS, side, side]).unwrap();
    let mut most = (0.0f64, 0.0f64);
    for (prime, modulus, sign) in
        [(7919, 13, 1.0), (7919, 13, -1.0), (104_729, 17, 1.0), (15_485_863, 11, -1.0)]
    {
        let mut w = program.tensors();
        for t in &mut w {
            for (i, v) in t.data.iter_mut().enumerate() {
                let half = (modulus / 2) as f32;
                *v *= 1.0 + sign * 1e-6 * ((i * prime % modulus) as f32 - half) / half;
            }
        }
        moved.load(&w, "moved").unwrap();
        let moved_loss = moved.forward_backward(images, labels).unwrap();
        most.0 = most.0.max((moved_loss - loss).abs() / loss.abs().max(1.0));
        most.1 = most.1.max(worst(&moved.gradients(), &program.gradients(), floor).0);
    }
    most
}

/// One step of model `M` through the tape and through the program, compared: to relative
/// 1e-4 when `strict`, else to what [`sensitivity`] allows.
fn agree<M: Trainable<Cpu> + Lower>(name: &str, side: usize, batch: usize, strict: bool) {
    let dev = Cpu::seed_from_u64(7);
    let mut model = M::try_build_on_device(&dev).unwrap();
    xavier_uniform(&mut model).unwrap();
    let mut program = TrainProgram::compile::<M>([IN_CHANNELS, side, side]).unwrap();
    program.load(&named_tensors(&model).unwrap(), "model").unwrap();
    let settings = SgdSettings { momentum: 0.9, nesterov: false, weight_decay: 1e-3 };
    let mut sgd = TorchSgd::new(settings);
    for step in 0..1 {
        let x: Tensor<(usize, Const<IN_CHANNELS>, usize, usize), f32, Cpu> =
            dev.sample_uniform_like(&(batch, Const, side, side));
        let labels: Vec<usize> = (0..batch).map(|i| (i * 3 + step) % CLASSES).collect();
        let images = x.as_vec();
        let grads = model.alloc_grads();
        let logits = model.forward_mut(x.traced(grads));
        let loss = cross_entropy(logits, one_hot::<CLASSES, Cpu>(&dev, &labels).unwrap()).unwrap();
        let tape_loss = f64::from(loss.retaped::<NoneTape>().as_vec()[0]);
        let mut grads = loss.backward();
        let mut collect = Grads(&grads, Vec::new());
        each_tensor::<M::Model, Cpu, _>((&model, String::new()), &mut InPlace(&mut collect)).unwrap();
        let tape_grads = collect.1;
        sgd.update(&mut model, &mut grads, LR).unwrap();

        let ours = program.forward_backward(&images, &labels).unwrap();
        // Relative 1e-4 (or 1e-6 of the largest gradient for those that vanish), unless the
        // model itself is more sensitive than that.
        let largest = tape_grads.iter().map(|t| norm(&t.data)).fold(0.0, f64::max);
        let grads = program.gradients();
        let (loss_moves, grads_move) = if strict {
            (0.0, 0.0)
        } else {
            sensitivity::<M>(&program, &images, &labels, side, ours, 1e-2 * largest)
        };
        let loss_bound = 1e-4f64.max(3.0 * loss_moves);
        let rel = (ours - tape_loss).abs() / tape_loss.abs().max(1.0);
        assert!(rel <= loss_bound, "{name} step {step}: loss {ours} vs {tape_loss}");
        let (g, at) = worst(&grads, &tape_grads, 1e-2 * largest);
        let bound = 1e-4f64.max(3.0 * grads_move);
        assert!(g <= bound, "{name} step {step}: gradient of {at} off by {g:e} (bound {bound:e})");
        program.update(LR, &settings);
        let (w, at) = worst(&program.tensors(), &named_tensors(&model).unwrap(), 0.0);
        assert!(w <= bound, "{name} step {step}: {at} off by {w:e} after the update");
        let velocity = named_tensors(sgd.velocity.as_ref().unwrap()).unwrap();
        let trained: Vec<NamedTensor> =
            velocity.into_iter().filter(|t| tape_grads.iter().any(|g| g.name == t.name)).collect();
        let (v, at) = worst(&program.velocity().unwrap(), &trained, 1e-2 * largest);
        assert!(v <= bound, "{name} step {step}: momentum of {at} off by {v:e}");
    }
}

#[test]
fn one_step_of_every_catalog_model_agrees_with_the_tape() {
    for &name in ModelName::ALL {
        let r: Result<(), crate::Error> = with_model!(name, M => {
            agree::<M<IN_CHANNELS, CLASSES>>(&name.to_string(), 64, 4, false);
            Ok(())
        });
        r.unwrap();
    }
}

/// A downstream model of the crate's layers, with every kind of block the catalog's deep
/// models use (bottleneck with its 1×1 convolutions, pre-activation), shallow enough for
/// the strict bound.
type Downstream = (
    (
        crate::nn::builders::Conv2D<1, 8, 3, 1, 1>,
        crate::nn::builders::BatchNorm2D<8>,
        crate::nn::builders::ReLU,
    ),
    crate::blocks::ResidualBottleneck<8, 4, 16, 2, crate::blocks::Conv1x1>,
    crate::blocks::PreActResidual<16, 16>,
    crate::blocks::Bottleneck<16, 8, 16>,
    crate::models::PreActHead<16, CLASSES>,
);

#[test]
fn a_downstream_model_agrees_with_the_tape_to_1e_4() {
    agree::<Downstream>("downstream", 16, 6, true);
}

/// A downstream model wide enough for the direct convolution (64 output channels and more):
/// forward, weight gradient and stride-1 input gradient direct, the stride-2 input
/// gradients through im2row, held to the strict bound.
type Wide = (
    (
        crate::nn::builders::Conv2D<1, 16, 3, 1, 1>,
        crate::nn::builders::BatchNorm2D<16>,
        crate::nn::builders::ReLU,
    ),
    crate::blocks::Residual<16, 64, 2, crate::blocks::Conv1x1>,
    crate::blocks::Residual<64, 64>,
    crate::blocks::BasicBlock<64, 128, 2, crate::blocks::Projection>,
    crate::models::Head<128, CLASSES>,
);

#[test]
fn a_model_on_the_direct_convolution_agrees_with_the_tape_to_1e_4() {
    agree::<Wide>("wide", 12, 5, true);
}
