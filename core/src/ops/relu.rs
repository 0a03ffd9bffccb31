//! `max(x, 0)` as a differentiable op: dfdx's ReLU runs forward and backward on one thread
//! (a sixth of a ResNet-18 training step on the CPU at 96×96); the `Cpu` kernel runs both
//! in parallel and keeps one bit per element for the backward pass instead of the input.

use dfdx::prelude::*;

/// A device that can apply ReLU, forward and backward, with dfdx's semantics (the gradient
/// passes where `x > 0`; NaN becomes 0).
///
/// `Cpu` overrides it (std); any other device gets dfdx's own ReLU from an empty `impl`.
pub trait ReluKernel: Device<f32> {
    /// `max(x, 0)`, recording the backward pass on `x`'s tape.
    ///
    /// # Shapes
    /// `x` and the result: `S`.
    fn try_relu_op<S: Shape, T: Tape<f32, Self>>(
        x: Tensor<S, f32, Self, T>,
    ) -> Result<Tensor<S, f32, Self, T>, Self::Err> {
        x.try_relu()
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::ops::test_support::*;

    /// `loss = sum(relu(x·a) · w)`, with some of `x·a` exactly 0, through one path: the
    /// values and the gradients of `a` and `x`.
    fn run(fast: bool, dims: [usize; 4]) -> [Vec<f32>; 3] {
        let dev = Cpu::default();
        let n = dims.iter().product();
        let mut xs = uniform(n, 1);
        for v in xs.iter_mut().step_by(7) {
            *v = 0.0;
        }
        let (a, x, w) =
            (tensor4(&dev, uniform(n, 2), dims), tensor4(&dev, xs, dims), tensor4(&dev, uniform(n, 3), dims));
        let z = x.leaky_trace() * a.clone();
        let y = if fast { Cpu::try_relu_op(z) } else { z.try_relu() }.unwrap();
        let values = y.as_vec();
        let grads = (y * w).sum().backward();
        [values, grads.get(&a).as_vec(), grads.get(&x).as_vec()]
    }

    #[test]
    fn the_cpu_kernel_matches_dfdx_relu_and_its_gradients() {
        // One element, a tensor shorter than a mask word, and one of several parallel chunks
        // with a partial last word.
        for dims in [[1, 1, 1, 1], [2, 3, 2, 3], [3, 5, 61, 59]] {
            let (fast, generic) = (run(true, dims), run(false, dims));
            for (what, (got, want)) in ["values", "∂a", "∂x"].iter().zip(fast.iter().zip(&generic)) {
                assert_close(got, want, 0.0, what);
            }
        }
    }

    #[test]
    fn the_gradient_stops_at_zero_and_below_and_nan_becomes_zero() {
        let dev = Cpu::default();
        let x = dev.tensor_from_vec(alloc::vec![-1.0, 0.0, 2.0, f32::NAN], (4usize,));
        let y = Cpu::try_relu_op(x.leaky_trace()).unwrap();
        assert_eq!(y.as_vec(), [0.0, 0.0, 2.0, 0.0]);
        let grads = (y * 3.0).sum().backward();
        assert_eq!(grads.get(&x).as_vec(), [0.0, 0.0, 3.0, 0.0]);
    }
}
