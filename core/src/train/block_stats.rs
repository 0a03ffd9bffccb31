//! The gradient flow through a model, block by block: each block's gradient norm, weight
//! norm and update-to-weight ratio at a step, read from the gradients and weights the step
//! already has (nothing is recomputed).
//!
//! The weights before the step are copied into a buffer that [`GradientFlow`] keeps between
//! reports (4 bytes per parameter), so that a report allocates nothing once the first is
//! done: a long run's memory stays flat (the soak test) however often the blocks report.

use std::collections::BTreeMap;

use dfdx::nn::tensor_collection::{TensorCollection, ViewTensorName, ViewTensorRef};
use dfdx::prelude::*;

use super::BlockStats;
use crate::nn::visit::{each_tensor, EachTensor, InPlace};
use crate::program::TrainProgram;
use crate::Error;

/// One trainable tensor at the step being measured.
struct Measured {
    name: String,
    /// Where its weights before the step start in [`GradientFlow::before`], and how many.
    offset: usize,
    len: usize,
    grad_sq: f64,
    weight_sq: f64,
    change_sq: f64,
}

/// Measures the blocks' gradient flow around an optimiser step: [`GradientFlow::before_step`]
/// with the gradients, the step, then [`GradientFlow::after_step`].
#[derive(Default)]
pub(crate) struct GradientFlow {
    tensors: Vec<Measured>,
    /// The trainable weights before the step, one after another in model order.
    before: Vec<f32>,
    /// One tensor's values (a gradient, or a weight after the step).
    scratch: Vec<f32>,
}

/// Visits a model's trainable tensors before the step (with its gradients) or after it.
struct Visit<'a, D: Device<f32>> {
    flow: &'a mut GradientFlow,
    grads: Option<&'a Gradients<f32, D>>,
    index: usize,
}

/// `t`'s values in `buffer[..len]`, growing the buffer when it is too short.
fn copy_to<S: Shape, D: Device<f32>>(t: &Tensor<S, f32, D>, buffer: &mut Vec<f32>) -> usize {
    let len = t.shape().num_elements();
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    t.copy_into(&mut buffer[..len]);
    len
}

/// Σ before² and Σ (after − before)².
fn squares(before: &[f32], after: &[f32]) -> (f64, f64) {
    let (mut weight_sq, mut change_sq) = (0.0, 0.0);
    for (&w, &v) in before.iter().zip(after) {
        weight_sq += f64::from(w) * f64::from(w);
        change_sq += (f64::from(v) - f64::from(w)).powi(2);
    }
    (weight_sq, change_sq)
}

fn sum_sq(values: &[f32]) -> f64 {
    values.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

impl<D: Device<f32>> EachTensor<D> for Visit<'_, D> {
    type Viewer = (ViewTensorRef, ViewTensorName);
    type Err = D::Err;

    fn tensor<S: Shape>(
        &mut self,
        trainable: bool,
        (t, name): (&Tensor<S, f32, D>, String),
    ) -> Result<(), D::Err> {
        if !trainable {
            return Ok(());
        }
        let flow = &mut *self.flow;
        let mut scratch = core::mem::take(&mut flow.scratch);
        match self.grads {
            Some(grads) => {
                let len = copy_to(&grads.get(t), &mut scratch);
                flow.push_before(name, sum_sq(&scratch[..len]), len, |weights| t.copy_into(weights));
            }
            None => {
                let len = copy_to(t, &mut scratch);
                flow.set_after(self.index, &scratch[..len]);
            }
        }
        flow.scratch = scratch;
        self.index += 1;
        Ok(())
    }
}

impl GradientFlow {
    /// Reads `model`'s trainable weights and the norms of their gradients `grads`.
    pub(crate) fn before_step<M: TensorCollection<f32, D>, D: Device<f32>>(
        &mut self,
        model: &M,
        grads: &Gradients<f32, D>,
    ) -> Result<(), Error>
    where
        Error: From<D::Err>,
    {
        self.tensors.clear();
        let mut visit = Visit { flow: self, grads: Some(grads), index: 0 };
        each_tensor::<M, D, _>((model, String::new()), &mut InPlace(&mut visit))?;
        Ok(())
    }

    /// Each block's numbers, `model` being the same model after the step.
    pub(crate) fn after_step<M: TensorCollection<f32, D>, D: Device<f32>>(
        &mut self,
        model: &M,
    ) -> Result<Vec<BlockStats>, Error>
    where
        Error: From<D::Err>,
    {
        let mut visit = Visit::<D> { flow: self, grads: None, index: 0 };
        each_tensor::<M, D, _>((model, String::new()), &mut InPlace(&mut visit))?;
        Ok(self.blocks())
    }

    /// Reads the program's trainable weights and the norms of their gradients before its
    /// update.
    pub(crate) fn before_program_step(&mut self, program: &TrainProgram) {
        self.tensors.clear();
        for (name, w, g) in program.trainable() {
            self.push_before(name.into(), sum_sq(g), w.len(), |weights| weights.copy_from_slice(w));
        }
    }

    /// Each block's numbers, `program` being the same program after its update.
    pub(crate) fn after_program_step(&mut self, program: &TrainProgram) -> Vec<BlockStats> {
        for (index, (_, w, _)) in program.trainable().enumerate() {
            self.set_after(index, w);
        }
        self.blocks()
    }

    /// Records the next trainable tensor before the step: its name, Σ grad², and its `len`
    /// weights, which `write` copies into the kept buffer.
    fn push_before(&mut self, name: String, grad_sq: f64, len: usize, write: impl FnOnce(&mut [f32])) {
        let offset = self.tensors.last().map_or(0, |m| m.offset + m.len);
        if self.before.len() < offset + len {
            self.before.resize(offset + len, 0.0);
        }
        write(&mut self.before[offset..offset + len]);
        self.tensors.push(Measured { name, offset, len, grad_sq, weight_sq: 0.0, change_sq: 0.0 });
    }

    /// Compares tensor `index`'s weights after the step with those before it (without a
    /// matching [`Self::push_before`] there is nothing to compare: nothing changes).
    fn set_after(&mut self, index: usize, after: &[f32]) {
        if let Some(m) = self.tensors.get_mut(index) {
            let before = self.before.get(m.offset..m.offset + after.len()).unwrap_or(&[]);
            (m.weight_sq, m.change_sq) = squares(before, after);
        }
    }

    /// The measured tensors summed per block, in model order.
    fn blocks(&self) -> Vec<BlockStats> {
        let last = self.tensors.iter().filter_map(|m| top_index(&m.name)).max().unwrap_or(0);
        // Per block, in model order: (grad², weight², change²).
        let mut sums: BTreeMap<(usize, usize), (String, [f64; 3])> = BTreeMap::new();
        for m in &self.tensors {
            let (key, block) = block_of(&m.name, last);
            let entry = sums.entry(key).or_insert_with(|| (block, [0.0; 3]));
            entry.1[0] += m.grad_sq;
            entry.1[1] += m.weight_sq;
            entry.1[2] += m.change_sq;
        }
        sums.into_values()
            .map(|(name, [g, w, d])| BlockStats {
                name,
                grad_norm: g.sqrt(),
                weight_norm: w.sqrt(),
                update_ratio: if w > 0.0 { (d / w).sqrt() } else { 0.0 },
            })
            .collect()
    }
}

/// The model-level index of a tensor name (`2` in `2.1.0.weight`).
fn top_index(name: &str) -> Option<usize> {
    name.split('.').next()?.parse().ok()
}

/// The block a tensor belongs to, as the shape table names it, with a key that sorts blocks
/// in model order: the models are `(stem, stages..., head)`, so index 0 is `b1`, the last
/// index the head, and `k.j.*` block `j` of stage `b{k+1}`.
fn block_of(name: &str, last: usize) -> ((usize, usize), String) {
    let mut parts = name.split('.');
    let top = parts.next().and_then(|p| p.parse::<usize>().ok());
    let inner = parts.next().and_then(|p| p.parse::<usize>().ok());
    match (top, inner) {
        (Some(0), _) => ((0, 0), "b1".into()),
        (Some(k), _) if k == last => ((k, 0), "head".into()),
        (Some(k), Some(j)) => ((k, j), format!("b{}.{j}", k + 1)),
        (Some(k), None) => ((k, 0), format!("b{}", k + 1)),
        (None, _) => ((usize::MAX, 0), name.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ResNet18;
    use crate::nn::init::xavier_uniform;
    use crate::train::sgd::{SgdSettings, TorchSgd};

    #[test]
    fn tensor_names_map_to_the_shape_tables_blocks() {
        assert_eq!(block_of("0.0.weight", 5).1, "b1");
        assert_eq!(block_of("1.0.0.f.0.weight", 5).1, "b2.0");
        assert_eq!(block_of("3.1.0.f.3.bias", 5).1, "b4.1");
        assert_eq!(block_of("5.2.weight", 5).1, "head");
        assert!(
            block_of("1.1.x", 5).0 > block_of("1.0.x", 5).0
                && block_of("2.0.x", 5).0 > block_of("1.1.x", 5).0
        );
    }

    /// The numbers of a real SGD step of ResNet-18 against sums computed here from the
    /// gradients and the weights before and after.
    #[test]
    fn block_norms_of_a_resnet18_step() {
        let dev = Cpu::seed_from_u64(3);
        let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
        xavier_uniform(&mut model).unwrap();
        let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.sample_normal_like(&(4, Const, 28, 28));
        let grads = model.alloc_grads();
        let loss = model.forward_mut(x.traced(grads)).square().mean();
        let mut grads = loss.backward();
        let mut flow = GradientFlow::default();
        flow.before_step(&model, &grads).unwrap();
        let fc = &model.5.fc;
        let (head_grad, bias_grad) = (grads.get(&fc.weight).as_vec(), grads.get(&fc.bias).as_vec());
        let (head_before, bias_before) = (fc.weight.as_vec(), fc.bias.as_vec());
        let mut sgd = TorchSgd::new(SgdSettings { momentum: 0.0, nesterov: false, weight_decay: 0.0 });
        sgd.update(&mut model, &mut grads, 0.1).unwrap();
        let blocks = flow.after_step(&model).unwrap();
        let names: Vec<&str> = blocks.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["b1", "b2.0", "b2.1", "b3.0", "b3.1", "b4.0", "b4.1", "b5.0", "b5.1", "head"]);
        // The head: a linear layer's weight and bias; plain SGD moves them by lr·g.
        let head = blocks.last().unwrap();
        let sq = |v: &[f32]| v.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>();
        let grad_norm = (sq(&head_grad) + sq(&bias_grad)).sqrt();
        let weight_norm = (sq(&head_before) + sq(&bias_before)).sqrt();
        assert!((head.grad_norm - grad_norm).abs() <= 1e-6 * grad_norm, "{} vs {grad_norm}", head.grad_norm);
        assert!(
            (head.weight_norm - weight_norm).abs() <= 1e-5 * weight_norm,
            "{} vs {weight_norm}",
            head.weight_norm
        );
        let ratio = 0.1 * grad_norm / weight_norm;
        assert!((head.update_ratio - ratio).abs() <= 1e-3 * ratio, "{} vs {ratio}", head.update_ratio);
        assert!(blocks.iter().all(|b| b.grad_norm > 0.0 && b.weight_norm > 0.0 && b.update_ratio > 0.0));

        // The next report reuses the buffers: the weights' copy is neither moved nor grown.
        let (at, capacity) = (flow.before.as_ptr(), flow.before.capacity());
        assert_eq!(flow.before.len(), 11_178_378, "one copy of every trainable weight");
        flow.before_step(&model, &grads).unwrap();
        sgd.update(&mut model, &mut grads, 0.1).unwrap();
        let again = flow.after_step(&model).unwrap();
        assert_eq!((flow.before.as_ptr(), flow.before.capacity()), (at, capacity));
        assert_eq!(again.len(), blocks.len());
        assert!((again[9].grad_norm - head.grad_norm).abs() <= 1e-6 * grad_norm);
    }
}
