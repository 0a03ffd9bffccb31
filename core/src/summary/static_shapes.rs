//! The shape table from the types alone: every layer (builder) type states its parameter
//! count and how it maps an input shape, with no tensors involved.

use alloc::vec::Vec;

use dfdx::nn::builders::Linear;

use crate::nn::Join;

use alloc::format;
use alloc::string::String;

use super::{name_nodes, name_rows, Dims, Label, Node, RawRow, Row};
use crate::blocks::{Identity, ResidualBlock};
use crate::models::{Head, PreActHead, Stage};
use crate::nn::builders::{BatchNorm2D, Conv2D, Flatten2D, GlobalAvgPool2D, MaxPool2D, ReLU};
use crate::nn::ConvBias;
use crate::shape::window_out;
use crate::Error;

/// The output shape and the multiply-accumulates of a layer at some input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trace {
    /// Output shape, batch first.
    pub output: Dims,
    /// Multiply-accumulates of convolutions and linear layers.
    pub macs: u64,
}

/// The static shape rule of a layer (builder) type.
pub trait LayerShape {
    /// Trainable parameters.
    const PARAMS: usize;
    /// How the layer's row is named.
    const LABEL: Label;
    /// A mere grouping of layers (a tuple, a residual join): inside a block's outline its
    /// parts are listed in place of it.
    const GROUP: bool = false;

    /// Output shape and multiply-accumulates at `input`, or why the layer cannot take it.
    fn trace(input: Dims) -> Result<Trace, Error>;

    /// Appends this layer's rows of a model table (one, unless the layer is a group that
    /// the chapter prints layer by layer) and returns the output shape.
    fn rows(input: Dims, rows: &mut Vec<RawRow>) -> Result<Dims, Error> {
        let Trace { output, macs } = Self::trace(input)?;
        rows.push(RawRow { label: Self::LABEL, output, params: Self::PARAMS, macs });
        Ok(output)
    }

    /// What the layer is, with its settings, e.g. `conv 3x3/2 pad 1, 64->128`.
    fn describe() -> String {
        match Self::LABEL {
            Label::Block => "block".into(),
            Label::Layer(kind) => kind.into(),
        }
    }

    /// Appends the layer's parts (nothing for a plain layer) at `depth`; returns the output
    /// shape if it has parts.
    fn parts(_input: Dims, _depth: usize, _out: &mut Vec<Node>) -> Result<Option<Dims>, Error> {
        Ok(None)
    }

    /// Appends an outline of the layer: its own node at `depth`, then its parts one deeper.
    fn outline(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Dims, Error> {
        let Trace { output, macs } = Self::trace(input)?;
        out.push(Node {
            depth,
            label: Self::LABEL,
            name: String::new(),
            text: Self::describe(),
            output,
            params: Self::PARAMS,
            macs,
        });
        Self::parts(input, depth + 1, out)?;
        Ok(output)
    }
}

/// A whole model (a tuple of blocks and layers) as a table: one row per element.
pub trait ModelShape {
    /// The named rows at `input`.
    fn table(input: Dims) -> Result<Vec<Row>, Error>;

    /// The table's rows (depth 0, named as in [`ModelShape::table`]) with the structure of
    /// each block below it (residual blocks, their layers and shortcuts).
    fn outline(input: Dims) -> Result<Vec<Node>, Error>;
}

/// Output (OH, OW) of a `kernel`/`stride`/`padding` window on an (H, W) plane, or
/// [`Error::TooSmall`].
fn window(layer: &'static str, [h, w]: [usize; 2], [k, s, p]: [usize; 3]) -> Result<[usize; 2], Error> {
    let (oh, ow) = (window_out(h, k, s, p), window_out(w, k, s, p));
    if oh == 0 || ow == 0 {
        return Err(Error::TooSmall { layer, input: (h, w), kernel: k, padding: p });
    }
    Ok([oh, ow])
}

fn expect_channels(layer: &'static str, expected: usize, found: usize) -> Result<(), Error> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Channels { layer, expected, found })
    }
}

impl<const I: usize, const O: usize, const K: usize, const S: usize, const P: usize, B: ConvBias> LayerShape
    for Conv2D<I, O, K, S, P, B>
{
    const PARAMS: usize = O * I * K * K + if B::ENABLED { O } else { 0 };
    const LABEL: Label = Label::Layer("conv2d");

    fn describe() -> String {
        let bias = if B::ENABLED { "" } else { ", no bias" };
        format!("conv {K}x{K}/{S} pad {P}, {I}->{O}{bias}")
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        let [n, c, h, w] = input.nchw("conv2d")?;
        expect_channels("conv2d", I, c)?;
        let [oh, ow] = window("conv2d", [h, w], [K, S, P])?;
        let macs = (n * O * oh * ow) as u64 * (I * K * K) as u64;
        Ok(Trace { output: Dims::of([n, O, oh, ow]), macs })
    }
}

impl<const K: usize, const S: usize, const P: usize> LayerShape for MaxPool2D<K, S, P> {
    const PARAMS: usize = 0;
    const LABEL: Label = Label::Layer("max pool");

    fn describe() -> String {
        format!("max pool {K}x{K}/{S} pad {P}")
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        let [n, c, h, w] = input.nchw("max pool")?;
        let [oh, ow] = window("max pool", [h, w], [K, S, P])?;
        Ok(Trace { output: Dims::of([n, c, oh, ow]), macs: 0 })
    }
}

impl<const C: usize> LayerShape for BatchNorm2D<C> {
    const PARAMS: usize = 2 * C;
    const LABEL: Label = Label::Layer("batch norm");

    fn describe() -> String {
        format!("batch norm ({C})")
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        let [_, c, _, _] = input.nchw("batch norm")?;
        expect_channels("batch norm", C, c)?;
        Ok(Trace { output: input, macs: 0 })
    }
}

impl LayerShape for ReLU {
    const PARAMS: usize = 0;
    const LABEL: Label = Label::Layer("relu");

    fn trace(input: Dims) -> Result<Trace, Error> {
        Ok(Trace { output: input, macs: 0 })
    }
}

impl LayerShape for Identity {
    const PARAMS: usize = 0;
    const LABEL: Label = Label::Layer("identity");

    fn trace(input: Dims) -> Result<Trace, Error> {
        Ok(Trace { output: input, macs: 0 })
    }
}

impl LayerShape for GlobalAvgPool2D {
    const PARAMS: usize = 0;
    const LABEL: Label = Label::Layer("global average pool");

    fn trace(input: Dims) -> Result<Trace, Error> {
        let [n, c, _, _] = input.nchw("global average pool")?;
        Ok(Trace { output: Dims::of([n, c, 1, 1]), macs: 0 })
    }
}

impl LayerShape for Flatten2D {
    const PARAMS: usize = 0;
    const LABEL: Label = Label::Layer("flatten");

    fn trace(input: Dims) -> Result<Trace, Error> {
        match input.nchw("flatten")? {
            [n, c, 1, 1] => Ok(Trace { output: Dims::of([n, c]), macs: 0 }),
            [_, _, h, w] => Err(Error::NotFlat { layer: "flatten", found: (h, w) }),
        }
    }
}

impl<const I: usize, const O: usize> LayerShape for Linear<I, O> {
    const PARAMS: usize = I * O + O;
    const LABEL: Label = Label::Layer("linear");

    fn describe() -> String {
        format!("linear {I}->{O}")
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        match input.as_slice() {
            &[n, features] => {
                expect_channels("linear", I, features)?;
                Ok(Trace { output: Dims::of([n, O]), macs: (n * I * O) as u64 })
            }
            other => Err(Error::Rank { layer: "linear", expected: 2, found: other.len() }),
        }
    }
}

impl<F: LayerShape, R: LayerShape> LayerShape for Join<F, R> {
    const PARAMS: usize = F::PARAMS + R::PARAMS;
    const LABEL: Label = Label::Layer("residual");
    const GROUP: bool = true;

    fn describe() -> String {
        "residual join".into()
    }

    /// The main path's layers, the shortcut's, and the sum.
    fn parts(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Option<Dims>, Error> {
        let y = outline_in_place::<F>(input, depth, out)?;
        outline_as::<R>("shortcut: ", input, depth, out)?;
        out.push(Node {
            depth,
            label: Label::Layer("add"),
            name: String::new(),
            text: "add main path and shortcut".into(),
            output: y,
            params: 0,
            macs: 0,
        });
        Ok(Some(y))
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        let (main, shortcut) = (F::trace(input)?, R::trace(input)?);
        if main.output != shortcut.output {
            return Err(Error::Branches {
                main: main.output.as_slice().to_vec(),
                shortcut: shortcut.output.as_slice().to_vec(),
            });
        }
        Ok(Trace { output: main.output, macs: main.macs + shortcut.macs })
    }
}

/// Every residual block: the shape rules of its layers, listed in place under its own
/// description.
impl<B: ResidualBlock> LayerShape for B
where
    B::Layers: LayerShape,
{
    const PARAMS: usize = B::Layers::PARAMS;
    const LABEL: Label = Label::Layer(B::KIND);

    fn describe() -> String {
        B::describe()
    }

    fn parts(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Option<Dims>, Error> {
        outline_in_place::<B::Layers>(input, depth, out).map(Some)
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        B::Layers::trace(input)
    }
}

impl<First: LayerShape, Rest: LayerShape, const N: usize> LayerShape for Stage<First, Rest, N> {
    const PARAMS: usize = First::PARAMS + N.saturating_sub(1) * Rest::PARAMS;
    const LABEL: Label = Label::Block;

    fn describe() -> String {
        format!("stage of {N} blocks")
    }

    fn parts(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Option<Dims>, Error> {
        let mut x = First::outline(input, depth, out)?;
        for _ in 1..N {
            x = Rest::outline(x, depth, out)?;
        }
        Ok(Some(x))
    }

    fn trace(input: Dims) -> Result<Trace, Error> {
        let mut t = First::trace(input)?;
        for _ in 1..N {
            let next = Rest::trace(t.output)?;
            t = Trace { output: next.output, macs: t.macs + next.macs };
        }
        Ok(t)
    }
}

/// The shape table of a head: a fixed sequence of layers that the table and the outline show
/// layer by layer (the chapter prints the head's pool, flatten and linear as three rows).
macro_rules! head_of_layers {
    ($head:ty: $($layer:ty),+) => {
        impl<const C: usize, const CLASSES: usize> LayerShape for $head {
            const PARAMS: usize = 0 $(+ <$layer as LayerShape>::PARAMS)+;
            const LABEL: Label = Label::Layer("head");

            fn trace(input: Dims) -> Result<Trace, Error> {
                let mut rows = Vec::new();
                let output = Self::rows(input, &mut rows)?;
                Ok(Trace { output, macs: rows.iter().map(|r| r.macs).sum() })
            }

            fn rows(input: Dims, rows: &mut Vec<RawRow>) -> Result<Dims, Error> {
                let x = input;
                $(let x = <$layer as LayerShape>::rows(x, rows)?;)+
                Ok(x)
            }

            fn outline(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Dims, Error> {
                let x = input;
                $(let x = <$layer as LayerShape>::outline(x, depth, out)?;)+
                Ok(x)
            }
        }
    };
}

head_of_layers!(Head<C, CLASSES>: GlobalAvgPool2D, Flatten2D, Linear<C, CLASSES>);
head_of_layers!(PreActHead<C, CLASSES>: BatchNorm2D<C>, ReLU, Head<C, CLASSES>);

/// The outline of `L` at `depth`: its node and parts, or for a group its parts in place.
fn outline_in_place<L: LayerShape>(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Dims, Error> {
    if L::GROUP {
        if let Some(y) = L::parts(input, depth, out)? {
            return Ok(y);
        }
    }
    L::outline(input, depth, out)
}

/// [`outline_in_place`] of `L` with `prefix` before the text of each node it adds at
/// `depth`.
fn outline_as<L: LayerShape>(
    prefix: &str,
    input: Dims,
    depth: usize,
    out: &mut Vec<Node>,
) -> Result<Dims, Error> {
    let at = out.len();
    let y = outline_in_place::<L>(input, depth, out)?;
    for node in out[at..].iter_mut().filter(|n| n.depth == depth) {
        node.text = format!("{prefix}{}", node.text);
    }
    Ok(y)
}

macro_rules! tuple_shapes {
    ($($m:ident),+) => {
        impl<$($m: LayerShape),+> LayerShape for ($($m,)+) {
            const PARAMS: usize = 0 $(+ $m::PARAMS)+;
            const LABEL: Label = Label::Block;
            const GROUP: bool = true;

            fn trace(input: Dims) -> Result<Trace, Error> {
                let t = Trace { output: input, macs: 0 };
                $(let t = { let next = $m::trace(t.output)?; Trace { output: next.output, macs: t.macs + next.macs } };)+
                Ok(t)
            }

            fn describe() -> String {
                "sequential".into()
            }

            fn parts(input: Dims, depth: usize, out: &mut Vec<Node>) -> Result<Option<Dims>, Error> {
                let x = input;
                $(let x = outline_in_place::<$m>(x, depth, out)?;)+
                Ok(Some(x))
            }
        }

        impl<$($m: LayerShape),+> ModelShape for ($($m,)+) {
            fn table(input: Dims) -> Result<Vec<Row>, Error> {
                let mut rows = Vec::new();
                let x = input;
                $(let x = $m::rows(x, &mut rows)?;)+
                let _ = x;
                Ok(name_rows(rows))
            }

            fn outline(input: Dims) -> Result<Vec<Node>, Error> {
                let mut nodes = Vec::new();
                let x = input;
                $(let x = $m::outline(x, 0, &mut nodes)?;)+
                let _ = x;
                name_nodes(&mut nodes);
                Ok(nodes)
            }
        }
    };
}

tuple_shapes!(A);
tuple_shapes!(A, B);
tuple_shapes!(A, B, C);
tuple_shapes!(A, B, C, D);
tuple_shapes!(A, B, C, D, E);
tuple_shapes!(A, B, C, D, E, F);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::{Conv1x1, Residual};
    use crate::models::ResNet18;

    fn d(s: &[usize]) -> Dims {
        Dims::new(s).unwrap()
    }

    #[test]
    fn resnet18_table_at_224_matches_the_chapter() {
        let rows = ResNet18::<1, 10>::table(d(&[1, 1, 224, 224])).unwrap();
        let got: Vec<(&str, &[usize], usize)> =
            rows.iter().map(|r| (r.name.as_str(), r.output.as_slice(), r.params)).collect();
        assert_eq!(
            got,
            [
                ("b1", &[1, 64, 56, 56][..], 3_328),
                ("b2", &[1, 64, 56, 56][..], 148_224),
                ("b3", &[1, 128, 28, 28][..], 525_952),
                ("b4", &[1, 256, 14, 14][..], 2_100_480),
                ("b5", &[1, 512, 7, 7][..], 8_395_264),
                ("global average pool", &[1, 512, 1, 1][..], 0),
                ("flatten", &[1, 512][..], 0),
                ("linear", &[1, 10][..], 5_130),
            ]
        );
        assert_eq!(<ResNet18<1, 10> as LayerShape>::PARAMS, 11_178_378);
    }

    #[test]
    fn resnet18_at_96_halves_as_the_training_size_does() {
        let rows = ResNet18::<1, 10>::table(d(&[256, 1, 96, 96])).unwrap();
        let sides: Vec<usize> = rows[..5].iter().map(|r| r.output.as_slice()[2]).collect();
        assert_eq!(sides, [24, 24, 12, 6, 3]);
        // The stem's convolution alone: 48 x 48.
        assert_eq!(
            Conv2D::<1, 64, 7, 2, 3>::trace(d(&[1, 1, 96, 96])).unwrap().output.as_slice(),
            &[1, 64, 48, 48]
        );
    }

    #[test]
    fn the_chapters_residual_examples() {
        assert_eq!(Residual::<3, 3>::trace(d(&[4, 3, 6, 6])).unwrap().output.as_slice(), &[4, 3, 6, 6]);
        let t = Residual::<3, 6, 2, Conv1x1>::trace(d(&[4, 3, 6, 6])).unwrap();
        assert_eq!(t.output.as_slice(), &[4, 6, 3, 3]);
    }

    #[test]
    fn the_outline_shows_each_stages_blocks_shortcuts_and_strides() {
        let nodes = <ResNet18<1, 10> as ModelShape>::outline(d(&[1, 1, 96, 96])).unwrap();
        let top: Vec<&str> = nodes.iter().filter(|n| n.depth == 0).map(|n| n.name.as_str()).collect();
        assert_eq!(top, ["b1", "b2", "b3", "b4", "b5", "global average pool", "flatten", "linear"]);
        let lines: Vec<String> =
            nodes.iter().map(|n| format!("{}{} {}", "  ".repeat(n.depth), n.text, n.output)).collect();
        let b3 = lines.iter().position(|l| l.starts_with("stage of 2 blocks (1, 128, 12, 12)")).unwrap();
        assert_eq!(
            lines[b3 + 1..b3 + 10],
            [
                "  residual 64->128, stride 2, 1x1 conv shortcut (1, 128, 12, 12)",
                "    conv 3x3/2 pad 1, 64->128 (1, 128, 12, 12)",
                "    batch norm (128) (1, 128, 12, 12)",
                "    relu (1, 128, 12, 12)",
                "    conv 3x3/1 pad 1, 128->128 (1, 128, 12, 12)",
                "    batch norm (128) (1, 128, 12, 12)",
                "    shortcut: conv 1x1/2 pad 0, 64->128 (1, 128, 12, 12)",
                "    add main path and shortcut (1, 128, 12, 12)",
                "    relu (1, 128, 12, 12)",
            ]
        );
        assert!(lines.iter().any(|l| l == "  residual 64->64, stride 1, identity shortcut (1, 64, 24, 24)"));
        assert!(lines.iter().any(|l| l == "    shortcut: identity (1, 64, 24, 24)"));
        // Each row's parameters add up, as in the table.
        let table = ResNet18::<1, 10>::table(d(&[1, 1, 96, 96])).unwrap();
        let top_params: Vec<usize> = nodes.iter().filter(|n| n.depth == 0).map(|n| n.params).collect();
        assert_eq!(top_params, table.iter().map(|r| r.params).collect::<Vec<_>>());
    }

    #[test]
    fn macs_count_convolutions_and_linear_layers() {
        // conv 3x3, 2 -> 4 channels on 5x5 with padding 1: 4 * 25 outputs * 18 MACs each.
        let t = Conv2D::<2, 4, 3, 1, 1>::trace(d(&[1, 2, 5, 5])).unwrap();
        assert_eq!(t.macs, 4 * 25 * 18);
        assert_eq!(Linear::<512, 10>::trace(d(&[3, 512])).unwrap().macs, 3 * 5120);
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let msg = |e: Error| alloc::format!("{e}");
        let e = ResNet18::<1, 10>::table(d(&[1, 3, 224, 224])).unwrap_err();
        assert_eq!(msg(e), "conv2d expects 1 input channels, got 3");
        let e = Conv2D::<1, 64, 7, 2, 0>::trace(d(&[1, 1, 5, 5])).unwrap_err();
        assert_eq!(
            msg(e),
            "conv2d: a 5x5 input is smaller than its 7x7 window (padding 0); use a larger input"
        );
        let e = ResNet18::<1, 10>::table(d(&[1, 224, 224])).unwrap_err();
        assert_eq!(msg(e), "conv2d takes a rank-4 input, got rank 3");
        let e = Join::<Conv2D<3, 3, 3, 2, 1>, Identity>::trace(d(&[1, 3, 8, 8])).unwrap_err();
        assert_eq!(
            msg(e),
            "residual branches disagree: main path gives [1, 3, 4, 4], shortcut gives [1, 3, 8, 8]"
        );
    }
}
