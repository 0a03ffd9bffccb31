//! The stem of the ImageNet-style ResNets here (the chapter's `b1`, torchvision's `conv1`,
//! `bn1`, `relu`, `maxpool`): 7×7 conv to 64 channels with stride 2 and padding 3, batch
//! norm, ReLU, 3×3 max-pool with stride 2 and padding 1; and ResNet-8's small stem.

use crate::nn::builders::{BatchNorm2D, Conv2D, MaxPool2D, ReLU};
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

/// ResNet-8's stem (MLPerf Tiny): a 3×3 convolution to 16 channels, batch norm, ReLU; it
/// keeps the image's size, as small images need.
///
/// # Shapes
/// (N, IN, H, W) → (N, 16, H, W).
pub type TinyStem<const IN: usize> = (Conv2D<IN, 16, 3, 1, 1>, BatchNorm2D<16>, ReLU);
