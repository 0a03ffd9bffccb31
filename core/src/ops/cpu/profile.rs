//! Where the CPU kernels spend their time: nanoseconds per phase, summed over calls, for
//! `resnet-tui bench --profile`. Off by default; then each phase costs one relaxed load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A phase of the CPU kernels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Copying op inputs out of dfdx tensors (their storage is private).
    Copies,
    /// Convolution forward: im2col.
    ConvForwardIm2col,
    /// Convolution forward: the matrix product.
    ConvForwardGemm,
    /// Convolution forward: reordering the product into (N, O, OH, OW) plus bias.
    ConvForwardScatter,
    /// Convolution backward: im2col (recomputed instead of kept).
    ConvBackwardIm2col,
    /// Convolution backward: the weight-gradient product.
    ConvBackwardWeight,
    /// Convolution backward: the input-gradient product.
    ConvBackwardInput,
    /// Convolution backward: col2im and gradient reordering.
    ConvBackwardCol2im,
    /// Max-pooling forward.
    PoolForward,
    /// Max-pooling backward.
    PoolBackward,
    /// Batch norm forward (statistics and normalisation).
    NormForward,
    /// Batch norm backward.
    NormBackward,
    /// The optimizer's step and zeroing the gradients.
    Optimizer,
    /// The training program: convolution weights to and from the orders its kernels read.
    WeightReorder,
    /// The training program: direct convolution, forward.
    ConvForwardDirect,
    /// The training program: direct convolution, the input gradient of a stride-1 one.
    ConvBackwardInputDirect,
    /// The training program: direct convolution, the weight and bias gradients.
    ConvBackwardWeightDirect,
    /// The training program: ReLU and residual adds not fused into another node.
    Elementwise,
    /// The training program: global pooling, flattening, the linear layer and the loss.
    Head,
}

/// Every phase, in report order.
pub const PHASES: [Phase; 19] = [
    Phase::Copies,
    Phase::ConvForwardDirect,
    Phase::ConvForwardIm2col,
    Phase::ConvForwardGemm,
    Phase::ConvForwardScatter,
    Phase::ConvBackwardIm2col,
    Phase::ConvBackwardWeight,
    Phase::ConvBackwardWeightDirect,
    Phase::ConvBackwardInput,
    Phase::ConvBackwardInputDirect,
    Phase::ConvBackwardCol2im,
    Phase::PoolForward,
    Phase::PoolBackward,
    Phase::NormForward,
    Phase::NormBackward,
    Phase::Optimizer,
    Phase::WeightReorder,
    Phase::Elementwise,
    Phase::Head,
];

impl Phase {
    /// The phase's name in reports.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Copies => "input copies",
            Phase::ConvForwardIm2col => "conv forward: im2row",
            Phase::ConvForwardGemm => "conv forward: gemm",
            Phase::ConvForwardScatter => "conv forward: transpose + bias",
            Phase::ConvBackwardIm2col => "conv backward: im2row",
            Phase::ConvBackwardWeight => "conv backward: weight gemm",
            Phase::ConvBackwardInput => "conv backward: input gemm",
            Phase::ConvBackwardCol2im => "conv backward: row2im + reorder",
            Phase::PoolForward => "max-pool forward",
            Phase::PoolBackward => "max-pool backward",
            Phase::NormForward => "batch norm forward",
            Phase::NormBackward => "batch norm backward",
            Phase::Optimizer => "sgd update + zeroing gradients",
            Phase::WeightReorder => "conv weights to and from the kernels' order",
            Phase::ConvForwardDirect => "conv forward: direct",
            Phase::ConvBackwardInputDirect => "conv backward: input, direct",
            Phase::ConvBackwardWeightDirect => "conv backward: weight + bias, direct",
            Phase::Elementwise => "relu + residual add (unfused)",
            Phase::Head => "global pool, flatten, linear, loss",
        }
    }
}

static ENABLED: AtomicBool = AtomicBool::new(false);
static NANOS: [AtomicU64; PHASES.len()] = [const { AtomicU64::new(0) }; PHASES.len()];

/// Starts (or stops) collecting.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Zeroes every counter.
pub fn reset() {
    NANOS.iter().for_each(|n| n.store(0, Ordering::Relaxed));
}

/// Time spent in each phase since the last reset.
pub fn totals() -> Vec<(Phase, Duration)> {
    PHASES.iter().map(|&p| (p, Duration::from_nanos(NANOS[p as usize].load(Ordering::Relaxed)))).collect()
}

/// Runs `f`, adding its duration to `phase` when profiling is on.
#[inline(always)]
pub fn timed<R>(phase: Phase, f: impl FnOnce() -> R) -> R {
    if !ENABLED.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let r = f();
    NANOS[phase as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
    r
}

/// A phase being timed until it is dropped ([`span`]).
pub struct Span {
    phase: Phase,
    start: Option<Instant>,
}

/// Starts timing `phase` (when profiling is on) until the returned [`Span`] is dropped.
#[inline(always)]
pub fn span(phase: Phase) -> Span {
    Span { phase, start: ENABLED.load(Ordering::Relaxed).then(Instant::now) }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(start) = self.start {
            NANOS[self.phase as usize].fetch_add(start.elapsed().as_nanos() as u64, Ordering::Relaxed);
        }
    }
}
