//! Running an int8 model: its steps over one caller-given arena of activations, without a
//! heap. Each step reads one region of the arena and writes another (a residual add reads
//! its destination first), as the file's memory plan placed them.

use super::error::Int8Error;
use super::format::{Int8Model, Step};
use super::kernels;

impl Int8Model<'_> {
    /// The input quantized as the model takes it: `round(x / scale) + zero_point`, clamped.
    pub fn quantize_input(&self, x: f32) -> i8 {
        let q = libm::roundf(x / self.header.input_scale) as i32 + self.header.input_zero_point;
        q.clamp(-128, 127) as i8
    }

    /// The logits of one image into `logits`, working in `arena` (at least
    /// `header.arena_len` bytes; its contents on return are the last activations).
    ///
    /// # Shapes
    /// `image`: (C, H, W) as `header.input`, pixels scaled as in training; `logits`:
    /// (classes,).
    pub fn logits(&self, image: &[f32], arena: &mut [i8], logits: &mut [f32]) -> Result<(), Int8Error> {
        let [c, h, w] = self.header.input;
        if image.len() != c * h * w {
            return Err(Int8Error::Input { expected: c * h * w, found: image.len() });
        }
        let input = self.input(arena)?;
        for (i, x) in image.iter().enumerate() {
            // (C, H, W) → (H, W, C)
            let (ch, pos) = (i / (h * w), i % (h * w));
            input[pos * c + ch] = self.quantize_input(*x);
        }
        self.run(arena, logits)
    }

    /// Where the caller writes a quantized (H, W, C) image before [`Int8Model::run`].
    pub fn input<'b>(&self, arena: &'b mut [i8]) -> Result<&'b mut [i8], Int8Error> {
        self.check_arena(arena)?;
        let [c, h, w] = self.header.input;
        Ok(&mut arena[self.header.input_offset..][..c * h * w])
    }

    /// Runs the steps on the image already in `arena`'s input region into `logits`.
    pub fn run(&self, arena: &mut [i8], logits: &mut [f32]) -> Result<(), Int8Error> {
        self.check_arena(arena)?;
        if logits.len() != self.header.classes {
            return Err(Int8Error::Logits { expected: self.header.classes, found: logits.len() });
        }
        for step in self.steps() {
            let io = step.io();
            let [h, w, c] = io.input;
            let [oh, ow, oc] = step.output();
            let src_range = io.src..io.src + h * w * c;
            if let Step::Linear(linear) = &step {
                kernels::linear(linear, &arena[src_range], logits);
                continue;
            }
            let (src, dst) = split(arena, src_range, io.dst..io.dst + oh * ow * oc);
            match &step {
                Step::Conv(conv) => kernels::conv(conv, src, dst),
                Step::Affine(affine) => kernels::affine(affine, src, dst),
                Step::MaxPool(_, window) => kernels::max_pool(io.input, *window, src, dst),
                Step::AvgPool(_) => kernels::avg_pool(io.input, src, dst),
                Step::Linear(_) => {}
            }
        }
        Ok(())
    }

    fn check_arena(&self, arena: &[i8]) -> Result<(), Int8Error> {
        if arena.len() < self.header.arena_len {
            return Err(Int8Error::Arena { needed: self.header.arena_len, given: arena.len() });
        }
        Ok(())
    }
}

/// Two disjoint regions of the arena (the file's check keeps them apart and inside).
fn split(arena: &mut [i8], src: core::ops::Range<usize>, dst: core::ops::Range<usize>) -> (&[i8], &mut [i8]) {
    if src.start < dst.start {
        let (low, high) = arena.split_at_mut(dst.start);
        (&low[src], &mut high[..dst.len()])
    } else {
        let (low, high) = arena.split_at_mut(src.start);
        (&high[..src.len()], &mut low[dst])
    }
}
