//! Mean cross-entropy on logits (PyTorch's `F.cross_entropy`), without panics.

use dfdx::prelude::*;

/// `mean_n( -sum_c targets[n, c] · log_softmax(logits)[n, c] )`.
///
/// # Shapes
/// `logits`, `targets`: (N, C); returns a scalar.
pub fn cross_entropy<B: Dim, const C: usize, D: Device<f32>, T: Tape<f32, D>>(
    logits: Tensor<(B, Const<C>), f32, D, T>,
    targets: Tensor<(B, Const<C>), f32, D>,
) -> Result<Tensor<Rank0, f32, D, T>, D::Err> {
    logits.try_log_softmax::<Axis<1>>()?.try_mul(targets)?.try_mean()?.try_negate()?.try_mul(C as f32)
}

/// One-hot rows for `labels`.
///
/// # Shapes
/// Returns (N, C).
pub fn one_hot<const C: usize, D: Device<f32>>(
    dev: &D,
    labels: &[usize],
) -> Result<Tensor<(usize, Const<C>), f32, D>, D::Err> {
    let mut data = vec![0.0f32; labels.len() * C];
    for (row, &l) in labels.iter().enumerate() {
        if l < C {
            data[row * C + l] = 1.0;
        }
    }
    dev.try_tensor_from_vec(data, (labels.len(), Const))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_dfdx_and_the_formula() {
        let dev = Cpu::default();
        let logits: Tensor<(usize, Const<3>), f32, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 0.5, -1.0, 0.0, 3.0], (2, Const));
        let y = one_hot::<3, _>(&dev, &[1, 2]).unwrap();
        let ours = cross_entropy(logits.clone(), y.clone()).unwrap().array();
        let theirs = cross_entropy_with_logits_loss(logits, y).array();
        let by_hand = {
            let lse = |r: [f32; 3]| r.iter().map(|v| v.exp()).sum::<f32>().ln();
            ((lse([1.0, 2.0, 0.5]) - 2.0) + (lse([-1.0, 0.0, 3.0]) - 3.0)) / 2.0
        };
        assert!((ours - theirs).abs() < 1e-6 && (ours - by_hand).abs() < 1e-6);
    }
}
