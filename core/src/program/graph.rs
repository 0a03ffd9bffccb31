//! A training program as a model type lowers into it ([`super::Lower`]): values (a batch of
//! activations each, channels-last), nodes in forward order, and the parameters they read by
//! the names dfdx's `TensorCollection` gives them.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::infer::{child, conv_geometry, expect_channels, geometry};
use crate::ops::Geometry2d;
use crate::Error;

/// An activation of the program: a batch of images of one size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Value(pub(crate) usize);

/// One named tensor of the model in the program's flat buffers.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ParamSpec {
    /// `1.0.0.f.0.weight`.
    pub name: String,
    /// As the model's tensor has it, e.g. (O, C, K, K).
    pub shape: Vec<usize>,
    /// Where its elements start in the flat buffers.
    pub offset: usize,
    /// Elements.
    pub len: usize,
    /// Whether SGD moves it (batch norm's running statistics are not trained).
    pub trainable: bool,
}

/// A parameter, by its index in the program's table.
pub(crate) type Param = usize;

/// One step of the forward pass; the backward pass runs the nodes in reverse.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// `y = conv(x, weight) + bias`, geometry for one image.
    Conv { x: usize, y: usize, weight: Param, bias: Option<Param>, g: Geometry2d },
    /// Batch norm in training mode, then ReLU if `relu`.
    Norm { x: usize, y: usize, scale: Param, bias: Param, mean: Param, var: Param, relu: bool },
    /// `y = max(x, 0)`.
    Relu { x: usize, y: usize },
    /// Max-pooling over `-inf` padding, geometry for one image.
    MaxPool { x: usize, y: usize, g: Geometry2d },
    /// The mean of each channel: (H, W, C) → (1, 1, C).
    GlobalAvgPool { x: usize, y: usize },
    /// (H, W, C) → (C·H·W) in NCHW order, as dfdx flattens.
    Flatten { x: usize, y: usize },
    /// `y = x · weightᵀ + bias`, weight (O, I).
    Linear { x: usize, y: usize, weight: Param, bias: Param },
    /// `y = a + b`, then ReLU if `relu` (a residual join).
    Add { a: usize, b: usize, y: usize, relu: bool },
}

impl Node {
    /// The values the node reads.
    pub fn inputs(&self) -> Vec<usize> {
        let mut read = Vec::new();
        self.clone().map_inputs(|v| {
            read.push(v);
            v
        });
        read
    }

    /// Replaces each value the node reads by `f(value)`, in order.
    pub fn map_inputs(&mut self, f: impl FnMut(usize) -> usize) {
        self.map_values(f, |y| y);
    }

    /// The value the node writes.
    pub fn output(&self) -> usize {
        let mut output = 0;
        self.clone().map_values(
            |x| x,
            |y| {
                output = y;
                y
            },
        );
        output
    }

    /// Replaces each value the node reads by `read(value)`, in order, and the one it writes
    /// by `write(value)`.
    fn map_values(&mut self, mut read: impl FnMut(usize) -> usize, write: impl FnOnce(usize) -> usize) {
        match self {
            Node::Add { a, b, y, .. } => (*a, *b, *y) = (read(*a), read(*b), write(*y)),
            Node::Conv { x, y, .. }
            | Node::Norm { x, y, .. }
            | Node::Relu { x, y }
            | Node::MaxPool { x, y, .. }
            | Node::GlobalAvgPool { x, y }
            | Node::Flatten { x, y }
            | Node::Linear { x, y, .. } => (*x, *y) = (read(*x), write(*y)),
        }
    }
}

/// Collects a model's nodes and parameters as its layers lower themselves.
#[derive(Debug, Default)]
pub struct Builder {
    /// (C, H, W) of each value.
    pub(crate) values: Vec<[usize; 3]>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) params: Vec<ParamSpec>,
    /// Elements of all parameters.
    pub(crate) total: usize,
}

impl Builder {
    /// A program whose input images are (C, H, W) = `input`, and that input.
    pub fn new(input: [usize; 3]) -> (Self, Value) {
        let b = Builder { values: vec![input], ..Default::default() };
        (b, Value(0))
    }

    /// (C, H, W) of `v`.
    pub fn dims(&self, v: Value) -> [usize; 3] {
        self.values[v.0]
    }

    fn value(&mut self, dims: [usize; 3]) -> usize {
        self.values.push(dims);
        self.values.len() - 1
    }

    fn param(&mut self, name: String, shape: &[usize], trainable: bool) -> Param {
        let len = shape.iter().product();
        self.params.push(ParamSpec { name, shape: shape.to_vec(), offset: self.total, len, trainable });
        self.total += len;
        self.params.len() - 1
    }

    /// A convolution of `x` with `out` filters of `window` = (K, S, P), its weight at
    /// `{path}.weight` and, if `bias`, its bias at `{path}.bias`.
    pub fn conv(
        &mut self,
        path: &str,
        x: Value,
        out: usize,
        window: [usize; 3],
        bias: bool,
    ) -> Result<Value, Error> {
        let [c, h, w] = self.dims(x);
        let k = window[0];
        let g = conv_geometry(out * c * k * k, out, window, [1, c, h, w])?;
        let weight = self.param(child(path, "weight"), &[out, c, k, k], true);
        let bias = bias.then(|| self.param(child(path, "bias"), &[out], true));
        let y = self.value([out, g.out_height, g.out_width]);
        self.nodes.push(Node::Conv { x: x.0, y, weight, bias, g });
        Ok(Value(y))
    }

    /// A batch norm of `x`'s `channels` channels, its tensors under `path`.
    pub fn norm(&mut self, path: &str, x: Value, channels: usize) -> Result<Value, Error> {
        let dims = self.dims(x);
        expect_channels("batch norm", channels, dims[0])?;
        let mut p = |name, trainable| self.param(child(path, name), &[channels], trainable);
        let (scale, bias, mean, var) =
            (p("scale", true), p("bias", true), p("running_mean", false), p("running_var", false));
        let y = self.value(dims);
        self.nodes.push(Node::Norm { x: x.0, y, scale, bias, mean, var, relu: false });
        Ok(Value(y))
    }

    /// `max(x, 0)`.
    pub fn relu(&mut self, x: Value) -> Value {
        let y = self.value(self.dims(x));
        self.nodes.push(Node::Relu { x: x.0, y });
        Value(y)
    }

    /// Max-pooling of `x` with `window` = (K, S, P).
    pub fn max_pool(&mut self, x: Value, window: [usize; 3]) -> Result<Value, Error> {
        let [c, h, w] = self.dims(x);
        let g = geometry("max pool", [1, c, h, w], c, window)?;
        let y = self.value([c, g.out_height, g.out_width]);
        self.nodes.push(Node::MaxPool { x: x.0, y, g });
        Ok(Value(y))
    }

    /// The mean of each channel of `x`.
    pub fn global_avg_pool(&mut self, x: Value) -> Value {
        let y = self.value([self.dims(x)[0], 1, 1]);
        self.nodes.push(Node::GlobalAvgPool { x: x.0, y });
        Value(y)
    }

    /// `x` as one vector per image (itself when its planes are 1×1).
    pub fn flatten(&mut self, x: Value) -> Value {
        let [c, h, w] = self.dims(x);
        if h * w == 1 {
            return x;
        }
        let y = self.value([c * h * w, 1, 1]);
        self.nodes.push(Node::Flatten { x: x.0, y });
        Value(y)
    }

    /// `x · weightᵀ + bias` with `weight` (O, I) at `{path}.weight`, `bias` at `{path}.bias`.
    pub fn linear(&mut self, path: &str, x: Value, inputs: usize, outputs: usize) -> Result<Value, Error> {
        let [c, h, w] = self.dims(x);
        expect_channels("linear", inputs, c * h * w)?;
        let weight = self.param(child(path, "weight"), &[outputs, inputs], true);
        let bias = self.param(child(path, "bias"), &[outputs], true);
        let y = self.value([outputs, 1, 1]);
        self.nodes.push(Node::Linear { x: x.0, y, weight, bias });
        Ok(Value(y))
    }

    /// `a + b` (a residual join): an error when their shapes differ.
    pub fn add(&mut self, a: Value, b: Value) -> Result<Value, Error> {
        let (da, db) = (self.dims(a), self.dims(b));
        if da != db {
            return Err(Error::Branches { main: da.to_vec(), shortcut: db.to_vec() });
        }
        let y = self.value(da);
        self.nodes.push(Node::Add { a: a.0, b: b.0, y, relu: false });
        Ok(Value(y))
    }
}

/// `nodes` with each ReLU that is the only reader of a batch norm's or a residual add's
/// output folded into that node (its `relu`), and the ReLU's readers reading that output.
pub(crate) fn fuse(nodes: Vec<Node>, values: usize) -> Vec<Node> {
    let mut readers = vec![0usize; values];
    for n in &nodes {
        for v in n.inputs() {
            readers[v] += 1;
        }
    }
    let mut rename: Vec<usize> = (0..values).collect();
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    for mut node in nodes {
        node.map_inputs(|v| rename[v]);
        if let Node::Relu { x, y } = node {
            let producer = out.iter_mut().rev().find(|n| n.output() == x);
            if let Some(Node::Norm { relu, .. } | Node::Add { relu, .. }) = producer {
                if readers[x] == 1 && !*relu {
                    *relu = true;
                    rename[y] = x;
                    continue;
                }
            }
        }
        out.push(node);
    }
    out
}
