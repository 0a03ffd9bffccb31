//! Inference without `std` (`alloc` only): every catalog model, in evaluation mode (batch
//! norm with its running statistics), straight from a checkpoint's or weights-only file's
//! bytes, single-threaded and deterministic. The weights are read in place (a firmware can
//! keep them in flash); batch norms after convolutions and ReLUs fold into the
//! convolutions' epilogues.
//!
//! - [`logits`]: the model the file names, for its input channels and classes.
//! - [`Network`]: a model type of yours made of this crate's layers ([`Infer`]).
//! - [`Compiled`] (std): a [`Network`] compiled for one image size, channels-last and
//!   parallel: the fast way to evaluate on a CPU.
//!
//! The `std` build trains with its own fast kernels; tests hold both to the same numbers.

#[cfg(feature = "std")]
mod compiled;
pub(crate) mod kernels;
mod layers;
mod network;
mod program;
mod weights;

use alloc::vec::Vec;

#[cfg(feature = "std")]
pub use compiled::Compiled;
pub use kernels::Epilogue;
#[cfg(feature = "std")]
pub(crate) use layers::tuple_arities;
pub use layers::Infer;
pub use network::Network;
#[cfg(feature = "std")]
pub(crate) use program::{conv_geometry, expect_channels, geometry};
pub use program::{Activations, Op};
#[cfg(feature = "std")]
pub(crate) use weights::child;
pub use weights::Weights;

use crate::models::with_model;
use crate::summary::with_counts;
use crate::Error;

/// The logits of `images` by the model whose weights `weights` holds (a checkpoint's or a
/// weights-only file's bytes).
///
/// A corrupt file, images whose length is not `shape`'s, or a shape the model cannot take
/// is an [`Error`].
///
/// # Shapes
/// `images`: (N, C, H, W) row-major as `shape` says, pixels scaled to [0, 1] as in training;
/// returns (N, classes) row-major.
pub fn logits(weights: &[u8], images: &[f32], shape: [usize; 4]) -> Result<Vec<f32>, Error> {
    let file = Weights::parse_for(weights, shape[1])?;
    let (model, channels, classes) = (file.header.model, file.header.in_channels, file.header.classes);
    with_model!(model, M => with_counts!(M, channels, classes, T => {
        Network::<T>::from_weights(file)?.logits(images, shape)
    }))
}

/// Checks that `weights` (a checkpoint's or weights-only file's bytes, from `source`) holds
/// exactly its model's tensors, each in the shape the header's input channels and classes
/// give.
pub fn check(weights: &[u8], source: &str) -> Result<(), Error> {
    let file = Weights::parse_named(weights, source)?;
    let (model, channels, classes) = (file.header.model, file.header.in_channels, file.header.classes);
    with_model!(model, M => with_counts!(M, channels, classes, T => {
        Network::<T>::from_weights(file).map(|_| ())
    }))
}

/// The model whose weights `weights` holds, compiled for images of `input` = (C, H, W)
/// ([`Network::compile`]).
#[cfg(feature = "std")]
pub fn compile(weights: &[u8], input: [usize; 3]) -> Result<Compiled, Error> {
    let file = Weights::parse_for(weights, input[0])?;
    let (model, channels, classes) = (file.header.model, file.header.in_channels, file.header.classes);
    with_model!(model, M => with_counts!(M, channels, classes, T => {
        Network::<T>::from_weights(file)?.compile(input)
    }))
}
