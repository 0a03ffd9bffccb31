//! [`Infer`]: how each layer type of this crate (and the dfdx layers the models use) becomes
//! inference [`Op`]s, its tensors taken by the names dfdx's `TensorCollection` gives them
//! (`1.0.0.f.0.weight`). Every model made of these types, the catalog's and a downstream
//! crate's, runs without `std` this way.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use dfdx::nn::builders::Linear;

use crate::nn::Join;

use super::kernels::Epilogue;
use super::program::Op;
use super::weights::{child, Weights};
use crate::blocks::{Identity, ResidualBlock};
use crate::models::{Head, PreActHead, Stage};
use crate::nn::builders::{BatchNorm2D, Conv2D, Flatten2D, GlobalAvgPool2D, MaxPool2D, ReLU};
use crate::nn::ConvBias;
use crate::Error;

/// A layer type (a builder, as `build_module` takes) that runs in evaluation mode without
/// `std`.
pub trait Infer {
    /// Appends this layer's ops to `out`, taking its tensors from `weights` under `path`
    /// (empty for the whole model).
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error>;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, B: ConvBias> Infer
    for Conv2D<I, O, K, S, P, B>
{
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        let weight = weights.take(&child(path, "weight"), &[O, I, K, K])?;
        let shift =
            if B::ENABLED { weights.take(&child(path, "bias"), &[O])?.to_vec() } else { vec![0.0; O] };
        let epilogue = Epilogue { scale: None, shift, relu: false };
        out.push(Op::Conv { weight, out_channels: O, window: [K, S, P], epilogue });
        Ok(())
    }
}

/// PyTorch's and this crate's batch-norm ε.
const EPSILON: f32 = 1e-5;

impl<const C: usize> Infer for BatchNorm2D<C> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        let mut take = |name| weights.take(&child(path, name), &[C]);
        let (gamma, beta, mean, var) =
            (take("scale")?, take("bias")?, take("running_mean")?, take("running_var")?);
        // (x - mean) / sqrt(var + ε) · γ + β = a·x + b
        let scale: Vec<f32> = (0..C).map(|c| gamma.at(c) / libm::sqrtf(var.at(c) + EPSILON)).collect();
        let shift = (0..C).map(|c| beta.at(c) - mean.at(c) * scale[c]).collect();
        out.push(Op::Norm(Epilogue { scale: Some(scale), shift, relu: false }));
        Ok(())
    }
}

/// Layers without tensors: their op, or none.
macro_rules! fixed_ops {
    ($($layer:ty => [$($op:expr),*]),+ $(,)?) => {$(
        impl Infer for $layer {
            fn ops<'a>(_: &str, _: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
                out.extend([$($op),*]);
                Ok(())
            }
        }
    )+};
}

fixed_ops!(
    ReLU => [Op::Relu],
    Identity => [],
    GlobalAvgPool2D => [Op::GlobalAvgPool],
    Flatten2D => [Op::Flatten],
);

impl<const K: usize, const S: usize, const P: usize> Infer for MaxPool2D<K, S, P> {
    fn ops<'a>(_: &str, _: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        out.push(Op::MaxPool([K, S, P]));
        Ok(())
    }
}

impl<const I: usize, const O: usize> Infer for Linear<I, O> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        let weight = weights.take(&child(path, "weight"), &[O, I])?;
        let bias = weights.take(&child(path, "bias"), &[O])?;
        out.push(Op::Linear { weight, bias });
        Ok(())
    }
}

impl<F: Infer, R: Infer> Infer for Join<F, R> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        let (mut main, mut shortcut) = (Vec::new(), Vec::new());
        F::ops(&child(path, "f"), weights, &mut main)?;
        R::ops(&child(path, "r"), weights, &mut shortcut)?;
        out.push(Op::Residual { main, shortcut });
        Ok(())
    }
}

/// Every residual block: its layers, under its own path (it is built as them).
impl<B: ResidualBlock> Infer for B
where
    B::Layers: Infer,
{
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        B::Layers::ops(path, weights, out)
    }
}

impl<First: Infer, Rest: Infer, const N: usize> Infer for Stage<First, Rest, N> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        First::ops(&child(path, "0"), weights, out)?;
        for i in 1..N {
            Rest::ops(&child(path, &format!("{i}")), weights, out)?;
        }
        Ok(())
    }
}

impl<const C: usize, const CLASSES: usize> Infer for Head<C, CLASSES> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        out.extend([Op::GlobalAvgPool, Op::Flatten]);
        Linear::<C, CLASSES>::ops(&child(path, "fc"), weights, out)
    }
}

impl<const C: usize, const CLASSES: usize> Infer for PreActHead<C, CLASSES> {
    fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
        BatchNorm2D::<C>::ops(&child(path, "bn"), weights, out)?;
        out.push(Op::Relu);
        Head::<C, CLASSES>::ops(&child(path, "head"), weights, out)
    }
}

/// Tuples run their members in order, named `0`, `1`, ... as dfdx names them.
macro_rules! tuple_ops {
    ($([$($m:ident $i:literal),+]),+) => {$(
        impl<$($m: Infer),+> Infer for ($($m,)+) {
            fn ops<'a>(path: &str, weights: &mut Weights<'a>, out: &mut Vec<Op<'a>>) -> Result<(), Error> {
                $($m::ops(&child(path, stringify!($i)), weights, out)?;)+
                Ok(())
            }
        }
    )+};
}

/// Calls `$impl!` with the tuple sizes the models use (1 to 6), each member a type parameter
/// and its index: `[M1 0], [M1 0, M2 1], ...`.
macro_rules! tuple_arities {
    ($impl:ident) => {
        $impl!(
            [M1 0],
            [M1 0, M2 1],
            [M1 0, M2 1, M3 2],
            [M1 0, M2 1, M3 2, M4 3],
            [M1 0, M2 1, M3 2, M4 3, M5 4],
            [M1 0, M2 1, M3 2, M4 3, M5 4, M6 5]
        );
    };
}
#[cfg(feature = "std")]
pub(crate) use tuple_arities;

tuple_arities!(tuple_ops);
