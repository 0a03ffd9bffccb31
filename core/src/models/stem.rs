//! The stem of every ResNet here (the chapter's `b1`, torchvision's `conv1`, `bn1`, `relu`,
//! `maxpool`): 7×7 conv to 64 channels with stride 2 and padding 3, batch norm, ReLU, 3×3
//! max-pool with stride 2 and padding 1.

use dfdx::nn::builders::ReLU;

use crate::nn::builders::{BatchNorm2D, Conv2D, MaxPool2D};
use crate::nn::{Biased, NoBias};

/// The chapter's `b1`, for `IN` input channels (its convolution has a bias unless `B` is
/// [`NoBias`]).
///
/// # Shapes
/// (N, IN, H, W) → (N, 64, ⌈⌈H/2⌉/2⌉, ⌈⌈W/2⌉/2⌉).
pub type Stem<const IN: usize, B = Biased> =
    (Conv2D<IN, 64, 7, 2, 3, B>, BatchNorm2D<64>, ReLU, MaxPool2D<3, 2, 1>);

/// torchvision's stem: [`Stem`] with a bias-free convolution.
///
/// # Shapes
/// (N, IN, H, W) → (N, 64, ⌈⌈H/2⌉/2⌉, ⌈⌈W/2⌉/2⌉).
pub type TvStem<const IN: usize> = Stem<IN, NoBias>;
