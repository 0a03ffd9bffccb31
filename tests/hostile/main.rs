//! Hostile input: mutated and truncated IDX files (raw and gzip), checkpoints and
//! safetensors files, property-tested, and a corpus of crafted bad files with the error each
//! must give. Every case must end in a typed error or a valid result: no panic, no hang, and
//! no allocation beyond what the file's size justifies (measured by a counting allocator).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod checkpoints;
mod corpus;
mod idx_files;
mod meter;
mod mutation;
mod safetensors_files;

#[global_allocator]
static METER: meter::Meter = meter::Meter;
