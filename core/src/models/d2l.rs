//! The chapter's models: ResNet-18 as the chapter builds it, and the exercises' deeper
//! variants of the paper's Table 1 and pre-activation versions, all in the chapter's style
//! (convolutions with bias, 1×1-conv shortcuts without batch norm, `IN` input channels);
//! ResNet-8, the same blocks sized for microcontrollers; and the paper's plain networks, the
//! same stages without shortcuts.

use super::{
    BottleneckBlock, FirstPlainBlock, FirstPreActBlock, FirstResnetBlock, Head, PlainBlock, PreActBlock,
    PreActBottleneckBlock, PreActHead, ResnetBlock, Stem, TinyStem,
};

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

/// ResNet-34 (Table 1), chapter style: [`ResNet18`] with 3, 4, 6, 3 blocks a stage.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
pub type ResNet34<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    FirstResnetBlock<64, 3>,
    ResnetBlock<64, 128, 4>,
    ResnetBlock<128, 256, 6>,
    ResnetBlock<256, 512, 3>,
    Head<512, CLASSES>,
);

/// A bottleneck ResNet of Table 1, chapter style, with `L1`..`L4` blocks a stage: 64→256,
/// 128→512, 256→1024, 512→2048 channels (narrowing to a quarter), the stride on each
/// stage's first 1×1 convolution as in the paper.
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
    Stem<IN>,
    BottleneckBlock<64, 64, 256, L1, 1>,
    BottleneckBlock<256, 128, 512, L2, 2>,
    BottleneckBlock<512, 256, 1024, L3, 2>,
    BottleneckBlock<1024, 512, 2048, L4, 2>,
    Head<2048, CLASSES>,
);

/// ResNet-50 (Table 1: 3, 4, 6, 3 bottlenecks; 3.8·10⁹ multiply-accumulates at 224×224).
pub type ResNet50<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 4, 6, 3>;
/// ResNet-101 (Table 1: 3, 4, 23, 3 bottlenecks).
pub type ResNet101<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 4, 23, 3>;
/// ResNet-152 (Table 1: 3, 8, 36, 3 bottlenecks).
pub type ResNet152<const IN: usize, const CLASSES: usize> = BottleneckResNet<IN, CLASSES, 3, 8, 36, 3>;

/// Pre-activation ResNet-18: [`ResNet18`]'s layout with pre-activation blocks and a final
/// BN → ReLU before pooling ("Identity Mappings in Deep Residual Networks").
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
pub type PreActResNet18<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    FirstPreActBlock<64, 2>,
    PreActBlock<64, 128, 2>,
    PreActBlock<128, 256, 2>,
    PreActBlock<256, 512, 2>,
    PreActHead<512, CLASSES>,
);

/// Pre-activation ResNet-50: 3, 4, 6, 3 pre-activation bottlenecks and a final BN → ReLU.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES).
pub type PreActResNet50<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    PreActBottleneckBlock<64, 64, 256, 3, 1>,
    PreActBottleneckBlock<256, 128, 512, 4, 2>,
    PreActBottleneckBlock<512, 256, 1024, 6, 2>,
    PreActBottleneckBlock<1024, 512, 2048, 3, 2>,
    PreActHead<2048, CLASSES>,
);

/// ResNet-8, MLPerf Tiny's image-classification model for microcontrollers, in the chapter's
/// blocks: a 3×3 stem of 16 channels, one residual block a stage on 16, 32 and 64 channels
/// (stride 2 and a 1×1-conv shortcut on the last two), global average pooling, linear.
/// `ResNet8<1, 10>` has 77,898 parameters; with the batch-norm statistics its weights are
/// about 306 KiB as `f32`.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES); at 28×28 the stages output 28, 28, 14, 7 pixels a side.
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<ResNet8<1, 10>, f32>();
/// assert_eq!(model.num_trainable_params(), 77_898);
/// let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 28, 28));
/// assert_eq!(model.forward(x).shape().concrete(), [2, 10]);
/// ```
pub type ResNet8<const IN: usize, const CLASSES: usize> = (
    TinyStem<IN>,
    FirstResnetBlock<16, 1>,
    ResnetBlock<16, 32, 1>,
    ResnetBlock<32, 64, 1>,
    Head<64, CLASSES>,
);

/// The paper's plain 18-layer network (He et al., 2016, Figure 4, left): [`ResNet18`] with
/// every shortcut taken away, the baseline whose deeper sibling [`Plain34`] trains worse.
/// `Plain18<1, 10>` has 11,005,450 parameters: ResNet-18's but for the three 1×1 shortcut
/// convolutions.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES), as [`ResNet18`].
///
/// ```
/// use resnet_core::prelude::*;
/// let dev = Cpu::default();
/// let model = dev.build_module::<Plain18<1, 10>, f32>();
/// assert_eq!(model.num_trainable_params(), 11_005_450);
/// let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.zeros_like(&(2, Const, 28, 28));
/// assert_eq!(model.forward(x).shape().concrete(), [2, 10]);
/// ```
pub type Plain18<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    FirstPlainBlock<64, 2>,
    PlainBlock<64, 128, 2>,
    PlainBlock<128, 256, 2>,
    PlainBlock<256, 512, 2>,
    Head<512, CLASSES>,
);

/// The paper's plain 34-layer network: [`ResNet34`] without shortcuts.
///
/// # Shapes
/// (N, IN, H, W) → (N, CLASSES), as [`ResNet34`].
pub type Plain34<const IN: usize, const CLASSES: usize> = (
    Stem<IN>,
    FirstPlainBlock<64, 3>,
    PlainBlock<64, 128, 4>,
    PlainBlock<128, 256, 6>,
    PlainBlock<256, 512, 3>,
    Head<512, CLASSES>,
);
