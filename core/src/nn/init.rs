//! Weight initialisation as d2l's `train_ch6` does it: `nn.init.xavier_uniform_` on every
//! convolution and linear weight; biases keep PyTorch's default (uniform ±1/sqrt(fan_in)),
//! batch norm keeps weight 1, bias 0 and running statistics 0/1.

use dfdx::nn::tensor_collection::{TensorCollection, ViewTensorMut};
use dfdx::prelude::*;
use rand_distr::Uniform;

use super::visit::{each_tensor, EachTensor, InPlace};

/// PyTorch's `_calculate_fan_in_and_fan_out` for a weight of shape (out, in, k...):
/// `(in · receptive field, out · receptive field)`; `None` below rank 2 (not a weight).
pub fn fans(shape: &[usize]) -> Option<(usize, usize)> {
    match shape {
        [out, inp, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            Some((inp * receptive, out * receptive))
        }
        _ => None,
    }
}

/// Xavier (Glorot) uniform bound: `sqrt(6 / (fan_in + fan_out))`.
pub fn xavier_bound(fan_in: usize, fan_out: usize) -> f32 {
    libm::sqrtf(6.0 / (fan_in + fan_out).max(1) as f32)
}

struct Xavier;

impl<D: Device<f32>> EachTensor<D> for Xavier {
    type Viewer = ViewTensorMut;
    type Err = D::Err;

    fn tensor<S: Shape>(&mut self, trainable: bool, t: &mut Tensor<S, f32, D>) -> Result<(), D::Err> {
        // Trainable tensors of rank >= 2 are conv and linear weights (BN's are rank 1).
        if let (true, Some((fan_in, fan_out))) = (trainable, fans(t.shape().concrete().as_ref())) {
            let b = xavier_bound(fan_in, fan_out);
            t.try_fill_with_distr(Uniform::new(-b, b))?;
        }
        Ok(())
    }
}

/// Re-initialises every convolution and linear weight of `model` with Xavier-uniform
/// values from the device's random generator (seed it with `Cpu::seed_from_u64`).
pub fn xavier_uniform<M: TensorCollection<f32, D>, D: Device<f32>>(model: &mut M) -> Result<(), D::Err> {
    each_tensor::<M, D, _>(model, &mut InPlace(&mut Xavier))
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn fans_follow_pytorch() {
        assert_eq!(fans(&[64, 1, 7, 7]), Some((49, 64 * 49)));
        assert_eq!(fans(&[10, 512]), Some((512, 10)));
        assert_eq!(fans(&[64]), None);
    }

    #[test]
    fn conv_and_linear_weights_get_xavier_bounds_and_the_rest_is_untouched() {
        let dev = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
        let before = model.clone();
        xavier_uniform(&mut model).unwrap();
        let stem = model.0 .0.weight.as_vec();
        let b = xavier_bound(49, 64 * 49);
        assert!(stem.iter().all(|w| w.abs() <= b));
        // A Xavier sample spreads over its bound (PyTorch's default bound here is 1/7).
        assert!(stem.iter().any(|w| w.abs() > 0.9 * b) && b < 1.0 / 7.0);
        let fc = model.5.fc.weight.as_vec();
        assert!(fc.iter().all(|w| w.abs() <= xavier_bound(512, 10)) && fc.iter().any(|w| w.abs() > 0.09));
        assert_eq!(model.0 .0.bias.as_vec(), before.0 .0.bias.as_vec());
        assert_eq!(model.0 .1.scale.as_vec(), vec![1.0; 64]);
        assert_eq!(model.5.fc.bias.as_vec(), before.5.fc.bias.as_vec());
    }
}
