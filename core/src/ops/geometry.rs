//! The run-time sizes of one 2-D window op (convolution or pooling) on one batch.

use crate::shape::window_out;

/// Sizes of a 2-D window op on a batch, all as plain numbers (what the kernels loop over).
///
/// # Shapes
/// Input `(N, C, H, W)`, weight `(O, C, K, K)` (convolution only), output `(N, O, OH, OW)`;
/// for pooling `O = C`. `OH = window_out(H, K, S, P)`, likewise `OW`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Geometry2d {
    /// N: images in the batch.
    pub batch: usize,
    /// C: input channels.
    pub in_channels: usize,
    /// O: output channels (= C for pooling).
    pub out_channels: usize,
    /// H: input height.
    pub height: usize,
    /// W: input width.
    pub width: usize,
    /// K: kernel side.
    pub kernel: usize,
    /// S: stride.
    pub stride: usize,
    /// P: zero (convolution) or -inf (max-pool) padding on every side.
    pub padding: usize,
    /// OH: output height.
    pub out_height: usize,
    /// OW: output width.
    pub out_width: usize,
}

impl Geometry2d {
    /// The geometry of a window (`kernel`, `stride`, `padding`) over `(batch, in_channels,
    /// height, width)` producing `out_channels` planes.
    pub const fn new(
        [batch, in_channels, height, width]: [usize; 4],
        out_channels: usize,
        [kernel, stride, padding]: [usize; 3],
    ) -> Self {
        Self {
            batch,
            in_channels,
            out_channels,
            height,
            width,
            kernel,
            stride,
            padding,
            out_height: window_out(height, kernel, stride, padding),
            out_width: window_out(width, kernel, stride, padding),
        }
    }

    /// H × W: elements of one input plane.
    pub const fn in_plane(&self) -> usize {
        self.height * self.width
    }

    /// OH × OW: elements of one output plane.
    pub const fn out_plane(&self) -> usize {
        self.out_height * self.out_width
    }

    /// C × K × K: length of one im2col patch (one row of the weight matrix).
    pub const fn patch_len(&self) -> usize {
        self.in_channels * self.kernel * self.kernel
    }

    /// N × C × H × W.
    pub const fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.in_plane()
    }

    /// N × O × OH × OW.
    pub const fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_plane()
    }

    /// O × C × K × K.
    pub const fn weight_len(&self) -> usize {
        self.out_channels * self.patch_len()
    }

    /// The input coordinate of output position `o` and kernel tap `t` along one axis, or
    /// `None` when it falls into the padding.
    #[inline(always)]
    pub const fn source(&self, o: usize, t: usize, extent: usize) -> Option<usize> {
        let i = o * self.stride + t;
        if i < self.padding || i - self.padding >= extent {
            None
        } else {
            Some(i - self.padding)
        }
    }
}
