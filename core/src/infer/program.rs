//! A model in evaluation mode as a list of [`Op`]s over NCHW activations, and how it runs:
//! batch norms after a convolution and the ReLUs after either are folded into the
//! convolution's epilogue ([`fold`]); a residual join runs its main path on the borrowed
//! input, so that an identity shortcut costs no copy.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::kernels::{self, Epilogue};
use crate::checkpoint::Floats;
use crate::ops::{reference, Geometry2d};
use crate::Error;

/// One step of a model in evaluation mode.
#[derive(Clone, Debug, PartialEq)]
pub enum Op<'a> {
    /// A convolution, its weights (O, C, K, K) left in the file's bytes.
    Conv {
        /// Filters, (O, C, K, K).
        weight: Floats<'a>,
        /// O.
        out_channels: usize,
        /// K, the stride and the zero padding.
        window: [usize; 3],
        /// Bias, folded batch norm, ReLU.
        epilogue: Epilogue,
    },
    /// A batch norm with its running statistics (and a ReLU, once folded).
    Norm(Epilogue),
    /// `max(x, 0)`.
    Relu,
    /// Max-pooling: kernel, stride, padding (counting as `-inf`).
    MaxPool([usize; 3]),
    /// The mean of each channel: (N, C, H, W) → (N, C, 1, 1).
    GlobalAvgPool,
    /// (N, C, H, W) → (N, C·H·W).
    Flatten,
    /// `x · weightᵀ + bias`, weight (O, I).
    Linear {
        /// (O, I).
        weight: Floats<'a>,
        /// (O,).
        bias: Floats<'a>,
    },
    /// `main(x) + shortcut(x)`; an empty shortcut is the identity.
    Residual {
        /// The main path.
        main: Vec<Op<'a>>,
        /// The shortcut.
        shortcut: Vec<Op<'a>>,
    },
}

/// A batch of activations: (N, C, H, W), or (N, F, 1, 1) once flattened.
#[derive(Clone, Debug, PartialEq)]
pub struct Activations {
    /// The elements, row-major.
    pub data: Vec<f32>,
    /// N, C, H, W.
    pub dims: [usize; 4],
}

/// `ops` with every batch norm that follows a convolution folded into it, and every ReLU
/// that follows a convolution or a batch norm folded into its epilogue.
pub fn fold(ops: Vec<Op<'_>>) -> Vec<Op<'_>> {
    let mut out: Vec<Op<'_>> = Vec::with_capacity(ops.len());
    for op in ops {
        match (out.last_mut(), op) {
            (Some(Op::Conv { epilogue, .. }), Op::Norm(norm)) if !epilogue.relu => {
                // a·(s·x + t) + b = (a·s)·x + (a·t + b)
                let a = norm.scale.unwrap_or_default();
                let scale = match &epilogue.scale {
                    Some(s) => a.iter().zip(s).map(|(a, s)| a * s).collect(),
                    None => a.clone(),
                };
                let shift =
                    a.iter().zip(&epilogue.shift).zip(&norm.shift).map(|((a, t), b)| a * t + b).collect();
                *epilogue = Epilogue { scale: Some(scale), shift, relu: norm.relu };
            }
            (Some(Op::Conv { epilogue, .. } | Op::Norm(epilogue)), Op::Relu) if !epilogue.relu => {
                epilogue.relu = true;
            }
            (_, Op::Residual { main, shortcut }) => {
                out.push(Op::Residual { main: fold(main), shortcut: fold(shortcut) });
            }
            (_, op) => out.push(op),
        }
    }
    out
}

/// Runs `ops` on `x`.
pub fn run(ops: &[Op<'_>], x: Cow<'_, Activations>) -> Result<Activations, Error> {
    let mut x = x;
    for op in ops {
        x = Cow::Owned(step(op, x)?);
    }
    Ok(x.into_owned())
}

fn step(op: &Op<'_>, x: Cow<'_, Activations>) -> Result<Activations, Error> {
    let [n, c, h, w] = x.dims;
    Ok(match op {
        Op::Conv { weight, out_channels, window, epilogue } => {
            let g = conv_geometry(weight.len(), *out_channels, *window, x.dims)?;
            Activations { data: kernels::conv2d(&x.data, *weight, &g, epilogue), dims: out_dims(&g) }
        }
        Op::Norm(epilogue) => {
            expect_channels("batch norm", epilogue.shift.len(), c)?;
            let mut x = x.into_owned();
            kernels::affine(&mut x.data, c, h * w, epilogue);
            x
        }
        Op::Relu => {
            let mut x = x.into_owned();
            kernels::relu(&mut x.data);
            x
        }
        Op::MaxPool(window) => {
            let g = geometry("max pool", x.dims, c, *window)?;
            Activations { data: reference::max_pool2d(&x.data, &g), dims: out_dims(&g) }
        }
        Op::GlobalAvgPool => {
            Activations { data: kernels::global_avg_pool(&x.data, h * w), dims: [n, c, 1, 1] }
        }
        Op::Flatten => Activations { dims: [n, c * h * w, 1, 1], ..x.into_owned() },
        Op::Linear { weight, bias } => {
            let inputs = c * h * w;
            expect_channels("linear", weight.len() / bias.len().max(1), inputs)?;
            Activations {
                data: kernels::linear(&x.data, inputs, *weight, *bias),
                dims: [n, bias.len(), 1, 1],
            }
        }
        Op::Residual { main, shortcut } => {
            let mut y = run(main, Cow::Borrowed(&*x))?;
            let s = if shortcut.is_empty() { x } else { Cow::Owned(run(shortcut, Cow::Borrowed(&*x))?) };
            if y.dims != s.dims {
                return Err(Error::Branches { main: y.dims.to_vec(), shortcut: s.dims.to_vec() });
            }
            kernels::add(&mut y.data, &s.data);
            y
        }
    })
}

/// The geometry of a convolution with `weight_len` weights, `out_channels` filters and
/// `window` on inputs of `dims` (N, C, H, W); an error when the weights do not fit C.
pub(crate) fn conv_geometry(
    weight_len: usize,
    out_channels: usize,
    window: [usize; 3],
    dims: [usize; 4],
) -> Result<Geometry2d, Error> {
    let taps = window[0] * window[0];
    if weight_len != out_channels * taps * dims[1] {
        return Err(Error::Channels {
            layer: "conv2d",
            expected: weight_len / (out_channels * taps).max(1),
            found: dims[1],
        });
    }
    geometry("conv2d", dims, out_channels, window)
}

/// The geometry of a window op on inputs of `dims` (N, C, H, W); an error when its output
/// would be empty.
pub(crate) fn geometry(
    layer: &'static str,
    [n, c, h, w]: [usize; 4],
    out: usize,
    window: [usize; 3],
) -> Result<Geometry2d, Error> {
    let [k, s, p] = window;
    let g = Geometry2d::new([n, c, h, w], out, window);
    if s == 0 || g.out_height == 0 || g.out_width == 0 {
        return Err(Error::TooSmall { layer, input: (h, w), kernel: k, padding: p });
    }
    Ok(g)
}

fn out_dims(g: &Geometry2d) -> [usize; 4] {
    [g.batch, g.out_channels, g.out_height, g.out_width]
}

/// An error unless a layer that expects `expected` channels (or inputs) gets `found`.
pub(crate) fn expect_channels(layer: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Channels { layer, expected, found })
    }
}

/// Checks that `images` holds `shape` (N, C, H, W) and wraps it.
pub fn activations(images: &[f32], shape: [usize; 4]) -> Result<Activations, Error> {
    let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    if expected != Some(images.len()) || shape.contains(&0) {
        return Err(Error::InputLength { shape, found: images.len() });
    }
    Ok(Activations { data: images.to_vec(), dims: shape })
}
