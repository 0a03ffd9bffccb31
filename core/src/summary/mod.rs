//! The layer shape table the chapter prints (`X = layer(X); print(..., X.shape)`): for a
//! model and an input shape, one row per block or layer with its output shape, its
//! parameters and its multiply-accumulates.
//!
//! The table is computed two ways, which tests hold equal:
//! - [`LayerShape`] / [`ModelShape`]: from the types alone, pure arithmetic, no tensors
//!   (available without `std`);
//! - [`LayerRows`] / [`ModelRows`]: from a real forward pass through a built model.
//!
//! A model known only by name has its table from [`table`] and [`outline`].
//!
//! Blocks (tuples, stages) are numbered `b1`, `b2`, ... as in the chapter; layers are named
//! by their kind.
//!
//! ```
//! use resnet_core::prelude::*;
//! use resnet_core::summary::{Dims, ModelShape};
//! let rows = ResNet18::<1, 10>::table(Dims::new(&[1, 1, 224, 224]).unwrap()).unwrap();
//! assert_eq!(rows[4].name, "b5");
//! assert_eq!(rows[4].output.as_slice(), &[1, 512, 7, 7]);
//! assert_eq!(rows.iter().map(|r| r.params).sum::<usize>(), 11_178_378);
//! ```

mod by_name;
mod dims;
mod runtime;
mod static_shapes;

pub(crate) use by_name::with_counts;
pub use by_name::{outline, table, SUPPORTED_CHANNELS, SUPPORTED_CLASSES};
pub use dims::Dims;
pub use runtime::{LayerRows, Measured, ModelRows, SingleRow};
pub use static_shapes::{LayerShape, ModelShape, Trace};

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// What a row is called: blocks are numbered in order (`b1`, `b2`, ...), layers named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label {
    /// A group of layers (d2l's `nn.Sequential` blocks `b1`..`b5`).
    Block,
    /// A single layer, e.g. `"linear"`.
    Layer(&'static str),
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// `b1`, `b2`, ... for blocks, the layer's kind otherwise.
    pub name: String,
    /// Output shape, batch first.
    pub output: Dims,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates of convolutions and linear layers for one forward pass of the
    /// whole batch (the paper's "FLOPs").
    pub macs: u64,
}

/// A row before naming: what [`LayerShape::rows`] and [`LayerRows::forward_rows`] produce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// How the row is named.
    pub label: Label,
    /// Output shape, batch first.
    pub output: Dims,
    /// Trainable parameters.
    pub params: usize,
    /// Multiply-accumulates (0 when measured from a forward pass).
    pub macs: u64,
}

/// One line of a model outline: a table row (depth 0) or a part of a block below it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// 0 for the table's rows, more for parts of blocks.
    pub depth: usize,
    /// How depth-0 nodes are named.
    pub label: Label,
    /// The row name (`b2`, `linear`) at depth 0; empty below.
    pub name: String,
    /// What the layer is, e.g. `residual 64->128, stride 2, 1x1 conv shortcut`.
    pub text: String,
    /// Output shape, batch first.
    pub output: Dims,
    /// Trainable parameters (of the whole block for blocks).
    pub params: usize,
    /// Multiply-accumulates (of the whole block for blocks).
    pub macs: u64,
}

/// Names the depth-0 nodes as [`name_rows`] names rows.
pub fn name_nodes(nodes: &mut [Node]) {
    let mut blocks = 0;
    for n in nodes.iter_mut().filter(|n| n.depth == 0) {
        n.name = match n.label {
            Label::Block => {
                blocks += 1;
                format!("b{blocks}")
            }
            Label::Layer(kind) => String::from(kind),
        };
    }
}

/// Names raw rows: blocks `b1`, `b2`, ... in order, layers by their kind.
pub fn name_rows(raw: Vec<RawRow>) -> Vec<Row> {
    let mut blocks = 0;
    raw.into_iter()
        .map(|r| {
            let name = match r.label {
                Label::Block => {
                    blocks += 1;
                    format!("b{blocks}")
                }
                Label::Layer(kind) => String::from(kind),
            };
            Row { name, output: r.output, params: r.params, macs: r.macs }
        })
        .collect()
}
