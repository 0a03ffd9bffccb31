//! Calibration: a [`Graph`] run in `f32` on sample images, recording the range of every
//! tensor, from which quantization picks each tensor's scale and zero point.

use alloc::vec::Vec;

use super::graph::{FloatStep, Graph};
use crate::infer::kernels;
use crate::ops::{reference, Geometry2d};

/// The smallest and largest value seen in each tensor (0 always included).
#[derive(Clone, Debug, PartialEq)]
pub struct Ranges(pub Vec<(f32, f32)>);

impl Ranges {
    /// Nothing seen yet, for `tensors` tensors.
    pub fn new(tensors: usize) -> Self {
        Ranges(alloc::vec![(0.0, 0.0); tensors])
    }

    /// Widens tensor `t`'s range to cover `values`.
    fn observe(&mut self, t: usize, values: &[f32]) {
        let (lo, hi) = &mut self.0[t];
        for &v in values {
            *lo = lo.min(v);
            *hi = hi.max(v);
        }
    }

    /// Runs `graph` on `images` (N images of its input, (N, C, H, W) row-major) and widens
    /// every tensor's range.
    pub fn observe_batch(&mut self, graph: &Graph<'_>, images: &[f32]) {
        let [h, w, c] = graph.dims[0];
        let n = images.len() / (c * h * w).max(1);
        if n == 0 {
            return;
        }
        let last_read = last_reads(graph);
        let mut values: Vec<Option<Vec<f32>>> = alloc::vec![None; graph.dims.len()];
        self.observe(0, images);
        values[0] = Some(images.to_vec());
        for (i, step) in graph.steps.iter().enumerate() {
            let geometry = |t: usize, out: usize, window: [usize; 3]| {
                let [h, w, c] = graph.dims[t];
                Geometry2d::new([n, c, h, w], out, window)
            };
            let value = |t: usize| values[t].as_deref().unwrap_or(&[]);
            let (dst, y) = match step {
                FloatStep::Conv { src, dst, residual, weight, window, epilogue, relu_after } => {
                    let g = geometry(*src, graph.dims[*dst][2], *window);
                    let mut y = kernels::conv2d(value(*src), *weight, &g, epilogue);
                    if let Some(r) = residual {
                        kernels::add(&mut y, value(*r));
                    }
                    if *relu_after {
                        kernels::relu(&mut y);
                    }
                    (*dst, y)
                }
                FloatStep::Affine { src, dst, epilogue } => {
                    let [h, w, c] = graph.dims[*src];
                    let mut y = value(*src).to_vec();
                    kernels::affine(&mut y, c, h * w, epilogue);
                    (*dst, y)
                }
                FloatStep::MaxPool { src, dst, window } => {
                    (*dst, reference::max_pool2d(value(*src), &geometry(*src, graph.dims[*src][2], *window)))
                }
                FloatStep::AvgPool { src, dst } => {
                    let [h, w, _] = graph.dims[*src];
                    (*dst, kernels::global_avg_pool(value(*src), h * w))
                }
                FloatStep::Linear { .. } => continue,
            };
            self.observe(dst, &y);
            values[dst] = Some(y);
            for t in step.reads() {
                if last_read[t] == i {
                    values[t] = None;
                }
            }
        }
    }
}

/// For each tensor, the last step that reads it.
fn last_reads(graph: &Graph<'_>) -> Vec<usize> {
    let mut last = alloc::vec![0; graph.dims.len()];
    for (i, step) in graph.steps.iter().enumerate() {
        for t in step.reads() {
            last[t] = i;
        }
    }
    last
}
