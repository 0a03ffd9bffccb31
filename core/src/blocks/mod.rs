//! Residual blocks as types. The chapter's [`Residual`] and the exercises' variants: the
//! paper's bottleneck ([`ResidualBottleneck`]), torchvision's [`BasicBlock`] and
//! [`Bottleneck`], and the pre-activation blocks ([`PreActResidual`], [`PreActBottleneck`]);
//! shortcuts [`Identity`], [`Conv1x1`] (the chapter's) and [`Projection`] (torchvision's).
//! The two branches are joined by [`crate::nn::Join`] (dfdx's `GeneralizedResidual` with a
//! faster CPU backward), whose sum only type-checks when both branches produce the same
//! shape type, and each block requires
//! `Sc: Shortcut<I, O, S>`, so a channel or stride mismatch is a compile error. [`Plain`] is
//! the chapter's block with the shortcut taken away: the paper's "plain" baseline.

mod basic_block;
mod block;
mod bottleneck;
mod plain;
mod preact_bottleneck;
mod preact_residual;
mod residual;
mod residual_bottleneck;
mod shortcut;

pub use basic_block::{BasicBlock, BasicMain};
pub use block::ResidualBlock;
pub use bottleneck::{Bottleneck, BottleneckMain};
pub use plain::Plain;
pub use preact_bottleneck::{PreActBottleneck, PreActBottleneckMain};
pub use preact_residual::{PreActMain, PreActResidual, PreActivation};
pub use residual::{Residual, ResidualMain};
pub use residual_bottleneck::{BottleneckPath, ResidualBottleneck, ResidualBottleneckMain};
pub use shortcut::{Conv1x1, Identity, Projection, Shortcut};
