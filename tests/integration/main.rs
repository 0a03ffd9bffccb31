//! Integration tests of resnet-core as a downstream crate uses it (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod block_training;
mod compile_time;
mod data;
mod embedded;
mod family;
mod inference;
mod pytorch;
mod quantized;
mod shapes;
mod soak;
mod support;
mod torchvision;
mod training;
mod training_step;
