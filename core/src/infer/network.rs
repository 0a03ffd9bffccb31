//! A model type ready to classify: its [`Op`]s, built once from a file's bytes, whose
//! weights stay in those bytes.

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::marker::PhantomData;

use super::layers::Infer;
use super::program::{activations, fold, run, Op};
use super::weights::Weights;
use crate::Error;

/// Model type `M` (a builder, e.g. `ResNet8<1, 10>`) in evaluation mode, with the weights
/// of a checkpoint or weights-only file; the file's bytes must outlive it.
///
/// ```
/// use resnet_core::infer::Network;
/// use resnet_core::prelude::*;
/// # fn run(bytes: &[u8], image: &[f32]) -> Result<(), resnet_core::Error> {
/// let net = Network::<ResNet8<1, 10>>::from_bytes(bytes)?;
/// let logits = net.logits(image, [1, 1, 28, 28])?;
/// assert_eq!(logits.len(), 10);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Network<'a, M> {
    ops: Vec<Op<'a>>,
    model: PhantomData<M>,
}

impl<'a, M: Infer> Network<'a, M> {
    /// Reads `bytes` (framing, CRC, every tensor of `M` by name and shape, none left over)
    /// and folds the batch norms into the convolutions.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        Self::from_weights(Weights::parse(bytes)?)
    }

    /// As [`Network::from_bytes`], from an already parsed file.
    pub fn from_weights(mut weights: Weights<'a>) -> Result<Self, Error> {
        let mut ops = Vec::new();
        M::ops("", &mut weights, &mut ops)?;
        weights.finish()?;
        Ok(Network { ops: fold(ops), model: PhantomData })
    }

    /// The ops it runs, batch norms and ReLUs folded.
    pub fn ops(&self) -> &[Op<'a>] {
        &self.ops
    }

    /// The network compiled for images of `input` = (C, H, W) on this CPU's threads
    /// (weights copied out of the file's bytes, batch norms folded into them): an error when
    /// a layer does not fit that size.
    #[cfg(feature = "std")]
    pub fn compile(&self, input: [usize; 3]) -> Result<super::Compiled, Error> {
        super::Compiled::new(&self.ops, input)
    }

    /// The logits of `images`.
    ///
    /// # Shapes
    /// `images`: (N, C, H, W) as `shape` says, pixels in [0, 1]; returns (N, CLASSES).
    pub fn logits(&self, images: &[f32], shape: [usize; 4]) -> Result<Vec<f32>, Error> {
        let y = run(&self.ops, Cow::Owned(activations(images, shape)?))?;
        Ok(y.data)
    }
}
