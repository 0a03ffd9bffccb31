//! What every residual block type has in common: it stands for a composition of layers
//! (dfdx tuples and [`crate::nn::Join`]), which it builds into and which gives its shape
//! rules; the block type itself keeps error messages and outlines readable.

use alloc::string::String;

/// A residual block (builder) type and the layers it is made of.
pub trait ResidualBlock {
    /// The layers, as dfdx builders: what `build_module` builds.
    type Layers;
    /// The kind the shape table names it by: `residual`, or `plain` for a block without
    /// its shortcut.
    const KIND: &'static str = "residual";
    /// The block in words, e.g. `residual 64->128, stride 2, 1x1 conv shortcut`.
    fn describe() -> String;
}

/// Implements `BuildOnDevice` for a block type `$block<consts..., Sc>` as its
/// [`ResidualBlock::Layers`]; the shortcut `Sc` must fit (`Shortcut<I, O, S>`).
macro_rules! build_as_layers {
    ($block:ident < $($c:ident),+ >) => {
        impl<$(const $c: usize,)+ Sc, D> dfdx::nn::BuildOnDevice<D, f32> for $block<$($c,)+ Sc>
        where
            D: dfdx::tensor_ops::Device<f32>,
            Sc: $crate::blocks::Shortcut<I, O, S>,
            Self: $crate::blocks::ResidualBlock,
            <Self as $crate::blocks::ResidualBlock>::Layers: dfdx::nn::BuildOnDevice<D, f32>,
        {
            type Built = <<Self as $crate::blocks::ResidualBlock>::Layers as dfdx::nn::BuildOnDevice<
                D,
                f32,
            >>::Built;
        }
    };
}
pub(crate) use build_as_layers;
