//! The residual join `f + r` of two branches of the same shape, as a differentiable op:
//! dfdx's add walks an index iterator per element in its backward pass (a twentieth of a
//! ResNet-18 training step on the CPU); the `Cpu` kernel adds the gradient to both branches
//! in parallel.

use dfdx::prelude::*;

/// A device that can add two branches of the same shape, forward and backward.
///
/// `Cpu` overrides it (std); any other device gets dfdx's own add from an empty `impl`.
pub trait JoinKernel: Device<f32> {
    /// `f + r`, recording the backward pass on the merged tapes.
    ///
    /// # Shapes
    /// `f`, `r` and the result: `S`.
    fn try_join<S: Shape, T: Tape<f32, Self>>(
        f: Tensor<S, f32, Self, T>,
        r: Tensor<S, f32, Self, T>,
    ) -> Result<Tensor<S, f32, Self, T>, Self::Err> {
        f.try_add(r)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use alloc::vec::Vec;

    use super::*;
    use crate::ops::test_support::*;

    /// `loss = sum((f·a + r·b + x·c) · w)` through one path, with `x` both branches' source
    /// and one of them: returns the join and the gradients of `a`, `b` and `x`.
    fn run(fast: bool) -> [Vec<f32>; 4] {
        let dev = Cpu::default();
        let dims = [3, 4, 5, 2];
        let n = 120;
        let (a, b, x, w) = (
            tensor4(&dev, uniform(n, 1), dims),
            tensor4(&dev, uniform(n, 2), dims),
            tensor4(&dev, uniform(n, 3), dims),
            tensor4(&dev, uniform(n, 4), dims),
        );
        let xt = x.leaky_trace();
        let f = xt.with_empty_tape() * a.clone();
        let r = xt * b.clone();
        let y = if fast { Cpu::try_join(f, r) } else { f.try_add(r) }.unwrap();
        let values = y.as_vec();
        let grads = (y * w).sum().backward();
        [values, grads.get(&a).as_vec(), grads.get(&b).as_vec(), grads.get(&x).as_vec()]
    }

    #[test]
    fn the_cpu_kernel_matches_dfdx_add_and_its_gradients() {
        let (fast, generic) = (run(true), run(false));
        for (what, (got, want)) in ["values", "∂a", "∂b", "∂x"].iter().zip(fast.iter().zip(&generic)) {
            assert_close(got, want, 1e-6, what);
        }
    }

    #[test]
    fn a_tensor_joined_with_itself_gets_twice_the_gradient() {
        let dev = Cpu::default();
        let x = tensor4(&dev, uniform(24, 7), [2, 3, 2, 2]);
        let xt = x.leaky_trace();
        let y = Cpu::try_join(xt.with_empty_tape(), xt).unwrap();
        assert_close(&y.as_vec(), &x.as_vec().iter().map(|v| 2.0 * v).collect::<Vec<_>>(), 1e-7, "2x");
        let grads = y.sum().backward();
        assert_close(&grads.get(&x).as_vec(), &[2.0; 24], 0.0, "∂x");
    }
}
