//! Integration tests of resnet-core as a downstream crate uses it (one test binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod compile_time;
mod data;
mod pytorch;
mod shapes;
mod support;
mod training;
mod training_step;
