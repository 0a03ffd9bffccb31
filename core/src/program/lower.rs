//! [`Lower`]: how each layer type of this crate (and the dfdx layers the models use) becomes
//! training nodes, its tensors named as dfdx's `TensorCollection` names them
//! (`1.0.0.f.0.weight`) — the training side of [`crate::infer::Infer`]. Every model made of
//! these types, the catalog's and a downstream crate's, compiles into a [`super::TrainProgram`].

use alloc::format;

use dfdx::nn::builders::Linear;

use super::graph::{Builder, Value};
use crate::blocks::{Identity, ResidualBlock};
use crate::infer::child;
use crate::models::{Head, PreActHead, Stage};
use crate::nn::builders::{BatchNorm2D, Conv2D, Flatten2D, GlobalAvgPool2D, MaxPool2D, ReLU};
use crate::nn::{ConvBias, Join};
use crate::Error;

/// A layer type (a builder, as `build_module` takes) that lowers into training nodes.
pub trait Lower {
    /// Appends this layer's nodes for input `x` to `b`, its tensors under `path` (empty for
    /// the whole model), and returns its output.
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error>;
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, B: ConvBias> Lower
    for Conv2D<I, O, K, S, P, B>
{
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        b.conv(path, x, O, [K, S, P], B::ENABLED)
    }
}

impl<const C: usize> Lower for BatchNorm2D<C> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        b.norm(path, x, C)
    }
}

impl Lower for ReLU {
    fn lower(_: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        Ok(b.relu(x))
    }
}

impl Lower for Identity {
    fn lower(_: &str, _: &mut Builder, x: Value) -> Result<Value, Error> {
        Ok(x)
    }
}

impl Lower for GlobalAvgPool2D {
    fn lower(_: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        Ok(b.global_avg_pool(x))
    }
}

impl Lower for Flatten2D {
    fn lower(_: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        Ok(b.flatten(x))
    }
}

impl<const K: usize, const S: usize, const P: usize> Lower for MaxPool2D<K, S, P> {
    fn lower(_: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        b.max_pool(x, [K, S, P])
    }
}

impl<const I: usize, const O: usize> Lower for Linear<I, O> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        b.linear(path, x, I, O)
    }
}

impl<F: Lower, R: Lower> Lower for Join<F, R> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        let main = F::lower(&child(path, "f"), b, x)?;
        let shortcut = R::lower(&child(path, "r"), b, x)?;
        b.add(main, shortcut)
    }
}

/// Every residual block: its layers, under its own path (it is built as them).
impl<B: ResidualBlock> Lower for B
where
    B::Layers: Lower,
{
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        B::Layers::lower(path, b, x)
    }
}

impl<First: Lower, Rest: Lower, const N: usize> Lower for Stage<First, Rest, N> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        let mut y = First::lower(&child(path, "0"), b, x)?;
        for i in 1..N {
            y = Rest::lower(&child(path, &format!("{i}")), b, y)?;
        }
        Ok(y)
    }
}

impl<const C: usize, const CLASSES: usize> Lower for Head<C, CLASSES> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        let pooled = b.global_avg_pool(x);
        let flat = b.flatten(pooled);
        Linear::<C, CLASSES>::lower(&child(path, "fc"), b, flat)
    }
}

impl<const C: usize, const CLASSES: usize> Lower for PreActHead<C, CLASSES> {
    fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
        let y = BatchNorm2D::<C>::lower(&child(path, "bn"), b, x)?;
        let y = b.relu(y);
        Head::<C, CLASSES>::lower(&child(path, "head"), b, y)
    }
}

/// Tuples run their members in order, named `0`, `1`, ... as dfdx names them.
macro_rules! tuple_lower {
    ($([$($m:ident $i:literal),+]),+) => {$(
        impl<$($m: Lower),+> Lower for ($($m,)+) {
            fn lower(path: &str, b: &mut Builder, x: Value) -> Result<Value, Error> {
                let y = x;
                $(let y = $m::lower(&child(path, stringify!($i)), b, y)?;)+
                Ok(y)
            }
        }
    )+};
}

crate::infer::tuple_arities!(tuple_lower);
