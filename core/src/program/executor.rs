//! [`TrainProgram`]: a model type compiled into a training program for the CPU, and its
//! step: the forward pass over channels-last activations kept for the backward pass, mean
//! cross-entropy, the backward pass in reverse order, SGD over the flat buffers.

use alloc::vec;
use alloc::vec::Vec;

use super::graph::{fuse, Builder, Node};
use super::kernels::{conv, dense, norm, pointwise, pool};
use super::lower::Lower;
use super::sgd;
use super::store::Store;
use crate::checkpoint::NamedTensor;
use crate::ops::cpu::direct;
use crate::ops::cpu::im2col::{add_taps_to_weights, weights_to_taps_into, Taps};
use crate::ops::cpu::profile::{span, timed, Phase};
use crate::ops::Geometry2d;
use crate::run::SgdSettings;
use crate::Error;

/// PyTorch's and this crate's batch-norm ε and momentum.
const EPSILON: f64 = 1e-5;
const NORM_MOMENTUM: f64 = 0.1;

/// A model compiled for training on the CPU, for images of one size: it owns its
/// parameters, gradients and momentum (flat, by name) and its activations.
///
/// ```
/// use resnet_core::prelude::*;
/// use resnet_core::program::TrainProgram;
/// use resnet_core::run::SgdSettings;
/// let mut program = TrainProgram::compile::<ResNet8<1, 10>>([1, 28, 28]).unwrap();
/// let dev = Cpu::default();
/// let model = dev.build_module::<ResNet8<1, 10>, f32>();
/// program.load(&resnet_core::checkpoint::named_tensors(&model).unwrap(), "model").unwrap();
/// let images = vec![0.5; 2 * 28 * 28];
/// let sgd = SgdSettings { momentum: 0.0, nesterov: false, weight_decay: 0.0 };
/// let loss = program.step(&images, &[3, 7], 0.05, &sgd).unwrap();
/// assert!(loss.is_finite() && program.logits().len() == 2 * 10);
/// ```
pub struct TrainProgram {
    nodes: Vec<Node>,
    /// The gradient buffer of each value (none for the images), planned once.
    grad_slot: Vec<usize>,
    /// The elements per image of each gradient buffer: the largest value it serves.
    slot_len: Vec<usize>,
    /// (C, H, W) of each value.
    values: Vec<[usize; 3]>,
    /// The live taps of each convolution node (empty for others).
    taps: Vec<Option<Taps>>,
    store: Store,
    /// Trainable elements in SGD's parallel pieces.
    pieces: Vec<(usize, usize)>,
    arena: Arena,
}

/// What a step keeps: activations and their gradients for `capacity` images, what each
/// node saves for its backward pass, and the batch size of the last forward pass.
#[derive(Default)]
struct Arena {
    capacity: usize,
    batch: usize,
    act: Vec<Vec<f32>>,
    /// Gradient buffers, shared by values whose gradients are never live at once.
    grad: Vec<Vec<f32>>,
    /// Per node: a convolution's weights as its forward kernel reads them (the direct
    /// kernel's order, or im2row's tap order).
    w_forward: Vec<Vec<f32>>,
    /// Per node: a convolution's weights as its input gradient's kernel reads them.
    w_backward: Vec<Vec<f32>>,
    /// A convolution's weight gradient in its kernel's order, before the model's order.
    weight_sums: Vec<f32>,
    /// Per node: a batch norm's statistics.
    stats: Vec<norm::Stats>,
    /// Per node: a max-pool's argmax.
    argmax: Vec<Vec<u32>>,
}

impl TrainProgram {
    /// Model type `M` compiled for images of `input` = (C, H, W), every parameter 0 until
    /// [`TrainProgram::load`]: an error when a layer does not fit the shapes that reach it.
    pub fn compile<M: Lower>(input: [usize; 3]) -> Result<Self, Error> {
        let (mut b, x) = Builder::new(input);
        M::lower("", &mut b, x)?;
        let Builder { values, nodes, params, total } = b;
        let nodes = fuse(nodes, values.len());
        let taps = nodes
            .iter()
            .map(|n| if let Node::Conv { g, .. } = n { Some(Taps::new(g)) } else { None })
            .collect();
        let pieces = sgd::pieces(&params);
        let (grad_slot, slot_len) = plan_gradients(&nodes, &values);
        Ok(TrainProgram {
            nodes,
            grad_slot,
            slot_len,
            values,
            taps,
            store: Store::new(params, total),
            pieces,
            arena: Arena::default(),
        })
    }

    /// Sets every parameter and running statistic from `tensors` (a model's
    /// [`crate::checkpoint::named_tensors`], a checkpoint's), which must name exactly this
    /// model's; `source` names them in errors.
    pub fn load(&mut self, tensors: &[NamedTensor], source: &str) -> Result<(), Error> {
        Store::fill(&self.store.specs, &mut self.store.data, tensors, source)
    }

    /// Sets SGD's momentum buffers from `tensors` (a checkpoint's), as [`TrainProgram::load`].
    pub fn load_velocity(&mut self, tensors: &[NamedTensor], source: &str) -> Result<(), Error> {
        let mut v = vec![0.0; self.store.data.len()];
        Store::fill(&self.store.specs, &mut v, tensors, source)?;
        self.store.velocity = Some(v);
        Ok(())
    }

    /// Every tensor (parameters and running statistics) by name, in the model's order.
    pub fn tensors(&self) -> Vec<NamedTensor> {
        self.store.named(&self.store.data)
    }

    /// SGD's momentum buffers by name, once there are any.
    pub fn velocity(&self) -> Option<Vec<NamedTensor>> {
        self.store.velocity.as_ref().map(|v| self.store.named(v))
    }

    /// The last backward pass's gradients by name (zeros for the running statistics).
    pub fn gradients(&self) -> Vec<NamedTensor> {
        self.store.named(&self.store.grads)
    }

    /// Each trainable tensor: its name, its values and its last gradient.
    pub fn trainable(&self) -> impl Iterator<Item = (&str, &[f32], &[f32])> {
        self.store.specs.iter().filter(|s| s.trainable).map(|s| {
            (s.name.as_str(), &self.store.data[s.offset..][..s.len], &self.store.grads[s.offset..][..s.len])
        })
    }

    /// The logits of the last forward pass.
    ///
    /// # Shapes
    /// (N, CLASSES).
    pub fn logits(&self) -> &[f32] {
        let last = self.nodes.last().map_or(0, Node::output);
        let len = self.arena.batch * self.image_len(last);
        self.arena.act.get(last).map_or(&[][..], |a| &a[..len])
    }

    /// One SGD step on a batch at learning rate `lr`: forward, loss, backward, update.
    /// Returns the batch's mean cross-entropy; [`TrainProgram::logits`] has its logits.
    ///
    /// # Shapes
    /// `images`: (N, C, H, W) with (C, H, W) the compiled size; `labels`: (N,).
    pub fn step(
        &mut self,
        images: &[f32],
        labels: &[usize],
        lr: f64,
        sgd: &SgdSettings,
    ) -> Result<f64, Error> {
        let loss = self.forward_backward(images, labels)?;
        self.update(lr, sgd);
        Ok(loss)
    }

    /// The forward and backward passes: the batch's mean cross-entropy, the gradients left
    /// in the program ([`TrainProgram::gradients`]) and the running statistics moved.
    pub fn forward_backward(&mut self, images: &[f32], labels: &[usize]) -> Result<f64, Error> {
        let n = labels.len();
        let [c, h, w] = self.values[0];
        if n == 0 || n.checked_mul(c * h * w) != Some(images.len()) {
            return Err(Error::InputLength { shape: [n, c, h, w], found: images.len() });
        }
        self.prepare(n);
        to_channels_last(images, [n, c, h * w], &mut self.arena.act[0]);
        for i in 0..self.nodes.len() {
            self.forward_node(i, n);
        }
        let last = self.nodes.last().map_or(0, Node::output);
        let len = n * self.image_len(last);
        let (logits, grad) =
            (&self.arena.act[last][..len], &mut self.arena.grad[self.grad_slot[last]][..len]);
        let loss = timed(Phase::Head, || dense::cross_entropy(logits, labels, grad));
        let mut written = vec![false; self.values.len()];
        written[last] = true;
        for i in (0..self.nodes.len()).rev() {
            self.backward_node(i, n, &mut written);
        }
        Ok(loss)
    }

    /// SGD at learning rate `lr` with the gradients of the last backward pass.
    pub fn update(&mut self, lr: f64, settings: &SgdSettings) {
        let s = &mut self.store;
        let _span = span(Phase::Optimizer);
        sgd::step(&self.pieces, &mut s.data, &s.grads, &mut s.velocity, lr, settings);
    }

    /// Elements of one image of value `v`.
    fn image_len(&self, v: usize) -> usize {
        self.values[v].iter().product()
    }

    /// Buffers for batches of up to `n` images (kept when they already fit).
    fn prepare(&mut self, n: usize) {
        self.arena.batch = n;
        if self.arena.capacity >= n {
            return;
        }
        // Values a fusion left without a producer get no buffer.
        let mut made = vec![false; self.values.len()];
        made[0] = true;
        self.nodes.iter().for_each(|node| made[node.output()] = true);
        let lens: Vec<usize> =
            (0..self.values.len()).map(|v| if made[v] { n * self.image_len(v) } else { 0 }).collect();
        let a = &mut self.arena;
        a.capacity = n;
        a.act = lens.iter().map(|&l| vec![0.0; l]).collect();
        a.grad = self.slot_len.iter().map(|&l| vec![0.0; n * l]).collect();
        a.w_forward = vec![Vec::new(); self.nodes.len()];
        a.w_backward = vec![Vec::new(); self.nodes.len()];
        a.stats = vec![norm::Stats::default(); self.nodes.len()];
        a.argmax = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::MaxPool { y, .. } => vec![0; lens[*y]],
                _ => Vec::new(),
            })
            .collect();
    }

    fn forward_node(&mut self, i: usize, n: usize) {
        let node = self.nodes[i].clone();
        let _span = node_phase(&node, Pass::Forward).map(span);
        let y_len = n * self.image_len(node.output());
        let mut y = core::mem::take(&mut self.arena.act[node.output()]);
        let mut ordered = core::mem::take(&mut self.arena.w_forward[i]);
        let out = &mut y[..y_len];
        let s = &self.store;
        let act = &self.arena.act;
        let x_of = |v: usize| &act[v][..n * self.image_len(v)];
        match node {
            Node::Conv { x, weight, bias, g, .. } => {
                let g = Geometry2d { batch: n, ..g };
                let taps = self.taps[i].as_ref().copied().unwrap_or_else(|| Taps::new(&g));
                let (w, b) = (s.slice(&s.data, weight), bias.map(|b| s.slice(&s.data, b)));
                if direct::applies(&g) {
                    timed(Phase::WeightReorder, || direct::weights_for_forward(w, &g, &mut ordered));
                    timed(Phase::ConvForwardDirect, || direct::forward(x_of(x), &ordered, b, &g, out, false));
                } else {
                    timed(Phase::WeightReorder, || weights_to_taps_into(w, &g, &taps, &mut ordered));
                    conv::forward(x_of(x), &ordered, b, &g, &taps, out);
                }
            }
            Node::Norm { x, scale, bias, mean, var, relu, .. } => {
                let stats = norm::forward(
                    x_of(x),
                    s.slice(&s.data, scale),
                    s.slice(&s.data, bias),
                    EPSILON,
                    relu,
                    out,
                );
                let m = (y_len / stats.mean.len().max(1)) as f64;
                let unbias = if m > 1.0 { m / (m - 1.0) } else { 1.0 };
                let (mo, vo) = (s.specs[mean].offset, s.specs[var].offset);
                let data = &mut self.store.data;
                for (ch, (&bm, &bv)) in stats.mean.iter().zip(&stats.var).enumerate() {
                    let (rm, rv) = (f64::from(data[mo + ch]), f64::from(data[vo + ch]));
                    data[mo + ch] = ((1.0 - NORM_MOMENTUM) * rm + NORM_MOMENTUM * bm) as f32;
                    data[vo + ch] = ((1.0 - NORM_MOMENTUM) * rv + NORM_MOMENTUM * bv * unbias) as f32;
                }
                self.arena.stats[i] = stats;
            }
            Node::Relu { x, .. } => pointwise::relu(x_of(x), out),
            Node::MaxPool { x, g, .. } => {
                let g = Geometry2d { batch: n, ..g };
                pool::forward(x_of(x), &g, out, &mut self.arena.argmax[i][..y_len]);
            }
            Node::GlobalAvgPool { x, .. } => {
                let [c, h, w] = self.values[x];
                dense::global_avg_pool(x_of(x), h * w, c, out);
            }
            Node::Flatten { x, .. } => {
                let [c, h, w] = self.values[x];
                dense::flatten(x_of(x), h * w, c, out, true, false);
            }
            Node::Linear { x, weight, bias, .. } => {
                dense::linear(x_of(x), s.slice(&s.data, weight), s.slice(&s.data, bias), out);
            }
            Node::Add { a, b, relu, .. } => pointwise::add(x_of(a), x_of(b), out, relu),
        }
        self.arena.act[node.output()] = y;
        self.arena.w_forward[i] = ordered;
    }

    /// The node's backward pass: its parameters' gradients written, its inputs' gradients
    /// written or (when `written` says another node already has) added.
    fn backward_node(&mut self, i: usize, n: usize, written: &mut [bool]) {
        let node = self.nodes[i].clone();
        let _span = node_phase(&node, Pass::Backward).map(span);
        let values = &self.values;
        let len = |v: usize| n * values[v].iter().product::<usize>();
        let out = node.output();
        let gy_buf = core::mem::take(&mut self.arena.grad[self.grad_slot[out]]);
        let gy = &gy_buf[..len(out)];
        // The inputs' gradient buffers (the images have none) and whether to add to them.
        let mut gx: Vec<(usize, Vec<f32>, bool)> = node
            .inputs()
            .into_iter()
            .filter(|&v| v != 0)
            .map(|v| {
                let acc = core::mem::replace(&mut written[v], true);
                (v, core::mem::take(&mut self.arena.grad[self.grad_slot[v]]), acc)
            })
            .collect();
        let mut first = gx.first_mut().map(|(v, b, acc)| (&mut b[..len(*v)], *acc));
        let act = &self.arena.act;
        let x_of = |v: usize| &act[v][..len(v)];
        let (specs, data, grads) = (&self.store.specs, &self.store.data, &mut self.store.grads);
        let span = |p: usize| (specs[p].offset, specs[p].len);
        let value = |p: usize| &data[specs[p].offset..][..specs[p].len];
        match node {
            Node::Conv { x, weight, bias, g, .. } => {
                let g = Geometry2d { batch: n, ..g };
                let taps = self.taps[i].unwrap_or_else(|| Taps::new(&g));
                let (gw, gb) = match bias {
                    Some(b) => {
                        let (gw, gb) = pair_mut(grads, span(weight), span(b));
                        (gw, Some(gb))
                    }
                    None => (&mut grads[span(weight).0..][..span(weight).1], None),
                };
                let w = value(weight);
                let is_direct = direct::applies(&g);
                let mut ordered = core::mem::take(&mut self.arena.w_backward[i]);
                let mut sums = core::mem::take(&mut self.arena.weight_sums);
                if is_direct {
                    sums.resize(gw.len(), 0.0);
                    timed(Phase::ConvBackwardWeightDirect, || {
                        direct::weight_gradient(x_of(x), gy, &g, &mut sums);
                        if let Some(gb) = gb {
                            dense::bias_gradient(gy, gb);
                        }
                    });
                    timed(Phase::WeightReorder, || direct::weights_to_model_order(&sums, &g, gw));
                } else {
                    sums.resize(g.out_channels * taps.len(), 0.0);
                    conv::weight_gradient(x_of(x), &g, &taps, gy, &mut sums, gb);
                    timed(Phase::WeightReorder, || add_taps_to_weights(&sums, &g, &taps, gw, false));
                }
                if let Some((gx, accumulate)) = first.take() {
                    if let Some(t) = direct::input_gradient_geometry(&g) {
                        timed(Phase::WeightReorder, || {
                            direct::weights_for_input_gradient(w, &g, &mut ordered)
                        });
                        timed(Phase::ConvBackwardInputDirect, || {
                            direct::forward(gy, &ordered, None, &t, gx, accumulate)
                        });
                    } else {
                        let w_taps = if is_direct {
                            // The forward pass kept the direct kernel's order; the gemm reads taps.
                            timed(Phase::WeightReorder, || weights_to_taps_into(w, &g, &taps, &mut ordered));
                            &ordered
                        } else {
                            &self.arena.w_forward[i]
                        };
                        conv::input_gradient(w_taps, &g, &taps, gy, gx, accumulate);
                    }
                }
                self.arena.w_backward[i] = ordered;
                self.arena.weight_sums = sums;
            }
            Node::Norm { x, y, scale, bias, relu, .. } => {
                let (gs, gb) = pair_mut(grads, span(scale), span(bias));
                let stats = &self.arena.stats[i];
                norm::backward(x_of(x), x_of(y), gy, stats, value(scale), relu, first.take(), gs, gb);
            }
            Node::Relu { y, .. } => {
                if let Some((gx, acc)) = first.take() {
                    pointwise::relu_backward(x_of(y), gy, gx, acc);
                }
            }
            Node::MaxPool { g, .. } => {
                if let Some((gx, acc)) = first.take() {
                    pool::backward(
                        gy,
                        &self.arena.argmax[i][..len(out)],
                        &Geometry2d { batch: n, ..g },
                        gx,
                        acc,
                    );
                }
            }
            Node::GlobalAvgPool { x, .. } => {
                if let Some((gx, acc)) = first.take() {
                    let [c, h, w] = self.values[x];
                    dense::global_avg_pool_backward(gy, h * w, c, gx, acc);
                }
            }
            Node::Flatten { x, .. } => {
                if let Some((gx, acc)) = first.take() {
                    let [c, h, w] = self.values[x];
                    dense::flatten(gy, h * w, c, gx, false, acc);
                }
            }
            Node::Linear { x, weight, bias, .. } => {
                let (gw, gb) = pair_mut(grads, span(weight), span(bias));
                dense::linear_backward(x_of(x), value(weight), gy, first.take(), gw, gb);
            }
            Node::Add { y, relu, .. } => {
                for (v, buf, acc) in gx.iter_mut() {
                    let gx = &mut buf[..len(*v)];
                    if relu {
                        pointwise::relu_backward(x_of(y), gy, gx, *acc);
                    } else {
                        super::kernels::store(gx, gy, *acc);
                    }
                }
            }
        }
        for (v, buf, _) in gx {
            self.arena.grad[self.grad_slot[v]] = buf;
        }
        self.arena.grad[self.grad_slot[out]] = gy_buf;
    }
}

/// Which way a node is run.
#[derive(Clone, Copy, PartialEq)]
enum Pass {
    Forward,
    Backward,
}

/// The profile phase a node's pass counts under; none for a convolution, whose kernels
/// count their parts.
fn node_phase(node: &Node, pass: Pass) -> Option<Phase> {
    let forward = pass == Pass::Forward;
    Some(match node {
        Node::Conv { .. } => return None,
        Node::Norm { .. } if forward => Phase::NormForward,
        Node::Norm { .. } => Phase::NormBackward,
        Node::MaxPool { .. } if forward => Phase::PoolForward,
        Node::MaxPool { .. } => Phase::PoolBackward,
        Node::Relu { .. } | Node::Add { .. } => Phase::Elementwise,
        Node::GlobalAvgPool { .. } | Node::Flatten { .. } | Node::Linear { .. } => Phase::Head,
    })
}

/// Which gradient buffer each value uses, and each buffer's elements per image. A value's
/// gradient lives from the backward pass of its last reader (the first to write it) to that
/// of the node that made it; buffers whose values are never live at once are shared,
/// best fit first. The images (value 0) have none.
fn plan_gradients(nodes: &[Node], values: &[[usize; 3]]) -> (Vec<usize>, Vec<usize>) {
    let image_len = |v: usize| values[v].iter().product::<usize>();
    let last = nodes.last().map_or(0, Node::output);
    // The backward step (counting down from the loss, which writes the logits' gradient)
    // at which each value's gradient is first written.
    let mut first_write = vec![None; values.len()];
    first_write[last] = Some(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        for v in node.inputs() {
            first_write[v] = Some(first_write[v].map_or(i, |w: usize| w.max(i)));
        }
    }
    let (mut slot, mut len, mut free) =
        (vec![usize::MAX; values.len()], Vec::<usize>::new(), Vec::<usize>::new());
    let acquire = |v: usize, slot: &mut Vec<usize>, len: &mut Vec<usize>, free: &mut Vec<usize>| {
        let need = image_len(v);
        let fit = free.iter().enumerate().filter(|(_, &s)| len[s] >= need).min_by_key(|(_, &s)| len[s]);
        slot[v] = match fit.map(|(i, _)| i) {
            Some(i) => free.swap_remove(i),
            None => {
                len.push(need);
                len.len() - 1
            }
        };
    };
    acquire(last, &mut slot, &mut len, &mut free);
    for i in (0..nodes.len()).rev() {
        for v in nodes[i].inputs() {
            if v != 0 && first_write[v] == Some(i) && slot[v] == usize::MAX {
                acquire(v, &mut slot, &mut len, &mut free);
            }
        }
        // The node's output gradient is read for the last time here.
        free.push(slot[nodes[i].output()]);
    }
    // The images have no gradient; point them at any buffer (never used).
    slot[0] = 0;
    (slot, len)
}

/// Two disjoint ranges (offset, length) of `buf`, the first before the second.
fn pair_mut(buf: &mut [f32], a: (usize, usize), b: (usize, usize)) -> (&mut [f32], &mut [f32]) {
    let (lo, hi) = buf.split_at_mut(b.0);
    (&mut lo[a.0..][..a.1], &mut hi[..b.1])
}

/// (N, C, P) → (N, P, C) into `dst` (a copy when C = 1).
fn to_channels_last(src: &[f32], [n, c, plane]: [usize; 3], dst: &mut [f32]) {
    if c == 1 {
        dst[..src.len()].copy_from_slice(src);
        return;
    }
    for (d, s) in dst[..n * c * plane].chunks_exact_mut(c * plane).zip(src.chunks_exact(c * plane)) {
        for p in 0..plane {
            for ch in 0..c {
                d[p * c + ch] = s[ch * plane + p];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::named_tensors;
    use crate::models::ResNet18;
    use crate::nn::init::xavier_uniform;
    use crate::ops::test_support::uniform;
    use dfdx::prelude::*;

    /// The buffers are reused, never cleared: what a step computes must not depend on what
    /// the last one left there, nor on a smaller batch using a prefix of them.
    #[test]
    fn a_step_does_not_depend_on_the_buffers_history() {
        let dev = Cpu::seed_from_u64(1);
        let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
        xavier_uniform(&mut model).unwrap();
        let weights = named_tensors(&model).unwrap();
        let (a, b) = (uniform(3 * 1600, 1), uniform(5 * 1600, 2));
        let fresh = || {
            let mut p = TrainProgram::compile::<ResNet18<1, 10>>([1, 40, 40]).unwrap();
            p.load(&weights, "model").unwrap();
            p
        };
        let mut clean = fresh();
        let first = clean.forward_backward(&a, &[1, 2, 3]).unwrap();
        let grads = clean.gradients();
        let mut program = fresh();
        program.forward_backward(&b, &[4, 5, 6, 7, 8]).unwrap();
        program.load(&weights, "model").unwrap();
        let again = program.forward_backward(&a, &[1, 2, 3]).unwrap();
        assert_eq!(first.to_bits(), again.to_bits());
        for (x, y) in program.gradients().iter().zip(&grads) {
            assert!(x.data == y.data, "{} differs", x.name);
        }
    }
}
