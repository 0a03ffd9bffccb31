//! A [`Network`](super::Network) compiled for the CPU and one image size (std): the fast way
//! to evaluate a model, as the trainer's test passes and `bench` do.
//!
//! Activations stay channels-last, (N, H, W, C), from the input to the head, so that a
//! convolution's matrix product (one row per output position, one column per filter, see
//! [`crate::ops::cpu`]) is already its output and the next layer's input, with no transpose.
//! Batch norms are folded into the filters once, at compilation, with the weights put in
//! the taps' order for the image size; a convolution's shift and ReLU, and a residual
//! join's add and ReLU, are one parallel pass each. No tape, no gradients.
//!
//! The numbers are [`Network::logits`](super::Network::logits)'s up to rounding (the sums
//! run in another order).

use alloc::vec::Vec;

use rayon::prelude::*;

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::{BuildOnDevice, Device};

use super::kernels::Epilogue;
use super::program::{conv_geometry, expect_channels, geometry, Op};
use super::{Infer, Network};
use crate::checkpoint::{encode, named_tensors, Header};
use crate::ops::cpu::conv2d::group_size;
use crate::ops::cpu::direct;
use crate::ops::cpu::gemm::{sgemm, MatRef};
use crate::ops::cpu::im2col::{im2row, weights_to_taps, Taps};
use crate::ops::cpu::scratch::Scratch;
use crate::ops::cpu::winograd;
use crate::ops::Geometry2d;
use crate::prelude::Built;
use crate::Error;

/// Elements handed to one parallel task of the elementwise passes.
const CHUNK: usize = 1 << 14;

/// A model in evaluation mode, compiled for images of one size.
///
/// ```
/// use resnet_core::infer::Network;
/// use resnet_core::prelude::*;
/// # fn run(bytes: &[u8], images: &[f32]) -> Result<(), resnet_core::Error> {
/// let net = Network::<ResNet8<1, 10>>::from_bytes(bytes)?.compile([1, 28, 28])?;
/// let logits = net.logits(images, 4)?; // four 28×28 images
/// assert_eq!(logits.len(), 4 * 10);
/// # Ok(()) }
/// ```
pub struct Compiled {
    steps: Vec<Step>,
    /// C, H, W of one input image.
    input: [usize; 3],
}

/// One step of a compiled model.
enum Step {
    Conv(Conv),
    /// A batch norm not after a convolution (pre-activation blocks): `scale[c]·x + shift[c]`,
    /// then ReLU if asked.
    Affine(Epilogue),
    Relu,
    /// Max-pooling over `-inf` padding, its geometry for one image.
    MaxPool(Geometry2d),
    GlobalAvgPool,
    /// To (N, C·H·W) in NCHW order, as the uncompiled model flattens.
    Flatten,
    /// `x · weightᵀ + bias`, weight (O, I).
    Linear {
        weight: Vec<f32>,
        bias: Vec<f32>,
    },
    /// `main(x) + shortcut(x)` (an empty shortcut is the identity), then ReLU if asked.
    Residual {
        main: Vec<Step>,
        shortcut: Vec<Step>,
        relu: bool,
    },
}

/// A convolution with its batch norm folded in and its ReLU.
struct Conv {
    /// The geometry for one image.
    g: Geometry2d,
    /// The taps that read inside the image.
    taps: Taps,
    /// The filters times the batch norm's scale.
    weight: Filters,
    /// Per-channel shift (bias and batch norm).
    shift: Vec<f32>,
    relu: bool,
}

/// A convolution's filters as its algorithm wants them.
enum Filters {
    /// For im2row: (O, live taps).
    Taps(Vec<f32>),
    /// Winograd-transformed, for the 3×3 stride-1 convolutions where that is faster.
    Winograd(winograd::Filters),
    /// For the direct convolution (AVX-512, output channels in 64s): (C, taps, O).
    Direct(Vec<f32>),
    /// Winograd-transformed, for the 3×3 stride-1 convolutions on the direct kernel.
    WinogradDirect(winograd::Filters),
}

/// Channels-last activations: (N, H, W, C).
struct Activations {
    data: Scratch,
    dims: [usize; 4],
}

impl Compiled {
    /// `ops` (already folded) compiled for images of `input` = (C, H, W); an error when a
    /// layer does not fit the shapes that reach it.
    pub(super) fn new(ops: &[Op<'_>], input: [usize; 3]) -> Result<Self, Error> {
        let mut dims = input;
        let steps = compile(ops, &mut dims)?;
        Ok(Self { steps, input })
    }

    /// A built model of type `M` compiled for images of `input` = (C, H, W): its tensors
    /// copied off its device `D` into a weights-only file's bytes (headed by `header`), read
    /// as [`Network::from_bytes`](super::Network::from_bytes) reads them, then compiled.
    pub fn of_model<M, D>(header: &Header, model: &Built<M, D>, input: [usize; 3]) -> Result<Self, Error>
    where
        M: BuildOnDevice<D, f32> + Infer,
        Built<M, D>: TensorCollection<f32, D>,
        D: Device<f32>,
        Error: From<D::Err>,
    {
        let bytes = encode(header, &named_tensors(model)?)?;
        Network::<M>::from_bytes(&bytes)?.compile(input)
    }

    /// The logits (or whatever the model ends with) of `batch` images.
    ///
    /// # Shapes
    /// `images`: (N, C, H, W) with (C, H, W) the compiled size; returns the model's output
    /// in NCHW order, (N, CLASSES) for the catalog's models.
    pub fn logits(&self, images: &[f32], batch: usize) -> Result<Vec<f32>, Error> {
        let [c, h, w] = self.input;
        let shape = [batch, c, h, w];
        if batch.checked_mul(c * h * w) != Some(images.len()) || batch == 0 {
            return Err(Error::InputLength { shape, found: images.len() });
        }
        let x = Activations { data: transpose(images, [batch, c, h * w]), dims: [batch, h, w, c] };
        let y = run(&self.steps, &x).unwrap_or(x);
        let [n, h, w, c] = y.dims;
        Ok(transpose(&y.data, [n, h * w, c]).to_vec())
    }
}

/// Compiles `ops` for inputs of `dims` (C, H, W), leaving the output's there.
fn compile(ops: &[Op<'_>], dims: &mut [usize; 3]) -> Result<Vec<Step>, Error> {
    let mut steps = Vec::with_capacity(ops.len());
    let mut ops = ops.iter().peekable();
    while let Some(op) = ops.next() {
        let [c, h, w] = *dims;
        steps.push(match op {
            Op::Conv { weight, out_channels, window, epilogue } => {
                let g = conv_geometry(weight.len(), *out_channels, *window, [1, c, h, w])?;
                *dims = [g.out_channels, g.out_height, g.out_width];
                let taps = Taps::new(&g);
                let scale = |o: usize| epilogue.scale.as_ref().map_or(1.0, |s| s[o]);
                let filters: Vec<f32> =
                    (0..weight.len()).map(|i| weight.at(i) * scale(i / g.patch_len())).collect();
                let weight = if direct::winograd::applies(&g) {
                    Filters::WinogradDirect(winograd::Filters::new(&filters, g.out_channels, c))
                } else if direct::applies(&g) {
                    let mut ordered = Vec::new();
                    direct::weights_for_forward(&filters, &g, &mut ordered);
                    Filters::Direct(ordered)
                } else if winograd::pays(&g) {
                    Filters::Winograd(winograd::Filters::new(&filters, g.out_channels, c))
                } else {
                    Filters::Taps(weights_to_taps(&filters, &g, &taps))
                };
                Step::Conv(Conv { g, taps, weight, shift: epilogue.shift.clone(), relu: epilogue.relu })
            }
            Op::Norm(epilogue) => {
                expect_channels("batch norm", epilogue.shift.len(), c)?;
                Step::Affine(epilogue.clone())
            }
            Op::Relu => Step::Relu,
            Op::MaxPool(window) => {
                let g = geometry("max pool", [1, c, h, w], c, *window)?;
                *dims = [c, g.out_height, g.out_width];
                Step::MaxPool(g)
            }
            Op::GlobalAvgPool => {
                *dims = [c, 1, 1];
                Step::GlobalAvgPool
            }
            Op::Flatten => {
                *dims = [c * h * w, 1, 1];
                Step::Flatten
            }
            Op::Linear { weight, bias } => {
                expect_channels("linear", weight.len() / bias.len().max(1), c * h * w)?;
                *dims = [bias.len(), 1, 1];
                Step::Linear { weight: weight.to_vec(), bias: bias.to_vec() }
            }
            Op::Residual { main, shortcut } => {
                let (mut m, mut s) = (*dims, *dims);
                let (main, shortcut) = (compile(main, &mut m)?, compile(shortcut, &mut s)?);
                if m != s {
                    return Err(Error::Branches { main: m.to_vec(), shortcut: s.to_vec() });
                }
                *dims = m;
                let relu = matches!(ops.peek(), Some(Op::Relu));
                if relu {
                    ops.next();
                }
                Step::Residual { main, shortcut, relu }
            }
        });
    }
    Ok(steps)
}

/// `steps` on `x`; `None` when there are none (the identity).
fn run(steps: &[Step], x: &Activations) -> Option<Activations> {
    let mut y: Option<Activations> = None;
    for step in steps {
        y = Some(match (step, y) {
            (Step::Relu, Some(mut a)) => {
                rectify(&mut a.data);
                a
            }
            (Step::Affine(e), Some(mut a)) => {
                affine(&mut a, e);
                a
            }
            (step, y) => step.apply(y.as_ref().unwrap_or(x)),
        });
    }
    y
}

impl Step {
    /// The step on `x` into new activations.
    fn apply(&self, x: &Activations) -> Activations {
        let [n, h, w, c] = x.dims;
        match self {
            Step::Conv(conv) => conv.apply(x),
            Step::Affine(e) => {
                let mut y = copy(x);
                affine(&mut y, e);
                y
            }
            Step::Relu => {
                let mut y = copy(x);
                rectify(&mut y.data);
                y
            }
            Step::MaxPool(g) => max_pool(x, &Geometry2d { batch: n, ..*g }),
            Step::GlobalAvgPool => {
                let mut y = Scratch::take(n * c);
                let plane = h * w;
                y.par_chunks_mut(c).zip(x.data.par_chunks(plane * c)).for_each(|(sum, image)| {
                    sum.fill(0.0);
                    for px in image.chunks_exact(c) {
                        sum.iter_mut().zip(px).for_each(|(s, v)| *s += v);
                    }
                    sum.iter_mut().for_each(|s| *s /= plane as f32);
                });
                Activations { data: y, dims: [n, 1, 1, c] }
            }
            Step::Flatten => {
                Activations { data: transpose(&x.data, [n, h * w, c]), dims: [n, 1, 1, c * h * w] }
            }
            Step::Linear { weight, bias } => {
                let (inputs, outputs) = (h * w * c, bias.len());
                let flat = (h * w > 1).then(|| transpose(&x.data, [n, h * w, c]));
                let rows: &[f32] = flat.as_deref().unwrap_or(&x.data);
                let mut y = Scratch::take(n * outputs);
                let (a, b) = (MatRef::rows(rows, inputs), MatRef::transposed(weight, inputs));
                sgemm([n, inputs, outputs], a, b, &mut y, false);
                for row in y.chunks_exact_mut(outputs.max(1)) {
                    row.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
                }
                Activations { data: y, dims: [n, 1, 1, outputs] }
            }
            Step::Residual { main, shortcut, relu } => {
                let mut y = run(main, x).unwrap_or_else(|| copy(x));
                let s = run(shortcut, x);
                add(&mut y.data, &s.as_ref().unwrap_or(x).data, *relu);
                y
            }
        }
    }
}

impl Conv {
    /// The shift, when it has one value per output channel: a kernel adds it as its bias.
    fn kernel_bias(&self) -> Option<&[f32]> {
        (self.shift.len() == self.g.out_channels).then_some(&self.shift[..])
    }

    /// The shift (unless the kernel added it as its bias, `biased`), then the ReLU.
    fn finish(&self, y: &mut [f32], biased: bool) {
        match (biased, self.relu) {
            (true, true) => rectify(y),
            (true, false) => {}
            (false, _) => shift(y, &self.shift, self.relu),
        }
    }

    /// im2row (none for a 1×1 stride-1 convolution: its input is its patch matrix) and one
    /// product per group of images straight into the channels-last output, then the shift
    /// and ReLU.
    fn apply(&self, x: &Activations) -> Activations {
        let [n, h, w, c] = x.dims;
        let g = Geometry2d { batch: n, ..self.g };
        let (o, plane_out, live) = (g.out_channels, g.out_plane(), self.taps.len());
        let img_in = c * h * w;
        let mut y = Scratch::take(n * plane_out * o);
        let weight = match &self.weight {
            Filters::Taps(weight) => weight,
            Filters::Winograd(filters) => {
                winograd::forward(&x.data, filters, &g, &mut y);
                shift(&mut y, &self.shift, self.relu);
                return Activations { data: y, dims: [n, g.out_height, g.out_width, o] };
            }
            Filters::WinogradDirect(filters) => {
                let bias = self.kernel_bias();
                direct::winograd::forward(&x.data, filters, bias, &g, &mut y);
                self.finish(&mut y, bias.is_some());
                return Activations { data: y, dims: [n, g.out_height, g.out_width, o] };
            }
            Filters::Direct(filters) => {
                let bias = self.kernel_bias();
                direct::forward(&x.data, filters, bias, &g, &mut y, false);
                self.finish(&mut y, bias.is_some());
                return Activations { data: y, dims: [n, g.out_height, g.out_width, o] };
            }
        };
        let direct = g.kernel == 1 && g.stride == 1 && g.padding == 0;
        let group = group_size(&g);
        let mut rows = (!direct).then(|| Scratch::take(group.min(n) * plane_out * live));
        for first in (0..n).step_by(group) {
            let count = group.min(n - first);
            let positions = count * plane_out;
            let images = &x.data[first * img_in..][..count * img_in];
            let patches: &[f32] = match rows.as_deref_mut() {
                Some(rows) => {
                    im2row(images, &g, &self.taps, count, rows);
                    &rows[..positions * live]
                }
                None => images,
            };
            let out = &mut y[first * plane_out * o..][..positions * o];
            let (a, b) = (MatRef::rows(patches, live), MatRef::transposed(weight, live));
            sgemm([positions, live, o], a, b, out, false);
            shift(out, &self.shift, self.relu);
        }
        Activations { data: y, dims: [n, g.out_height, g.out_width, o] }
    }
}

/// `x[.., c] += shift[c]`, then ReLU if `relu`, over channels-last data.
fn shift(x: &mut [f32], shift: &[f32], relu: bool) {
    let c = shift.len().max(1);
    x.par_chunks_mut((CHUNK / c).max(1) * c).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(c) {
            for (v, b) in px.iter_mut().zip(shift) {
                let y = *v + b;
                *v = if relu { y.max(0.0) } else { y };
            }
        }
    });
}

/// A batch norm's `scale[c]·x + shift[c]` (and ReLU) in place.
fn affine(x: &mut Activations, e: &Epilogue) {
    let c = x.dims[3].max(1);
    let scale = |ch: usize| e.scale.as_ref().map_or(1.0, |s| s[ch]);
    x.data.par_chunks_mut((CHUNK / c).max(1) * c).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(c) {
            for (ch, v) in px.iter_mut().enumerate() {
                let y = scale(ch) * *v + e.shift[ch];
                *v = if e.relu { y.max(0.0) } else { y };
            }
        }
    });
}

/// `max(x, 0)` in place.
fn rectify(x: &mut [f32]) {
    x.par_chunks_mut(CHUNK).for_each(|chunk| chunk.iter_mut().for_each(|v| *v = v.max(0.0)));
}

/// `y += s`, then ReLU if `relu`.
fn add(y: &mut [f32], s: &[f32], relu: bool) {
    y.par_chunks_mut(CHUNK).zip(s.par_chunks(CHUNK)).for_each(|(y, s)| {
        for (v, a) in y.iter_mut().zip(s) {
            let t = *v + a;
            *v = if relu { t.max(0.0) } else { t };
        }
    });
}

/// A copy of `x`.
fn copy(x: &Activations) -> Activations {
    let mut data = Scratch::take(x.data.len());
    data.copy_from_slice(&x.data);
    Activations { data, dims: x.dims }
}

/// Max-pooling of channels-last `x`: each output pixel the elementwise maximum of the
/// C-vectors its window reads (padding never wins).
fn max_pool(x: &Activations, g: &Geometry2d) -> Activations {
    let (c, (h, w), (oh, ow)) = (g.in_channels, (g.height, g.width), (g.out_height, g.out_width));
    let mut y = Scratch::take(g.batch * oh * ow * c);
    y.par_chunks_mut((ow * c).max(1)).enumerate().for_each(|(ni, row)| {
        let (n, i) = (ni / oh, ni % oh);
        let image = &x.data[n * h * w * c..][..h * w * c];
        for (j, out) in row.chunks_exact_mut(c.max(1)).enumerate() {
            out.fill(f32::NEG_INFINITY);
            for r in (0..g.kernel).filter_map(|u| g.source(i, u, h)) {
                for s in (0..g.kernel).filter_map(|v| g.source(j, v, w)) {
                    let px = &image[(r * w + s) * c..][..c];
                    out.iter_mut().zip(px).for_each(|(m, &v)| *m = m.max(v));
                }
            }
        }
    });
    Activations { data: y, dims: [g.batch, oh, ow, c] }
}

/// Each of `n` row-major `a` × `b` matrices transposed.
///
/// # Shapes
/// `x`: (N, A, B); returns (N, B, A).
fn transpose(x: &[f32], [n, a, b]: [usize; 3]) -> Scratch {
    let mut y = Scratch::take(n * a * b);
    if a == 1 || b == 1 {
        y.copy_from_slice(&x[..n * a * b]);
        return y;
    }
    y.par_chunks_mut(a * b).zip(x.par_chunks(a * b)).for_each(|(dst, src)| {
        for (j, out) in dst.chunks_exact_mut(a).enumerate() {
            out.iter_mut().enumerate().for_each(|(i, v)| *v = src[i * b + j]);
        }
    });
    y
}

#[cfg(test)]
mod tests {
    use alloc::borrow::Cow;
    use alloc::vec;

    use super::*;
    use crate::checkpoint::Floats;
    use crate::infer::program::{self, activations};
    use crate::ops::test_support::uniform;

    fn le(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// A convolution op over `bytes` (O·C·K·K weights) with a per-channel epilogue.
    fn conv(bytes: &[u8], out: usize, window: [usize; 3], seed: u64, relu: bool) -> Op<'_> {
        let scale = uniform(out, seed).iter().map(|v| v + 1.0).collect();
        let epilogue = Epilogue { scale: Some(scale), shift: uniform(out, seed + 1), relu };
        Op::Conv { weight: Floats::from_le_bytes(bytes), out_channels: out, window, epilogue }
    }

    fn norm(channels: usize, seed: u64, relu: bool) -> Op<'static> {
        let scale = uniform(channels, seed).iter().map(|v| v + 1.0).collect();
        Op::Norm(Epilogue { scale: Some(scale), shift: uniform(channels, seed + 1), relu })
    }

    /// The compiled ops give the uncompiled program's numbers on (N, C, H, W) = `shape`.
    fn assert_same(ops: &[Op<'_>], shape: [usize; 4]) {
        let [n, c, h, w] = shape;
        let x = uniform(n * c * h * w, 99);
        let want = program::run(ops, Cow::Owned(activations(&x, shape).unwrap())).unwrap().data;
        let got = Compiled::new(ops, [c, h, w]).unwrap().logits(&x, n).unwrap();
        assert_eq!(got.len(), want.len());
        let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-5 * scale, "output {i}: {a} vs {b} (scale {scale})");
        }
    }

    #[test]
    fn every_step_kind_gives_the_uncompiled_numbers() {
        let w: Vec<Vec<u8>> = [(3 * 2 * 9, 1), (3 * 3 * 9, 2), (4 * 3 * 9, 3), (4 * 3, 4), (4 * 4, 5)]
            .iter()
            .map(|&(len, seed)| le(&uniform(len, seed)))
            .collect();
        let (lw, lb) = (le(&uniform(5 * 48, 20)), le(&uniform(5, 21)));
        let (pw, pb) = (le(&uniform(5 * 4, 22)), le(&uniform(5, 23)));
        let body = vec![
            conv(&w[0], 3, [3, 1, 1], 10, true),
            Op::MaxPool([3, 2, 1]),
            Op::Residual {
                main: vec![conv(&w[1], 3, [3, 1, 1], 11, false), norm(3, 12, false)],
                shortcut: vec![],
            },
            Op::Relu,
            Op::Residual {
                main: vec![conv(&w[2], 4, [3, 2, 1], 13, true)],
                shortcut: vec![conv(&w[3], 4, [1, 2, 0], 14, false)],
            },
            norm(4, 15, false),
            Op::Relu,
            conv(&w[4], 4, [1, 1, 0], 16, false),
        ];
        // 13×11 → 13×11 → 7×6 → 4×3: the head flattens 4·4·3 values, NCHW order.
        let linear = || Op::Linear { weight: Floats::from_le_bytes(&lw), bias: Floats::from_le_bytes(&lb) };
        assert_same(&[body.clone(), vec![Op::Flatten, linear()]].concat(), [3, 2, 13, 11]);
        let pooled = Op::Linear { weight: Floats::from_le_bytes(&pw), bias: Floats::from_le_bytes(&pb) };
        assert_same(&[body, vec![Op::GlobalAvgPool, Op::Flatten, pooled]].concat(), [2, 2, 13, 11]);
    }

    #[test]
    fn a_batch_larger_than_one_group_gives_the_uncompiled_numbers() {
        // 3×3 on 1100×1100 planes: three images per group, so four images make two groups.
        let w = le(&uniform(2 * 9, 1));
        let g = Geometry2d::new([4, 1, 1100, 1100], 2, [3, 1, 1]);
        assert!(group_size(&g) < 4, "group of {}", group_size(&g));
        assert_same(&[conv(&w, 2, [3, 1, 1], 2, true)], [4, 1, 1100, 1100]);
    }

    #[test]
    fn wrong_inputs_and_sizes_are_errors() {
        let w = le(&uniform(2 * 9, 1));
        let ops = [conv(&w, 2, [3, 2, 0], 2, false)];
        let net = Compiled::new(&ops, [1, 5, 5]).unwrap();
        let e = net.logits(&[0.0; 24], 1).unwrap_err();
        assert_eq!(e.to_string(), Error::InputLength { shape: [1, 1, 5, 5], found: 24 }.to_string());
        assert!(net.logits(&[], 0).is_err());
        assert!(matches!(Compiled::new(&ops, [1, 2, 2]), Err(Error::TooSmall { kernel: 3, .. })));
        assert!(matches!(Compiled::new(&ops, [2, 5, 5]), Err(Error::Channels { found: 2, .. })));
    }
}
