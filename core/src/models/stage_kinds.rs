//! The stages the models are made of, by block kind: the first block of a stage changes
//! channels and (but for the first stage) halves the image, the rest keep both.

use super::Stage;
use crate::blocks::{
    BasicBlock, Bottleneck, Conv1x1, Plain, PreActBottleneck, PreActResidual, Projection, Residual,
    ResidualBottleneck,
};

/// d2l's `resnet_block(I, O, N)`: a stride-2 `Residual` with a 1×1-conv shortcut from `I`
/// to `O` channels, then `N - 1` `Residual<O, O>`.
pub type ResnetBlock<const I: usize, const O: usize, const N: usize> =
    Stage<Residual<I, O, 2, Conv1x1>, Residual<O, O>, N>;

/// d2l's `resnet_block(C, C, N, first_block=True)`: `N` identity-shortcut `Residual<C, C>`.
pub type FirstResnetBlock<const C: usize, const N: usize> = Stage<Residual<C, C>, Residual<C, C>, N>;

/// [`ResnetBlock`] without shortcuts: a stride-2 `Plain` from `I` to `O` channels, then
/// `N - 1` `Plain<O, O>` (the paper's plain networks).
pub type PlainBlock<const I: usize, const O: usize, const N: usize> = Stage<Plain<I, O, 2>, Plain<O, O>, N>;

/// [`FirstResnetBlock`] without shortcuts: `N` `Plain<C, C>`.
pub type FirstPlainBlock<const C: usize, const N: usize> = Stage<Plain<C, C>, Plain<C, C>, N>;

/// `N` of the paper's bottlenecks, chapter style: the first from `I` to `O` channels with
/// stride `S` and a 1×1-conv shortcut, the rest from `O` to `O`; all narrow to `MID`.
pub type BottleneckBlock<const I: usize, const MID: usize, const O: usize, const N: usize, const S: usize> =
    Stage<ResidualBottleneck<I, MID, O, S, Conv1x1>, ResidualBottleneck<O, MID, O>, N>;

/// `N` pre-activation residual blocks, the first from `I` to `O` with stride 2 and a
/// 1×1-conv shortcut.
pub type PreActBlock<const I: usize, const O: usize, const N: usize> =
    Stage<PreActResidual<I, O, 2, Conv1x1>, PreActResidual<O, O>, N>;

/// `N` identity-shortcut pre-activation residual blocks on `C` channels.
pub type FirstPreActBlock<const C: usize, const N: usize> =
    Stage<PreActResidual<C, C>, PreActResidual<C, C>, N>;

/// `N` pre-activation bottlenecks, the first from `I` to `O` with stride `S` and a 1×1-conv
/// shortcut.
pub type PreActBottleneckBlock<
    const I: usize,
    const MID: usize,
    const O: usize,
    const N: usize,
    const S: usize,
> = Stage<PreActBottleneck<I, MID, O, S, Conv1x1>, PreActBottleneck<O, MID, O>, N>;

/// torchvision's `layerK` of basic blocks: the first from `I` to `O` with stride 2 and a
/// projection shortcut, then `N - 1` `BasicBlock<O, O>`.
pub type BasicLayer<const I: usize, const O: usize, const N: usize> =
    Stage<BasicBlock<I, O, 2, Projection>, BasicBlock<O, O>, N>;

/// torchvision's `layer1` of basic blocks: `N` identity-shortcut `BasicBlock<C, C>`.
pub type FirstBasicLayer<const C: usize, const N: usize> = Stage<BasicBlock<C, C>, BasicBlock<C, C>, N>;

/// torchvision's `layerK` of bottlenecks: the first from `I` to `O` with stride `S` and a
/// projection shortcut, then `N - 1` `Bottleneck<O, MID, O>`.
pub type BottleneckLayer<const I: usize, const MID: usize, const O: usize, const N: usize, const S: usize> =
    Stage<Bottleneck<I, MID, O, S, Projection>, Bottleneck<O, MID, O>, N>;
