//! ResNet-18 as the chapter builds it: stem `b1`, four stages `b2`..`b5`, and the head.

use dfdx::nn::builders::ReLU;

use super::{FirstResnetBlock, Head, ResnetBlock};
use crate::nn::builders::{BatchNorm2D, Conv2D, MaxPool2D};

/// The chapter's `b1`: 7×7 conv to 64 channels with stride 2 and padding 3, batch norm,
/// ReLU, 3×3 max-pool with stride 2 and padding 1.
///
/// # Shapes
/// (N, IN, H, W) → (N, 64, ⌈⌈H/2⌉/2⌉, ⌈⌈W/2⌉/2⌉).
pub type Stem<const IN: usize> = (Conv2D<IN, 64, 7, 2, 3>, BatchNorm2D<64>, ReLU, MaxPool2D<3, 2, 1>);

/// The chapter's ResNet-18 for `IN` input channels and `CLASSES` classes:
/// `b1` ([`Stem`]), `b2` = `resnet_block(64, 64, 2, first_block=True)`,
/// `b3..b5` = `resnet_block(64→128→256→512, 2)`, then global average pooling, flatten and
/// linear. `ResNet18<1, 10>` has 11,178,378 parameters, as the chapter's PyTorch model.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES); at 224×224 the stages output 56, 56, 28, 14, 7 pixels a side.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<ResNet18<1, 10>, f32>();
/// assert_eq!(model.num_trainable_params(), 11_178_378);
/// let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 32, 32));
/// assert_eq!(model.forward(x).shape().concrete(), [2, 10]);
/// ```
pub type ResNet18<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    FirstResnetBlock<64, 2>,
    ResnetBlock<64, 128, 2>,
    ResnetBlock<128, 256, 2>,
    ResnetBlock<256, 512, 2>,
    Head<512, CLASSES>,
);
