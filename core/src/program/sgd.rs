//! SGD with PyTorch's semantics (`torch.optim.SGD`: L2 weight decay added to the gradient,
//! momentum without dampening, optional Nesterov) as one parallel pass over the program's
//! flat buffers, trainable tensors only. The same numbers as [`crate::train::TorchSgd`].

use alloc::vec;
use alloc::vec::Vec;

use rayon::prelude::*;

use super::graph::ParamSpec;
use crate::run::SgdSettings;

/// Elements of one parallel task.
const PART: usize = 1 << 15;

/// The trainable elements as (offset, length) pieces of at most [`PART`], for the tasks.
pub(crate) fn pieces(specs: &[ParamSpec]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for s in specs.iter().filter(|s| s.trainable) {
        let mut at = 0;
        while at < s.len {
            let len = PART.min(s.len - at);
            out.push((s.offset + at, len));
            at += len;
        }
    }
    out
}

/// One step at learning rate `lr` over `pieces` of `w` with gradients `g`; `velocity` is
/// made (zeros, as PyTorch's first step) when momentum needs it.
pub(crate) fn step(
    pieces: &[(usize, usize)],
    w: &mut [f32],
    g: &[f32],
    velocity: &mut Option<Vec<f32>>,
    lr: f64,
    s: &SgdSettings,
) {
    let (lr, wd, m) = (lr as f32, s.weight_decay as f32, s.momentum as f32);
    if s.momentum == 0.0 {
        for_pieces(pieces, w, None, |w, _, at| {
            for (w, &g) in w.iter_mut().zip(&g[at..]) {
                let d = g + wd * *w;
                *w -= lr * d;
            }
        });
        return;
    }
    let v = velocity.get_or_insert_with(|| vec![0.0; w.len()]);
    for_pieces(pieces, w, Some(v), |w, v, at| {
        let v = v.unwrap_or_default();
        for ((w, v), &g) in w.iter_mut().zip(v.iter_mut()).zip(&g[at..]) {
            let d = g + wd * *w;
            *v = m * *v + d;
            let step = if s.nesterov { d + m * *v } else { *v };
            *w -= lr * step;
        }
    });
}

/// Runs `f(w piece, velocity piece, offset)` on every piece in parallel.
fn for_pieces<F>(pieces: &[(usize, usize)], w: &mut [f32], v: Option<&mut Vec<f32>>, f: F)
where
    F: Fn(&mut [f32], Option<&mut [f32]>, usize) + Sync,
{
    // Pieces are disjoint and ascending: split the buffers at their starts.
    let mut w_parts = Vec::with_capacity(pieces.len());
    let mut v_parts: Vec<Option<&mut [f32]>> = Vec::with_capacity(pieces.len());
    let (mut w_rest, mut v_rest, mut done) = (w, v.map(|v| v.as_mut_slice()), 0);
    for &(at, len) in pieces {
        let (_, tail) = w_rest.split_at_mut(at - done);
        let (piece, tail) = tail.split_at_mut(len);
        w_parts.push((piece, at));
        w_rest = tail;
        v_rest = v_rest.map(|v| {
            let (_, tail) = v.split_at_mut(at - done);
            let (piece, tail) = tail.split_at_mut(len);
            v_parts.push(Some(piece));
            tail
        });
        if v_rest.is_none() {
            v_parts.push(None);
        }
        done = at + len;
    }
    w_parts.into_par_iter().zip(v_parts).for_each(|((w, at), v)| f(w, v, at));
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn spec(offset: usize, len: usize, trainable: bool) -> ParamSpec {
        ParamSpec { name: String::new(), shape: vec![len], offset, len, trainable }
    }

    /// Two steps by PyTorch's formulas, element by element: `d = g + wd·w`,
    /// `v = m·v + d`, `w -= lr · (nesterov ? d + m·v : v)`; untrainable tensors stay.
    #[test]
    fn steps_follow_pytorchs_formulas_and_skip_untrainable_tensors() {
        let specs = [spec(0, 3, true), spec(3, 2, false), spec(5, 70_000, true)];
        let pieces = pieces(&specs);
        assert_eq!(pieces, [(0, 3), (5, PART), (5 + PART, PART), (5 + 2 * PART, 70_000 - 2 * PART)]);
        for nesterov in [false, true] {
            let s = SgdSettings { momentum: 0.9, nesterov, weight_decay: 0.01 };
            let w0: Vec<f32> = (0..70_005).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
            let g: Vec<f32> = (0..70_005).map(|i| (i % 5) as f32 * 0.2 - 0.4).collect();
            let (mut w, mut v) = (w0.clone(), None);
            step(&pieces, &mut w, &g, &mut v, 0.1, &s);
            step(&pieces, &mut w, &g, &mut v, 0.1, &s);
            for i in [0, 2, 4, 5, 40_000, 70_004] {
                let (mut wi, mut vi) = (w0[i], 0.0f32);
                if i != 3 && i != 4 {
                    for _ in 0..2 {
                        let d = g[i] + 0.01 * wi;
                        vi = 0.9 * vi + d;
                        wi -= 0.1 * if nesterov { d + 0.9 * vi } else { vi };
                    }
                }
                assert_eq!(w[i], wi, "element {i}, nesterov {nesterov}");
            }
        }
    }
}
