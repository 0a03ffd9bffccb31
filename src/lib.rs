//! Host package for examples, integration tests and benchmarks; see the `core` and `tui` crates.
