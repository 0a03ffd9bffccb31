//! Int8 inference without `std` or a heap, and post-training quantization (with `std`).
//!
//! - [`Int8Model`]: an int8 model file read in place and checked ([`Int8Model::parse`]),
//!   run on one caller-given arena of `header.arena_len` bytes ([`Int8Model::logits`]):
//!   convolutions with requantization, residual add and ReLU in their epilogue, pooling,
//!   the classifier in int8 with int32 accumulation. The same integers on every target.
//! - [`quantize`] (std): a checkpoint's or weights file's model quantized as TFLite does
//!   (weights per output channel, symmetric; activations per tensor, asymmetric, ranges
//!   calibrated on sample images; fixed-point requantization), for one input size.

#[cfg(feature = "std")]
mod calibrate;
mod dot;
mod error;
mod fixed_point;
mod format;
#[cfg(feature = "std")]
mod graph;
mod kernels;
#[cfg(feature = "std")]
mod memory_plan;
#[cfg(feature = "std")]
mod quantize;
mod run;

pub use error::Int8Error;
pub use fixed_point::{quantize_multiplier, requantize};
pub use format::{Header, Int8Model, Step, INT8_MAGIC, VERSION};

#[cfg(feature = "std")]
pub use std_api::quantize;

#[cfg(feature = "std")]
mod std_api {
    use alloc::string::ToString;
    use alloc::vec::Vec;

    use super::calibrate::Ranges;
    use super::graph::Graph;
    use crate::infer::{Network, Weights};
    use crate::models::with_model;
    use crate::summary::with_counts;
    use crate::Error;

    /// Images run at once while calibrating.
    const CALIBRATION_BATCH: usize = 32;

    /// The model in `weights` (a checkpoint's or weights file's bytes) quantized to an int8
    /// model file for images of `calibration`'s size, its activation ranges taken from
    /// those images.
    ///
    /// # Shapes
    /// `calibration`: (N, C, H, W) as `shape` says, pixels scaled as in training.
    pub fn quantize(weights: &[u8], calibration: &[f32], shape: [usize; 4]) -> Result<Vec<u8>, Error> {
        let file = Weights::parse_for(weights, shape[1])?;
        let (model, channels, classes) = (file.header.model, file.header.in_channels, file.header.classes);
        let [n, c, h, w] = shape;
        if n == 0 || calibration.len() != n * c * h * w {
            return Err(Error::InputLength { shape, found: calibration.len() });
        }
        with_model!(model, M => with_counts!(M, channels, classes, T => {
            let network = Network::<T>::from_weights(file)?;
            let graph = Graph::lower(network.ops(), [h, w, c])?;
            let mut ranges = Ranges::new(graph.dims.len());
            for batch in calibration.chunks(CALIBRATION_BATCH * c * h * w) {
                ranges.observe_batch(&graph, batch);
            }
            super::quantize::quantize(&graph, &ranges, &model.to_string())
        }))
    }
}
