//! The shape table from a real forward pass through a built model: each block's output
//! shape as the tensors have it, and its trainable parameters as dfdx counts them.

use alloc::vec::Vec;

use dfdx::nn::modules::Linear;

use crate::nn::Join;
use dfdx::nn::{Module, NumParams, TensorCollection};
use dfdx::prelude::*;

use crate::blocks::Identity;
use crate::models::{HeadModule, PreActHeadModule, StageModule};
use crate::nn::modules::{BatchNorm2D, Conv2D, Flatten2D, GlobalAvgPool2D, MaxPool2D, ReLU};
use crate::nn::ConvBias;

/// One measured row: the output shape of a real forward, and the parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measured {
    /// The output tensor's shape, batch first.
    pub output: Vec<usize>,
    /// Trainable parameters (`num_trainable_params`).
    pub params: usize,
}

/// A built module that counts as one row of the table (a layer, a block, a stage).
pub trait SingleRow {}

/// A built module that can run forward while recording its rows of the table.
pub trait LayerRows<X>: Module<X> {
    /// Runs forward, appending one row per table row this module stands for.
    fn forward_rows(&self, x: X, rows: &mut Vec<Measured>) -> Result<Self::Output, Self::Error>;
}

fn measure<S: Shape, D: Device<f32>, T, M: TensorCollection<f32, D>>(
    m: &M,
    y: &Tensor<S, f32, D, T>,
) -> Measured {
    Measured { output: y.shape().concrete().into(), params: m.num_trainable_params() }
}

impl<S, D, T, M, Y> LayerRows<Tensor<S, f32, D, T>> for M
where
    S: Shape,
    D: Device<f32>,
    M: SingleRow + Module<Tensor<S, f32, D, T>, Output = Tensor<Y, f32, D, T>> + TensorCollection<f32, D>,
    Y: Shape,
{
    fn forward_rows(
        &self,
        x: Tensor<S, f32, D, T>,
        rows: &mut Vec<Measured>,
    ) -> Result<Self::Output, Self::Error> {
        let y = self.try_forward(x)?;
        rows.push(measure(self, &y));
        Ok(y)
    }
}

impl<
        const I: usize,
        const O: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        E: Dtype,
        D: Storage<E>,
        B: ConvBias,
    > SingleRow for Conv2D<I, O, K, S, P, E, D, B>
{
}
impl<const C: usize, E: Dtype, D: Storage<E>> SingleRow for BatchNorm2D<C, E, D> {}
impl<const I: usize, const O: usize, E: Dtype, D: Storage<E>> SingleRow for Linear<I, O, E, D> {}
impl<const K: usize, const S: usize, const P: usize> SingleRow for MaxPool2D<K, S, P> {}
impl SingleRow for ReLU {}
impl SingleRow for Identity {}
impl SingleRow for GlobalAvgPool2D {}
impl SingleRow for Flatten2D {}
impl<F, R> SingleRow for Join<F, R> {}
impl<F, R, const N: usize> SingleRow for StageModule<F, R, N> {}

impl<B, H, W, D, T, const C: usize, const CLASSES: usize> LayerRows<Tensor<(B, Const<C>, H, W), f32, D, T>>
    for HeadModule<C, CLASSES, f32, D>
where
    B: Dim,
    H: Dim,
    W: Dim,
    D: Device<f32>,
    T: Tape<f32, D>,
{
    fn forward_rows(
        &self,
        x: Tensor<(B, Const<C>, H, W), f32, D, T>,
        rows: &mut Vec<Measured>,
    ) -> Result<Self::Output, D::Err> {
        let x = GlobalAvgPool2D.try_forward(x)?;
        rows.push(Measured { output: x.shape().concrete().into(), params: 0 });
        let x = Flatten2D.try_forward(x)?;
        rows.push(Measured { output: x.shape().concrete().into(), params: 0 });
        let y = self.fc.try_forward(x)?;
        rows.push(measure(&self.fc, &y));
        Ok(y)
    }
}

impl<X, D, const C: usize, const CLASSES: usize> LayerRows<X> for PreActHeadModule<C, CLASSES, f32, D>
where
    D: Device<f32>,
    Self: Module<X, Error = D::Err>,
    BatchNorm2D<C, f32, D>: LayerRows<X, Output = X, Error = D::Err>,
    ReLU: LayerRows<X, Output = X, Error = D::Err>,
    HeadModule<C, CLASSES, f32, D>: LayerRows<X, Output = Self::Output, Error = D::Err>,
{
    fn forward_rows(&self, x: X, rows: &mut Vec<Measured>) -> Result<Self::Output, D::Err> {
        let x = self.bn.forward_rows(x, rows)?;
        let x = ReLU.forward_rows(x, rows)?;
        self.head.forward_rows(x, rows)
    }
}

/// A whole model (a tuple of built blocks and layers) run forward as a table.
pub trait ModelRows<X> {
    /// The forward pass's error.
    type Error;
    /// Runs `x` through the model, one [`Measured`] row per table row.
    fn forward_table(&self, x: X) -> Result<Vec<Measured>, Self::Error>;
}

macro_rules! tuple_rows {
    ($(($m:ident, $idx:tt, $x:ident, $y:ident)),+) => {
        impl<X, Er, $($m, $y),+> ModelRows<X> for ($($m,)+)
        where
            $($m: LayerRows<$x> + Module<$x, Output = $y, Error = Er>,)+
        {
            type Error = Er;

            fn forward_table(&self, x: X) -> Result<Vec<Measured>, Er> {
                let mut rows = Vec::new();
                $(let x = self.$idx.forward_rows(x, &mut rows)?;)+
                let _ = x;
                Ok(rows)
            }
        }

        impl<$($m),+> SingleRow for ($($m,)+) {}
    };
}

tuple_rows!((A, 0, X, YA));
tuple_rows!((A, 0, X, YA), (B, 1, YA, YB));
tuple_rows!((A, 0, X, YA), (B, 1, YA, YB), (C, 2, YB, YC));
tuple_rows!((A, 0, X, YA), (B, 1, YA, YB), (C, 2, YB, YC), (M4, 3, YC, YD));
tuple_rows!((A, 0, X, YA), (B, 1, YA, YB), (C, 2, YB, YC), (M4, 3, YC, YD), (M5, 4, YD, YE));
tuple_rows!((A, 0, X, YA), (B, 1, YA, YB), (C, 2, YB, YC), (M4, 3, YC, YD), (M5, 4, YD, YE), (M6, 5, YE, YF));

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::models::ResNet18;
    use crate::summary::{Dims, ModelShape};

    /// The static table and a real forward agree on every row, at several input sizes.
    #[test]
    fn static_and_runtime_tables_agree_for_resnet18() {
        let dev = Cpu::default();
        let model = dev.build_module::<ResNet18<1, 10>, f32>();
        for (n, side) in [(1, 224), (2, 96), (3, 28), (1, 33)] {
            let expected = ResNet18::<1, 10>::table(Dims::of([n, 1, side, side])).unwrap();
            let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(n, Const, side, side));
            let measured = model.forward_table(x).unwrap();
            assert_eq!(measured.len(), expected.len());
            for (m, e) in measured.iter().zip(&expected) {
                assert_eq!(
                    (m.output.as_slice(), m.params),
                    (e.output.as_slice(), e.params),
                    "row {}",
                    e.name
                );
            }
        }
    }
}
