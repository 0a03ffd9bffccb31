//! torchvision's ResNets (`torchvision.models.resnet18` ... `resnet152`): convolutions
//! without bias, projection shortcuts (1×1 conv + batch norm), the bottleneck's stride on its
//! 3×3 convolution ("v1.5"). Parameter counts equal torchvision's; exported weights carry
//! its `state_dict()` names ([`crate::checkpoint::pytorch`]).

use super::{BasicLayer, BottleneckLayer, FirstBasicLayer, Head, TvStem};

/// `torchvision.models.resnet18(num_classes=CLASSES)` for `IN` input channels;
/// `ResNet18<3, 1000>` has 11,689,512 parameters.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
///
/// ```
/// use resnet_core::prelude::*;
/// use resnet_core::summary::LayerShape;
/// assert_eq!(<torchvision::ResNet18<3, 1000> as LayerShape>::PARAMS, 11_689_512);
/// ```
pub type ResNet18<const IN: usize, const CLASSES: usize> = BasicResNet<IN, CLASSES, 2, 2, 2, 2>;
/// `torchvision.models.resnet34`: 3, 4, 6, 3 basic blocks; 21,797,672 parameters at 3/1000.
pub type ResNet34<const IN: usize, const CLASSES: usize> = BasicResNet<IN, CLASSES, 3, 4, 6, 3>;
/// `torchvision.models.resnet50`: 3, 4, 6, 3 bottlenecks; 25,557,032 parameters at 3/1000.
pub type ResNet50<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 4, 6, 3>;
/// `torchvision.models.resnet101`: 3, 4, 23, 3 bottlenecks; 44,549,160 parameters at 3/1000.
pub type ResNet101<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 4, 23, 3>;
/// `torchvision.models.resnet152`: 3, 8, 36, 3 bottlenecks; 60,192,808 parameters at 3/1000.
pub type ResNet152<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 8, 36, 3>;

/// torchvision's `ResNet(BasicBlock, [L1, L2, L3, L4])`: `conv1`..`maxpool`, `layer1` (64
/// channels) to `layer4` (512), `avgpool`, `fc`.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
pub type BasicResNet<
    const IN: usize,
    const CLASSES: usize,
    const L1: usize,
    const L2: usize,
    const L3: usize,
    const L4: usize,
> = (
    TvStem<IN>,
    FirstBasicLayer<64, L1>,
    BasicLayer<64, 128, L2>,
    BasicLayer<128, 256, L3>,
    BasicLayer<256, 512, L4>,
    Head<512, CLASSES>,
);

/// torchvision's `ResNet(Bottleneck, [L1, L2, L3, L4])`: `layer1` (256 channels) to
/// `layer4` (2048).
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
pub type BottleneckResNet<
    const IN: usize,
    const CLASSES: usize,
    const L1: usize,
    const L2: usize,
    const L3: usize,
    const L4: usize,
> = (
    TvStem<IN>,
    BottleneckLayer<64, 64, 256, L1, 1>,
    BottleneckLayer<256, 128, 512, L2, 2>,
    BottleneckLayer<512, 256, 1024, L3, 2>,
    BottleneckLayer<1024, 512, 2048, L4, 2>,
    Head<2048, CLASSES>,
);
