//! Training programs compiled from model types (std): the way a model trains fast on the
//! CPU, beside dfdx's tape.
//!
//! The model type stays the definition: each layer type lowers itself into training nodes
//! ([`Lower`], the training side of [`crate::infer::Infer`]), its tensors named as dfdx's
//! `TensorCollection` names them, so checkpoints, PyTorch export and the gradient-flow
//! report see the same tensors. A [`TrainProgram`] owns its buffers — parameters, gradients
//! and momentum flat, activations channels-last for a batch size — and runs a step as the
//! forward pass, mean cross-entropy, the backward pass in reverse order and one SGD pass,
//! with nothing handed to or copied out of dfdx. dfdx's tape stays the path for other
//! devices and the oracle the tests hold the program to.
//!
//! The design follows oneDNN (channels-last end to end) and llm.c (one allocation per kind
//! of buffer, an explicit backward, activation gradients written rather than accumulated).

mod executor;
mod graph;
mod kernels;
mod lower;
mod sgd;
mod store;

pub use executor::TrainProgram;
pub use graph::{Builder, Value};
pub use lower::Lower;
