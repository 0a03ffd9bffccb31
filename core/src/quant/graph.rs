//! A model's inference [`Op`]s (batch norms and ReLUs folded) lowered into a straight line
//! of steps over numbered tensors, for one input size: what calibration runs in `f32` and
//! quantization turns into an int8 file. A residual join becomes its shortcut's steps,
//! its main path's, and the main path's last convolution adding the shortcut in its
//! epilogue, in place of the shortcut (so the block needs no buffer for its sum).

use alloc::vec::Vec;

use crate::checkpoint::Floats;
use crate::infer::{Epilogue, Op};
use crate::quant::format::out_size;
use crate::Error;

/// A tensor's H, W, C (one image).
pub type Dims = [usize; 3];

/// One step in `f32`, reading and writing tensors by number.
#[derive(Clone, Debug)]
pub enum FloatStep<'a> {
    /// `epilogue(conv(src))`, then `+ residual` and ReLU if `relu_after`.
    Conv {
        /// Input tensor.
        src: usize,
        /// Output tensor.
        dst: usize,
        /// Tensor added in the epilogue; `dst` takes its buffer.
        residual: Option<usize>,
        /// (O, C, K, K).
        weight: Floats<'a>,
        /// K, stride, padding.
        window: [usize; 3],
        /// Folded batch norm and bias (and a ReLU before any residual).
        epilogue: Epilogue,
        /// ReLU after the residual add.
        relu_after: bool,
    },
    /// A per-channel affine map (batch norm on its own, or a lone ReLU).
    Affine {
        /// Input tensor.
        src: usize,
        /// Output tensor.
        dst: usize,
        /// Scale, shift, ReLU.
        epilogue: Epilogue,
    },
    /// Max-pooling.
    MaxPool {
        /// Input tensor.
        src: usize,
        /// Output tensor.
        dst: usize,
        /// K, stride, padding.
        window: [usize; 3],
    },
    /// Global average pooling.
    AvgPool {
        /// Input tensor.
        src: usize,
        /// Output tensor (1, 1, C).
        dst: usize,
    },
    /// The classifier, last.
    Linear {
        /// Input tensor (1, 1, C).
        src: usize,
        /// (classes, C).
        weight: Floats<'a>,
        /// (classes,).
        bias: Floats<'a>,
    },
}

impl FloatStep<'_> {
    /// The tensors it reads (a residual's included).
    pub fn reads(&self) -> impl Iterator<Item = usize> {
        let (src, residual) = match self {
            FloatStep::Conv { src, residual, .. } => (*src, *residual),
            FloatStep::Affine { src, .. }
            | FloatStep::MaxPool { src, .. }
            | FloatStep::AvgPool { src, .. }
            | FloatStep::Linear { src, .. } => (*src, None),
        };
        core::iter::once(src).chain(residual)
    }

    /// The tensor it writes (none for the classifier).
    pub fn writes(&self) -> Option<usize> {
        match self {
            FloatStep::Conv { dst, .. }
            | FloatStep::Affine { dst, .. }
            | FloatStep::MaxPool { dst, .. }
            | FloatStep::AvgPool { dst, .. } => Some(*dst),
            FloatStep::Linear { .. } => None,
        }
    }
}

/// Tensors and steps; tensor 0 is the input.
#[derive(Clone, Debug)]
pub struct Graph<'a> {
    /// Each tensor's shape.
    pub dims: Vec<Dims>,
    /// The tensor whose buffer each one reuses (a residual sum takes its shortcut's).
    pub shares: Vec<Option<usize>>,
    /// The steps, in order; the last is the classifier.
    pub steps: Vec<FloatStep<'a>>,
    /// Classes.
    pub classes: usize,
}

impl<'a> Graph<'a> {
    /// `ops` lowered for input `dims` (H, W, C); an error for a layer it cannot lower or
    /// an input too small.
    pub fn lower(ops: &[Op<'a>], dims: Dims) -> Result<Self, Error> {
        let mut g =
            Graph { dims: alloc::vec![dims], shares: alloc::vec![None], steps: Vec::new(), classes: 0 };
        let out = g.sequence(ops, 0)?;
        if !matches!(g.steps.last(), Some(FloatStep::Linear { .. })) || out != usize::MAX {
            return Err(unsupported("a model that does not end in a linear classifier"));
        }
        Ok(g)
    }

    fn tensor(&mut self, dims: Dims) -> usize {
        self.dims.push(dims);
        self.shares.push(None);
        self.dims.len() - 1
    }

    /// Lowers `ops` applied to tensor `x`; returns the tensor they produce (`usize::MAX`
    /// after the classifier).
    fn sequence(&mut self, ops: &[Op<'a>], mut x: usize) -> Result<usize, Error> {
        for op in ops {
            if x == usize::MAX {
                return Err(unsupported("layers after the classifier"));
            }
            x = self.op(op, x)?;
        }
        Ok(x)
    }

    fn op(&mut self, op: &Op<'a>, x: usize) -> Result<usize, Error> {
        let [h, w, c] = self.dims[x];
        Ok(match op {
            Op::Conv { weight, out_channels, window, epilogue } => {
                let k = window[0];
                if weight.len() != out_channels * c * k * k {
                    return Err(Error::Channels {
                        layer: "conv2d",
                        expected: weight.len() / (out_channels * k * k).max(1),
                        found: c,
                    });
                }
                let dst = self.window_output(x, *window, *out_channels, "conv2d")?;
                self.steps.push(FloatStep::Conv {
                    src: x,
                    dst,
                    residual: None,
                    weight: *weight,
                    window: *window,
                    epilogue: epilogue.clone(),
                    relu_after: false,
                });
                dst
            }
            Op::Norm(epilogue) => {
                if epilogue.shift.len() != c {
                    return Err(Error::Channels {
                        layer: "batch norm",
                        expected: epilogue.shift.len(),
                        found: c,
                    });
                }
                let dst = self.tensor([h, w, c]);
                self.steps.push(FloatStep::Affine { src: x, dst, epilogue: epilogue.clone() });
                dst
            }
            Op::Relu => match self.steps.last_mut() {
                Some(FloatStep::Conv { dst, residual: Some(_), relu_after, .. })
                    if *dst == x && !*relu_after =>
                {
                    *relu_after = true;
                    x
                }
                Some(
                    FloatStep::Conv { dst, residual: None, epilogue, .. }
                    | FloatStep::Affine { dst, epilogue, .. },
                ) if *dst == x && !epilogue.relu => {
                    epilogue.relu = true;
                    x
                }
                _ => {
                    let dst = self.tensor([h, w, c]);
                    let epilogue = Epilogue { scale: None, shift: alloc::vec![0.0; c], relu: true };
                    self.steps.push(FloatStep::Affine { src: x, dst, epilogue });
                    dst
                }
            },
            Op::MaxPool(window) => {
                let dst = self.window_output(x, *window, c, "max pool")?;
                self.steps.push(FloatStep::MaxPool { src: x, dst, window: *window });
                dst
            }
            Op::GlobalAvgPool => {
                let dst = self.tensor([1, 1, c]);
                self.steps.push(FloatStep::AvgPool { src: x, dst });
                dst
            }
            Op::Flatten if h * w == 1 => x,
            Op::Flatten => return Err(Error::NotFlat { layer: "int8 flatten", found: (h, w) }),
            Op::Linear { weight, bias } => {
                if h * w != 1 {
                    return Err(Error::NotFlat { layer: "int8 linear", found: (h, w) });
                }
                if weight.len() != bias.len() * c {
                    return Err(Error::Channels {
                        layer: "linear",
                        expected: weight.len() / bias.len().max(1),
                        found: c,
                    });
                }
                self.classes = bias.len();
                self.steps.push(FloatStep::Linear { src: x, weight: *weight, bias: *bias });
                usize::MAX
            }
            Op::Residual { main, shortcut } => self.residual(main, shortcut, x)?,
        })
    }

    /// A new tensor for a window op on `x` with `channels` outputs.
    fn window_output(
        &mut self,
        x: usize,
        [k, s, p]: [usize; 3],
        channels: usize,
        layer: &'static str,
    ) -> Result<usize, Error> {
        let [h, w, _] = self.dims[x];
        let (oh, ow) = (out_size(h, k, s, p), out_size(w, k, s, p));
        if oh == 0 || ow == 0 {
            return Err(Error::TooSmall { layer, input: (h, w), kernel: k, padding: p });
        }
        Ok(self.tensor([oh, ow, channels]))
    }

    fn residual(&mut self, main: &[Op<'a>], shortcut: &[Op<'a>], x: usize) -> Result<usize, Error> {
        let Some((Op::Conv { epilogue, .. }, body)) = main.split_last() else {
            return Err(unsupported("a residual block whose main path does not end in a convolution"));
        };
        if epilogue.relu {
            return Err(unsupported("a residual block with a ReLU before its add"));
        }
        let s = self.sequence(shortcut, x)?;
        let m = self.sequence(body, x)?;
        if m == s {
            return Err(unsupported("a residual block of one convolution and an identity shortcut"));
        }
        let y = self.op(&main[main.len() - 1], m)?;
        if self.dims[y] != self.dims[s] {
            let dims = |[h, w, c]: Dims| alloc::vec![c, h, w];
            return Err(Error::Branches { main: dims(self.dims[y]), shortcut: dims(self.dims[s]) });
        }
        if let Some(FloatStep::Conv { residual, .. }) = self.steps.last_mut() {
            *residual = Some(s);
        }
        self.shares[y] = Some(s);
        Ok(y)
    }
}

fn unsupported(what: &str) -> Error {
    Error::Quantize { reason: what.into() }
}
