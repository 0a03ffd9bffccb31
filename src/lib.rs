//! Host package for the examples, integration tests and benchmarks of `resnet-core` and
//! `resnet-tui`. Its documentation is the README, whose Rust example runs as a doctest.
#![doc = include_str!("../README.md")]
