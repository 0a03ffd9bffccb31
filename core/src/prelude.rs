//! One `use` for downstream crates: dfdx's prelude and optimizers, and this crate's types.
//!
//! ```
//! use resnet_core::prelude::*;
//! let dev = Cpu::default();
//! let mut model = dev.build_module::<ResNet18<1, 10>, f32>();
//! let mut grads = model.alloc_grads();
//! let mut sgd = Sgd::new(&model, SgdConfig { lr: 0.05, momentum: None, weight_decay: None });
//! // Batch and image size known only at run time:
//! let (n, h, w) = (2usize, 28usize, 28usize);
//! let x: Tensor<(usize, Const<1>, usize, usize), f32, _> = dev.sample_normal_like(&(n, Const, h, w));
//! let y: Tensor<(usize, Const<10>), f32, _> = dev.zeros_like(&(n, Const)) + 0.1;
//! let logits = model.forward_mut(x.traced(grads));
//! let loss = cross_entropy_with_logits_loss(logits, y);
//! grads = loss.backward();
//! sgd.update(&mut model, &grads).unwrap();
//! model.zero_grads(&mut grads);
//! ```
pub use dfdx::optim::{Adam, AdamConfig, Momentum, Optimizer, Sgd, SgdConfig, WeightDecay};
pub use dfdx::prelude::*;

pub use crate::blocks::{
    BasicBlock, Bottleneck, Conv1x1, Identity, Plain, PreActBottleneck, PreActResidual, Projection, Residual,
    ResidualBottleneck, ResidualMain, Shortcut,
};
pub use crate::models::d2l::{
    Plain18, Plain34, PreActResNet18, PreActResNet50, ResNet101, ResNet152, ResNet18, ResNet34, ResNet50,
    ResNet8,
};
pub use crate::models::{torchvision, FirstResnetBlock, Head, PreActHead, ResnetBlock, Stage, Stem, TvStem};
pub use crate::nn::builders::{
    BatchNorm2D, Conv2D, Conv2DNoBias, Flatten2D, GlobalAvgPool2D, MaxPool2D, ReLU,
};
pub use crate::nn::{Biased, NoBias};
pub use crate::shape::{ChannelsMatch, Half, SpatialMap, Window, WindowOut, Windowed};

/// The built module of builder `M` on device `D` (f32), e.g. `Built<ResNet18<1, 10>, Cpu>`.
pub type Built<M, D> = <M as BuildOnDevice<D, f32>>::Built;
