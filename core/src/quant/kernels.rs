//! Int8 kernels on channels-last (H, W, C) activations, single-threaded, without `std` or a
//! heap: the convolution with its requantization, residual add and ReLU in the epilogue,
//! the per-channel affine map, max and average pooling, and the classifier.
//!
//! A convolution works one output position at a time: the accumulators of up to
//! [`CHUNK`] output channels and the zero-point-corrected input of one tap (up to `CHUNK`
//! channels) live on the stack; each tap's row of weights is contiguous.

use super::dot::dot;
use super::fixed_point::multiply_by_quantized_multiplier as requantize;
use super::format::{out_size, Affine, Conv, Linear};

/// Channels held on the stack at once.
pub const CHUNK: usize = 64;

/// The convolution `step` from `src` into `dst`; where the step has a residual, `dst`
/// holds it on entry (each position is read before it is written).
///
/// # Shapes
/// `src`: (H, W, C) as `step.io.input`; `dst`: (OH, OW, O).
pub fn conv(step: &Conv<'_>, src: &[i8], dst: &mut [i8]) {
    let [h, w, c] = step.io.input;
    let [k, s, p] = step.window;
    let (oh, ow, o_all) = (out_size(h, k, s, p), out_size(w, k, s, p), step.out_channels);
    let mut patch = [0i16; CHUNK];
    let mut acc = [0i32; CHUNK];
    for oy in 0..oh {
        for ox in 0..ow {
            let out = &mut dst[(oy * ow + ox) * o_all..][..o_all];
            for o0 in (0..o_all).step_by(CHUNK) {
                let os = o0..(o0 + CHUNK).min(o_all);
                for (a, o) in acc.iter_mut().zip(os.clone()) {
                    *a = step.bias.at(o);
                }
                for ky in 0..k {
                    let Some(iy) = (oy * s + ky).checked_sub(p).filter(|&iy| iy < h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = (ox * s + kx).checked_sub(p).filter(|&ix| ix < w) else { continue };
                        let pixel = &src[(iy * w + ix) * c..][..c];
                        for c0 in (0..c).step_by(CHUNK) {
                            let cs = c0..(c0 + CHUNK).min(c);
                            let x = &mut patch[..cs.len()];
                            for (x, &v) in x.iter_mut().zip(&pixel[cs.clone()]) {
                                *x = (i32::from(v) - step.input_zero_point) as i16;
                            }
                            for (a, o) in acc.iter_mut().zip(os.clone()) {
                                let row = ((o * k + ky) * k + kx) * c;
                                *a += dot(x, &step.weights[row + c0..row + cs.end]);
                            }
                        }
                    }
                }
                for (a, o) in acc.iter().zip(os) {
                    let mut y =
                        step.output_zero_point + requantize(*a, step.multiplier.at(o), step.shift.at(o));
                    if let Some(r) = step.residual {
                        y += requantize(i32::from(out[o]) - r.zero_point, r.multiplier, r.shift);
                    }
                    out[o] = y.clamp(step.output_min, 127) as i8;
                }
            }
        }
    }
}

/// The per-channel affine map `step` from `src` into `dst`.
///
/// # Shapes
/// `src`, `dst`: (H, W, C).
pub fn affine(step: &Affine<'_>, src: &[i8], dst: &mut [i8]) {
    let c = step.io.input[2];
    for (i, (y, &x)) in dst.iter_mut().zip(src).enumerate() {
        let ch = i % c;
        let v = step.output_zero_point
            + step.offset.at(ch)
            + requantize(i32::from(x) - step.input_zero_point, step.multiplier.at(ch), step.shift.at(ch));
        *y = v.clamp(step.output_min, 127) as i8;
    }
}

/// Max-pooling with `window` (kernel, stride, padding; padding never wins).
///
/// # Shapes
/// `src`: (H, W, C) as `input`; `dst`: (OH, OW, C).
pub fn max_pool(input: [usize; 3], window: [usize; 3], src: &[i8], dst: &mut [i8]) {
    let [h, w, c] = input;
    let [k, s, p] = window;
    let ow = out_size(w, k, s, p);
    for (i, y) in dst.iter_mut().enumerate() {
        let (ch, pos) = (i % c, i / c);
        let (oy, ox) = (pos / ow, pos % ow);
        let mut best = i8::MIN;
        for ky in 0..k {
            let Some(iy) = (oy * s + ky).checked_sub(p).filter(|&iy| iy < h) else { continue };
            for kx in 0..k {
                let Some(ix) = (ox * s + kx).checked_sub(p).filter(|&ix| ix < w) else { continue };
                best = best.max(src[(iy * w + ix) * c + ch]);
            }
        }
        *y = best;
    }
}

/// The mean of each channel, rounded to nearest (ties away from zero), scales unchanged.
///
/// # Shapes
/// `src`: (H, W, C) as `input`; `dst`: (C,).
pub fn avg_pool(input: [usize; 3], src: &[i8], dst: &mut [i8]) {
    let [h, w, c] = input;
    let n = (h * w) as i32;
    for (ch, y) in dst.iter_mut().enumerate().take(c) {
        let sum: i32 = src.iter().skip(ch).step_by(c).map(|&v| i32::from(v)).sum();
        let rounded = if sum >= 0 { (sum + n / 2) / n } else { (sum - n / 2) / n };
        *y = rounded.clamp(-128, 127) as i8;
    }
}

/// The classifier's logits, `f32`.
///
/// # Shapes
/// `src`: (C,); `logits`: (classes,).
pub fn linear(step: &Linear<'_>, src: &[i8], logits: &mut [f32]) {
    let c = step.io.input[2];
    let mut x = [0i16; CHUNK];
    for (o, logit) in logits.iter_mut().enumerate() {
        let mut acc = step.bias.at(o);
        for c0 in (0..c).step_by(CHUNK) {
            let cs = c0..(c0 + CHUNK).min(c);
            for (x, &v) in x.iter_mut().zip(&src[cs.clone()]) {
                *x = (i32::from(v) - step.input_zero_point) as i16;
            }
            acc += dot(&x[..cs.len()], &step.weights[o * c + c0..o * c + cs.end]);
        }
        *logit = acc as f32 * step.scale(o);
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::super::fixed_point::quantize_multiplier;
    use super::super::format::{int_bytes, Ints, Io, Rescale};
    use super::*;

    /// A small deterministic generator of bytes and factors.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u32 {
            self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) as u32
        }
        fn i8(&mut self) -> i8 {
            self.next() as i8
        }
        fn int(&mut self, lo: i32, hi: i32) -> i32 {
            lo + (self.next() % (hi - lo + 1) as u32) as i32
        }
        fn factor(&mut self) -> (i32, i32) {
            quantize_multiplier(f64::from(self.next() % 10_000 + 1) * 1e-6).unwrap()
        }
    }

    /// The definition: for each output value, the sum over its window, then the epilogue.
    fn reference_conv(step: &Conv<'_>, src: &[i8], dst: &mut [i8]) {
        let [h, w, c] = step.io.input;
        let [k, s, p] = step.window;
        let (oh, ow, o_all) = (out_size(h, k, s, p), out_size(w, k, s, p), step.out_channels);
        for oy in 0..oh {
            for ox in 0..ow {
                for o in 0..o_all {
                    let mut acc = i64::from(step.bias.at(o));
                    for ky in 0..k {
                        for kx in 0..k {
                            let (iy, ix) = ((oy * s + ky) as i64 - p as i64, (ox * s + kx) as i64 - p as i64);
                            if iy < 0 || ix < 0 || iy >= h as i64 || ix >= w as i64 {
                                continue;
                            }
                            for ci in 0..c {
                                let x = i64::from(src[(iy as usize * w + ix as usize) * c + ci]);
                                let wt = i64::from(step.weights[((o * k + ky) * k + kx) * c + ci] as i8);
                                acc += (x - i64::from(step.input_zero_point)) * wt;
                            }
                        }
                    }
                    let at = (oy * ow + ox) * o_all + o;
                    let mut y = i64::from(step.output_zero_point)
                        + i64::from(requantize(acc as i32, step.multiplier.at(o), step.shift.at(o)));
                    if let Some(r) = step.residual {
                        y += i64::from(requantize(i32::from(dst[at]) - r.zero_point, r.multiplier, r.shift));
                    }
                    dst[at] = y.clamp(i64::from(step.output_min), 127) as i8;
                }
            }
        }
    }

    #[test]
    fn the_convolution_equals_its_definition_for_every_window_and_epilogue() {
        let mut noise = Noise(3);
        // (H, W, C, O, K, S, P): the catalog's windows, and channel counts across CHUNK.
        for &(h, w, c, o, k, s, p) in &[
            (5, 6, 3, 4, 3, 1, 1),
            (7, 7, 16, 32, 3, 2, 1),
            (6, 5, 70, 130, 1, 2, 0),
            (9, 9, 1, 16, 7, 2, 3),
            (4, 4, 65, 8, 3, 1, 0),
        ] {
            for residual in [false, true] {
                let src: Vec<i8> = (0..h * w * c).map(|_| noise.i8()).collect();
                let weights: Vec<u8> = (0..o * k * k * c).map(|_| noise.i8() as u8).collect();
                let bias = int_bytes(&(0..o).map(|_| noise.int(-5000, 5000)).collect::<Vec<_>>());
                let (m, sh): (Vec<i32>, Vec<i32>) = (0..o).map(|_| noise.factor()).unzip();
                let (m, sh) = (int_bytes(&m), int_bytes(&sh));
                let (rm, rs) = quantize_multiplier(0.7).unwrap();
                let step = Conv {
                    io: Io { src: 0, dst: 0, input: [h, w, c] },
                    out_channels: o,
                    window: [k, s, p],
                    input_zero_point: noise.int(-128, 127),
                    output_zero_point: noise.int(-20, 20),
                    output_min: if residual { 3 } else { -128 },
                    residual: residual.then_some(Rescale { zero_point: -7, multiplier: rm, shift: rs }),
                    weights: &weights,
                    bias: Ints::from_le_bytes(&bias),
                    multiplier: Ints::from_le_bytes(&m),
                    shift: Ints::from_le_bytes(&sh),
                };
                let len = out_size(h, k, s, p) * out_size(w, k, s, p) * o;
                let start: Vec<i8> = (0..len).map(|_| noise.i8()).collect();
                let (mut got, mut want) = (start.clone(), start);
                conv(&step, &src, &mut got);
                reference_conv(&step, &src, &mut want);
                assert_eq!(got, want, "{h}x{w}x{c} -> {o}, window {k}/{s}/{p}, residual {residual}");
                assert!(got.iter().any(|&v| v != got[0]), "a constant output tests nothing");
            }
        }
    }

    #[test]
    fn pooling_affine_and_classifier_equal_their_definitions() {
        // Max-pooling 3/2/1 over a 3x3 plane of 2 channels (values rising with the index):
        // each output takes its window's last pixel, (1,1), (1,2), (2,1), (2,2).
        let src: Vec<i8> = (0..18).map(|i| (i as i8) * 7 - 60).collect();
        let mut dst = vec![0i8; 2 * 2 * 2];
        max_pool([3, 3, 2], [3, 2, 1], &src, &mut dst);
        assert_eq!(dst, [-4, 3, 10, 17, 38, 45, 52, 59]);
        // Average of -3, -2 (rounds away from zero to -3) and of 1, 2 (to 2).
        let mut mean = [0i8; 2];
        avg_pool([1, 2, 2], &[-3, 1, -2, 2], &mut mean);
        assert_eq!(mean, [-3, 2]);
        // Affine: channel 0 doubles, channel 1 negates then adds 5; ReLU at zero point 1.
        let (m2, s2) = quantize_multiplier(2.0).unwrap();
        let (mn, sn) = quantize_multiplier(-1.0).unwrap();
        let (m, s, off) = (int_bytes(&[m2, mn]), int_bytes(&[s2, sn]), int_bytes(&[0, 5]));
        let step = Affine {
            io: Io { src: 0, dst: 0, input: [1, 2, 2] },
            input_zero_point: 1,
            output_zero_point: 1,
            output_min: 1,
            multiplier: Ints::from_le_bytes(&m),
            shift: Ints::from_le_bytes(&s),
            offset: Ints::from_le_bytes(&off),
        };
        let mut y = [0i8; 4];
        affine(&step, &[11, 11, -9, 20], &mut y);
        assert_eq!(y, [21, 1, 1, 1 + 5 - 19].map(|v: i32| v.max(1) as i8));
        // Classifier: (x - zp) · w + bias, times the scale.
        let (w, b) = ([1u8, 2, 3, (-1i8) as u8], int_bytes(&[10, -10]));
        let scale: Vec<u8> = [0.5f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let step = Linear {
            io: Io { src: 0, dst: 0, input: [1, 1, 2] },
            input_zero_point: -1,
            weights: &w,
            bias: Ints::from_le_bytes(&b),
            scale: &scale,
        };
        let mut logits = [0.0f32; 2];
        linear(&step, &[3, -1], &mut logits);
        assert_eq!(logits, [(4.0 + 0.0 + 10.0) * 0.5, (12.0 + 0.0 - 10.0) * 2.0]);
    }
}
