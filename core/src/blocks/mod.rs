//! Residual blocks as types: the chapter's [`Residual`] with an [`Identity`] or [`Conv1x1`]
//! shortcut. The two branches are joined by dfdx's `GeneralizedResidual`, whose sum only
//! type-checks when both branches produce the same shape type, so a channel or stride
//! mismatch is a compile error.

mod residual;
mod shortcut;

pub use residual::{Residual, ResidualMain};
pub use shortcut::{Conv1x1, Identity, Shortcut};
