//! The residual join on [`Cpu`]: dfdx's add forward, and a backward pass that adds the
//! output gradient to both branches' gradients in parallel.

use dfdx::prelude::*;

use super::{accumulate, restore, take};
use crate::ops::JoinKernel;

impl JoinKernel for Cpu {
    fn try_join<S: Shape, T: Tape<f32, Self>>(
        f: Tensor<S, f32, Self, T>,
        r: Tensor<S, f32, Self, T>,
    ) -> Result<Tensor<S, f32, Self, T>, Self::Err> {
        // Contiguous (a no-op when they are), so that each gradient is in the output's order.
        let shape = *f.shape();
        let (f, f_tape) = f.try_reshape_like(&shape)?.split_tape();
        let (r, r_tape) = r.try_reshape_like(&shape)?.split_tape();
        let mut tape = f_tape.merge(r_tape);
        let y = f.clone().try_add(r.clone())?;
        if T::OWNS_TAPE {
            let (f_ghost, r_ghost, y_ghost) = (f.ghost(), r.ghost(), y.ghost());
            tape.add_backward_op(move |grads| {
                let gy = take(grads.get_or_alloc_mut(&y_ghost)?);
                accumulate(grads.get_or_alloc_mut(&f_ghost)?, &[&gy]);
                accumulate(grads.get_or_alloc_mut(&r_ghost)?, &[&gy]);
                restore(grads.get_or_alloc_mut(&y_ghost)?, gy);
                Ok(())
            });
        }
        Ok(y.put_tape(tape))
    }
}
