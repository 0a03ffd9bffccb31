//! The int8 model file: read in place without allocating, every field checked before a
//! kernel sees it, and written (with `alloc`) by the quantizer.
//!
//! Layout, little-endian: `INT8_MAGIC`, version `u32`, the header, the steps, CRC-32 of
//! everything before it. Header: model name (`u8` length, UTF-8), input C, H, W and
//! classes (`u16` each), input scale `f32` and zero point `i32`, the input's arena offset
//! and the arena's length (`u32`), the number of steps (`u16`). Each step: a tag `u8`, the
//! arena offsets of its source and destination (`u32`), its input H, W, C (`u16`), then
//! its own fields (see [`Step`]). Activations are channels-last (H, W, C) `i8`; convolution
//! weights are (O, K, K, C) `i8`; per-channel values `i32`.

use super::error::Int8Error;
use super::fixed_point::valid_multiplier;

/// First bytes of an int8 model file.
pub const INT8_MAGIC: [u8; 8] = *b"RESNINT8";
/// The int8 format version this build writes and reads.
pub const VERSION: u32 = 1;

/// What the whole file says before its steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Header<'a> {
    /// The model's name (`resnet8`).
    pub model: &'a str,
    /// The input the model was quantized for: C, H, W.
    pub input: [usize; 3],
    /// Classes (logits).
    pub classes: usize,
    /// `real = scale · (q − zero_point)` for the input.
    pub input_scale: f32,
    /// The input's zero point.
    pub input_zero_point: i32,
    /// Where the input goes in the arena.
    pub input_offset: usize,
    /// Bytes of activations the model needs.
    pub arena_len: usize,
    /// Number of steps.
    pub steps: usize,
}

/// Little-endian `i32` values borrowed from the file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ints<'a>(&'a [u8]);

impl<'a> Ints<'a> {
    /// Value `i` (0 past the end; lengths are checked when the file is read).
    #[inline(always)]
    pub fn at(&self, i: usize) -> i32 {
        match self.0.get(4 * i..4 * i + 4) {
            Some(&[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every value, in order.
    pub fn iter(&self) -> impl Iterator<Item = i32> + 'a {
        self.0.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// Where a step reads and writes in the arena, and the shape it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Io {
    /// Offset of the source activations.
    pub src: usize,
    /// Offset of the destination.
    pub dst: usize,
    /// Source H, W, C.
    pub input: [usize; 3],
}

/// A requantization: `q_out = zero_point_out + (q − zero_point) · multiplier · 2^(shift−31)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rescale {
    /// The input's zero point.
    pub zero_point: i32,
    /// Fixed-point multiplier.
    pub multiplier: i32,
    /// Power-of-two exponent.
    pub shift: i32,
}

/// A convolution with its bias, requantization, optional residual add and ReLU.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv<'a> {
    /// Arena offsets and the input shape.
    pub io: Io,
    /// O.
    pub out_channels: usize,
    /// K, stride, zero padding.
    pub window: [usize; 3],
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// The lowest output (−128, or the output's zero point where a ReLU follows).
    pub output_min: i32,
    /// The residual added in the epilogue: the destination's old contents, rescaled.
    pub residual: Option<Rescale>,
    /// (O, K, K, C) weights, `i8` stored as bytes.
    pub weights: &'a [u8],
    /// Per output channel: bias (in the accumulator's scale), multiplier, shift.
    pub bias: Ints<'a>,
    /// Per output channel multiplier.
    pub multiplier: Ints<'a>,
    /// Per output channel shift.
    pub shift: Ints<'a>,
}

/// A per-channel affine map (a batch norm on its own) with optional ReLU:
/// `q_out = zp_out + offset[c] + (q − zp_in) · M[c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine<'a> {
    /// Arena offsets and the input shape.
    pub io: Io,
    /// The input's zero point.
    pub input_zero_point: i32,
    /// The output's zero point.
    pub output_zero_point: i32,
    /// The lowest output.
    pub output_min: i32,
    /// Per channel multiplier (negative for a negative factor).
    pub multiplier: Ints<'a>,
    /// Per channel shift.
    pub shift: Ints<'a>,
    /// Per channel offset, in output steps.
    pub offset: Ints<'a>,
}

/// The last step: `logit[o] = scale[o] · (bias[o] + Σ (q − zp) · w[o])` over a 1×1×C input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Linear<'a> {
    /// Arena offset of the input and its shape (1, 1, C).
    pub io: Io,
    /// The input's zero point.
    pub input_zero_point: i32,
    /// (classes, C) weights, `i8` stored as bytes.
    pub weights: &'a [u8],
    /// Per class bias in the accumulator's scale.
    pub bias: Ints<'a>,
    /// Per class `f32` scale of the accumulator, as little-endian bytes.
    pub scale: &'a [u8],
}

impl Linear<'_> {
    /// The scale of class `o`.
    pub fn scale(&self, o: usize) -> f32 {
        match self.scale.get(4 * o..4 * o + 4) {
            Some(&[a, b, c, d]) => f32::from_le_bytes([a, b, c, d]),
            _ => 0.0,
        }
    }
}

/// One step of an int8 model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step<'a> {
    /// Convolution, requantization, residual add, ReLU.
    Conv(Conv<'a>),
    /// Per-channel affine map.
    Affine(Affine<'a>),
    /// Max-pooling (kernel, stride, padding), scales unchanged.
    MaxPool(Io, [usize; 3]),
    /// The mean of each channel, scales unchanged: (H, W, C) → (1, 1, C).
    AvgPool(Io),
    /// The classifier.
    Linear(Linear<'a>),
}

impl Step<'_> {
    /// Where it reads and writes.
    pub fn io(&self) -> Io {
        match self {
            Step::Conv(c) => c.io,
            Step::Affine(a) => a.io,
            Step::MaxPool(io, _) | Step::AvgPool(io) => *io,
            Step::Linear(l) => l.io,
        }
    }

    /// The H, W, C it writes (the linear layer: 1, 1, classes).
    pub fn output(&self) -> [usize; 3] {
        let [h, w, c] = self.io().input;
        match self {
            Step::Conv(conv) => {
                let [k, s, p] = conv.window;
                [out_size(h, k, s, p), out_size(w, k, s, p), conv.out_channels]
            }
            Step::Affine(_) => [h, w, c],
            Step::MaxPool(_, [k, s, p]) => [out_size(h, *k, *s, *p), out_size(w, *k, *s, *p), c],
            Step::AvgPool(_) => [1, 1, c],
            Step::Linear(l) => [1, 1, l.bias.len()],
        }
    }
}

/// Output positions of a window of `k`, stride `s`, padding `p` over `n` (0 when none fit).
pub fn out_size(n: usize, k: usize, s: usize, p: usize) -> usize {
    match (n + 2 * p).checked_sub(k) {
        Some(room) if s > 0 => room / s + 1,
        _ => 0,
    }
}

const TAG_CONV: u8 = 1;
const TAG_AFFINE: u8 = 2;
const TAG_MAX_POOL: u8 = 3;
const TAG_AVG_POOL: u8 = 4;
const TAG_LINEAR: u8 = 5;

/// An int8 model's bytes, checked, read in place.
#[derive(Clone, Copy, Debug)]
pub struct Int8Model<'a> {
    /// The header.
    pub header: Header<'a>,
    steps: &'a [u8],
}

impl<'a> Int8Model<'a> {
    /// Checks the framing (magic, version, CRC) and every step: offsets and shapes inside
    /// the arena, source and destination apart, multipliers, shifts and zero points in
    /// range, lengths as the shapes say, the linear layer last. Allocates nothing.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, Int8Error> {
        if bytes.starts_with(b"RESNDFDX") || bytes.starts_with(b"RESNWGTS") {
            return Err(Int8Error::Float);
        }
        if !bytes.starts_with(&INT8_MAGIC) {
            return Err(Int8Error::BadMagic);
        }
        let Some(body_len) = bytes.len().checked_sub(4) else { return Err(Int8Error::Truncated) };
        let mut r = Reader { bytes: &bytes[..body_len], at: INT8_MAGIC.len() };
        let version = r.u32()?;
        if version != VERSION {
            return Err(Int8Error::Version(version));
        }
        let crc = &bytes[body_len..];
        if crc32fast::hash(&bytes[..body_len]) != u32::from_le_bytes([crc[0], crc[1], crc[2], crc[3]]) {
            return Err(Int8Error::Checksum);
        }
        let header = read_header(&mut r)?;
        let steps = &r.bytes[r.at..];
        let model = Int8Model { header, steps };
        model.check()?;
        Ok(model)
    }

    /// Multiply-accumulates of one inference: every convolution's and the classifier's.
    pub fn multiply_accumulates(&self) -> u64 {
        self.steps()
            .map(|step| {
                let [_, _, c] = step.io().input;
                let [oh, ow, o] = step.output();
                let taps = match step {
                    Step::Conv(conv) => conv.window[0] * conv.window[0] * c,
                    Step::Linear(_) => c,
                    _ => 0,
                };
                (oh * ow * o) as u64 * taps as u64
            })
            .sum()
    }

    /// The steps, in order.
    pub fn steps(&self) -> impl Iterator<Item = Step<'a>> + 'a {
        let mut r = Reader { bytes: self.steps, at: 0 };
        (0..self.header.steps).map_while(move |_| read_step(&mut r).ok())
    }

    /// Every step read and checked once (see [`Int8Model::parse`]).
    fn check(&self) -> Result<(), Int8Error> {
        let h = &self.header;
        let [c, height, width] = h.input;
        let input_len = product(&[c, height, width])?;
        let fits = |offset: usize, len: usize| offset.checked_add(len).is_some_and(|end| end <= h.arena_len);
        let invalid = |reason| Int8Error::Invalid { step: None, reason };
        if c == 0 || height == 0 || width == 0 || h.classes == 0 || h.steps == 0 {
            return Err(invalid("an empty input, no classes or no steps"));
        }
        if !(h.input_scale.is_finite() && h.input_scale > 0.0) {
            return Err(invalid("input scale is zero, negative or not finite"));
        }
        if !zero_point(h.input_zero_point) {
            return Err(invalid("input zero point out of range"));
        }
        if !fits(h.input_offset, input_len) {
            return Err(invalid("the input lies outside the arena"));
        }
        let mut r = Reader { bytes: self.steps, at: 0 };
        for i in 0..h.steps {
            let at_step = |reason| Int8Error::Invalid { step: Some(i), reason };
            let step = read_step(&mut r).map_err(|e| match e {
                Int8Error::Invalid { reason, .. } => at_step(reason),
                other => other,
            })?;
            check_step(&step, i + 1 == h.steps, h.classes).map_err(at_step)?;
            let io = step.io();
            let [ih, iw, ic] = io.input;
            let [oh, ow, oc] = step.output();
            let (src_len, dst_len) = (product(&[ih, iw, ic])?, product(&[oh, ow, oc])?);
            if src_len == 0 || dst_len == 0 {
                return Err(at_step("an empty input or output"));
            }
            let last = matches!(step, Step::Linear(_));
            if !fits(io.src, src_len) || (!last && !fits(io.dst, dst_len)) {
                return Err(at_step("activations outside the arena"));
            }
            if !last && io.src < io.dst + dst_len && io.dst < io.src + src_len {
                return Err(at_step("source and destination overlap"));
            }
        }
        if r.at != r.bytes.len() {
            return Err(Int8Error::TrailingBytes);
        }
        Ok(())
    }
}

/// The product of `factors`; an overflow (possible on 32-bit targets) is a truncated file.
fn product(factors: &[usize]) -> Result<usize, Int8Error> {
    factors.iter().try_fold(1usize, |n, &f| n.checked_mul(f)).ok_or(Int8Error::Truncated)
}

fn zero_point(zp: i32) -> bool {
    (-128..=127).contains(&zp)
}

/// The checks of one step's own fields.
fn check_step(step: &Step<'_>, last: bool, classes: usize) -> Result<(), &'static str> {
    if last != matches!(step, Step::Linear(_)) {
        return Err("the classifier must be the last step, and only the last");
    }
    let multipliers =
        |m: &Ints<'_>, s: &Ints<'_>| m.iter().zip(s.iter()).all(|(m, s)| valid_multiplier(m, s));
    match step {
        Step::Conv(conv) => {
            let [k, s, _] = conv.window;
            if k == 0 || s == 0 {
                return Err("a convolution window of size or stride 0");
            }
            if !multipliers(&conv.multiplier, &conv.shift)
                || conv.residual.is_some_and(|r| !valid_multiplier(r.multiplier, r.shift))
            {
                return Err("multiplier or shift out of range");
            }
            let zps = [conv.input_zero_point, conv.output_zero_point, conv.output_min];
            if !zps.into_iter().chain(conv.residual.map(|r| r.zero_point)).all(zero_point) {
                return Err("zero point out of range");
            }
        }
        Step::Affine(a) => {
            if !multipliers(&a.multiplier, &a.shift) {
                return Err("multiplier or shift out of range");
            }
            if ![a.input_zero_point, a.output_zero_point, a.output_min].into_iter().all(zero_point) {
                return Err("zero point out of range");
            }
        }
        Step::MaxPool(_, [k, s, p]) => {
            if *k == 0 || *s == 0 || *p >= *k {
                return Err("a pooling window of size or stride 0, or padding as large as it");
            }
        }
        Step::AvgPool(_) => {}
        Step::Linear(l) => {
            let [h, w, _] = l.io.input;
            if h * w != 1 {
                return Err("the classifier takes a 1x1 input");
            }
            if l.bias.len() != classes {
                return Err("the classifier's outputs are not the header's classes");
            }
            if !zero_point(l.input_zero_point) {
                return Err("zero point out of range");
            }
            if !(0..classes).all(|o| l.scale(o).is_finite() && l.scale(o) > 0.0) {
                return Err("a classifier scale is zero, negative or not finite");
            }
        }
    }
    Ok(())
}

/// A cursor over the file's bytes; every read checks the length left.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Int8Error> {
        let end = self.at.checked_add(n).ok_or(Int8Error::Truncated)?;
        let out = self.bytes.get(self.at..end).ok_or(Int8Error::Truncated)?;
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], Int8Error> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<usize, Int8Error> {
        Ok(usize::from(self.array::<1>()?[0]))
    }

    fn u16(&mut self) -> Result<usize, Int8Error> {
        Ok(usize::from(u16::from_le_bytes(self.array()?)))
    }

    fn u32(&mut self) -> Result<u32, Int8Error> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn offset(&mut self) -> Result<usize, Int8Error> {
        Ok(self.u32()? as usize)
    }

    fn i32(&mut self) -> Result<i32, Int8Error> {
        Ok(i32::from_le_bytes(self.array()?))
    }

    fn f32(&mut self) -> Result<f32, Int8Error> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    fn ints(&mut self, n: usize) -> Result<Ints<'a>, Int8Error> {
        Ok(Ints(self.take(n.checked_mul(4).ok_or(Int8Error::Truncated)?)?))
    }

    fn io(&mut self) -> Result<Io, Int8Error> {
        Ok(Io { src: self.offset()?, dst: self.offset()?, input: [self.u16()?, self.u16()?, self.u16()?] })
    }
}

fn read_header<'a>(r: &mut Reader<'a>) -> Result<Header<'a>, Int8Error> {
    let name_len = r.u8()?;
    let model = core::str::from_utf8(r.take(name_len)?)
        .map_err(|_| Int8Error::Invalid { step: None, reason: "the model name is not UTF-8" })?;
    Ok(Header {
        model,
        input: [r.u16()?, r.u16()?, r.u16()?],
        classes: r.u16()?,
        input_scale: r.f32()?,
        input_zero_point: r.i32()?,
        input_offset: r.offset()?,
        arena_len: r.offset()?,
        steps: r.u16()?,
    })
}

fn read_step<'a>(r: &mut Reader<'a>) -> Result<Step<'a>, Int8Error> {
    let tag = r.array::<1>()?[0];
    let io = r.io()?;
    let [_, _, c] = io.input;
    Ok(match tag {
        TAG_CONV => {
            let (out_channels, window) = (r.u16()?, [r.u8()?, r.u8()?, r.u8()?]);
            let has_residual = r.u8()?;
            let (input_zero_point, output_zero_point, output_min) = (r.i32()?, r.i32()?, r.i32()?);
            let rescale = Rescale { zero_point: r.i32()?, multiplier: r.i32()?, shift: r.i32()? };
            let residual = match has_residual {
                0 => None,
                1 => Some(rescale),
                _ => return Err(Int8Error::Invalid { step: None, reason: "unknown residual flag" }),
            };
            let taps = product(&[window[0], window[0], c])?;
            Step::Conv(Conv {
                io,
                out_channels,
                window,
                input_zero_point,
                output_zero_point,
                output_min,
                residual,
                weights: r.take(product(&[out_channels, taps])?)?,
                bias: r.ints(out_channels)?,
                multiplier: r.ints(out_channels)?,
                shift: r.ints(out_channels)?,
            })
        }
        TAG_AFFINE => Step::Affine(Affine {
            io,
            input_zero_point: r.i32()?,
            output_zero_point: r.i32()?,
            output_min: r.i32()?,
            multiplier: r.ints(c)?,
            shift: r.ints(c)?,
            offset: r.ints(c)?,
        }),
        TAG_MAX_POOL => Step::MaxPool(io, [r.u8()?, r.u8()?, r.u8()?]),
        TAG_AVG_POOL => Step::AvgPool(io),
        TAG_LINEAR => {
            let (classes, input_zero_point) = (r.u16()?, r.i32()?);
            Step::Linear(Linear {
                io,
                input_zero_point,
                weights: r.take(product(&[classes, c])?)?,
                bias: r.ints(classes)?,
                scale: r.take(classes * 4)?,
            })
        }
        _ => return Err(Int8Error::Invalid { step: None, reason: "unknown step kind" }),
    })
}

#[cfg(feature = "std")]
pub use writer::Writer;

/// Writing the format (the quantizer's side).
#[cfg(feature = "std")]
mod writer {
    use super::*;
    use alloc::vec::Vec;

    /// Builds an int8 model file field by field, in the order [`Int8Model::parse`] reads.
    #[derive(Debug, Default)]
    pub struct Writer {
        bytes: Vec<u8>,
    }

    impl Writer {
        /// The magic, the version and `header`.
        pub fn new(header: &Header<'_>) -> Self {
            let mut w = Writer { bytes: INT8_MAGIC.to_vec() };
            w.u32(VERSION);
            w.u8(header.model.len().min(255));
            w.bytes.extend_from_slice(&header.model.as_bytes()[..header.model.len().min(255)]);
            let [c, h, width] = header.input;
            for v in [c, h, width, header.classes] {
                w.u16(v);
            }
            w.bytes.extend_from_slice(&header.input_scale.to_le_bytes());
            w.i32(header.input_zero_point);
            w.offset(header.input_offset);
            w.offset(header.arena_len);
            w.u16(header.steps);
            w
        }

        /// Appends `step`.
        pub fn step(&mut self, step: &Step<'_>) {
            let (tag, io) = match step {
                Step::Conv(c) => (TAG_CONV, c.io),
                Step::Affine(a) => (TAG_AFFINE, a.io),
                Step::MaxPool(io, _) => (TAG_MAX_POOL, *io),
                Step::AvgPool(io) => (TAG_AVG_POOL, *io),
                Step::Linear(l) => (TAG_LINEAR, l.io),
            };
            self.u8(usize::from(tag));
            self.offset(io.src);
            self.offset(io.dst);
            io.input.into_iter().for_each(|v| self.u16(v));
            match step {
                Step::Conv(c) => {
                    self.u16(c.out_channels);
                    c.window.into_iter().for_each(|v| self.u8(v));
                    self.u8(usize::from(c.residual.is_some()));
                    let r = c.residual.unwrap_or(Rescale { zero_point: 0, multiplier: 0, shift: 0 });
                    for v in [
                        c.input_zero_point,
                        c.output_zero_point,
                        c.output_min,
                        r.zero_point,
                        r.multiplier,
                        r.shift,
                    ] {
                        self.i32(v);
                    }
                    self.bytes.extend_from_slice(c.weights);
                    for ints in [c.bias, c.multiplier, c.shift] {
                        self.bytes.extend_from_slice(ints.0);
                    }
                }
                Step::Affine(a) => {
                    [a.input_zero_point, a.output_zero_point, a.output_min]
                        .into_iter()
                        .for_each(|v| self.i32(v));
                    for ints in [a.multiplier, a.shift, a.offset] {
                        self.bytes.extend_from_slice(ints.0);
                    }
                }
                Step::MaxPool(_, window) => window.iter().for_each(|&v| self.u8(v)),
                Step::AvgPool(_) => {}
                Step::Linear(l) => {
                    self.u16(l.bias.len());
                    self.i32(l.input_zero_point);
                    self.bytes.extend_from_slice(l.weights);
                    self.bytes.extend_from_slice(l.bias.0);
                    self.bytes.extend_from_slice(l.scale);
                }
            }
        }

        /// The file: everything so far and its CRC-32.
        pub fn finish(mut self) -> Vec<u8> {
            let crc = crc32fast::hash(&self.bytes);
            self.bytes.extend_from_slice(&crc.to_le_bytes());
            self.bytes
        }

        fn u8(&mut self, v: usize) {
            self.bytes.push(v as u8);
        }

        fn u16(&mut self, v: usize) {
            self.bytes.extend_from_slice(&(v as u16).to_le_bytes());
        }

        fn offset(&mut self, v: usize) {
            self.bytes.extend_from_slice(&(v as u32).to_le_bytes());
        }

        fn u32(&mut self, v: u32) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }

        fn i32(&mut self, v: i32) {
            self.bytes.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// `values` as the bytes [`Ints`] reads.
    pub fn int_bytes(values: &[i32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    impl<'a> Ints<'a> {
        /// Values stored as little-endian `i32` in `bytes`.
        pub fn from_le_bytes(bytes: &'a [u8]) -> Self {
            Ints(bytes)
        }
    }
}

#[cfg(feature = "std")]
pub use writer::int_bytes;
