//! Int8 kernels on channels-last (H, W, C) activations, single-threaded, without `std` or a
//! heap: the convolution with its requantization, residual add and ReLU in the epilogue,
//! the per-channel affine map, max and average pooling, and the classifier.
//!
//! A convolution works on two output positions and up to [`CHUNK`] output channels at a
//! time: the two positions' inputs (a segment of up to [`SEGMENT`] values of their
//! windows, zero-point corrected) and their accumulators live on the stack, and each pair
//! of channels' weight rows meets them in [`dot_2x2`].

use super::dot::{dot_2x2, input_at, widen, SEGMENT};
use super::fixed_point::{requantize, Rounding};
use super::format::{out_size, Affine, Conv, Linear};

/// Output channels accumulated at once.
pub const CHUNK: usize = 64;

/// The convolution `step` from `src` into `dst`; where the step has a residual, `dst`
/// holds it on entry (each position is read before it is written).
///
/// # Shapes
/// `src`: (H, W, C) as `step.io.input`; `dst`: (OH, OW, O).
pub fn conv(step: &Conv<'_>, src: &[i8], dst: &mut [i8]) {
    let [h, w, c] = step.io.input;
    let [k, s, p] = step.window;
    let (oh, ow) = (out_size(h, k, s, p), out_size(w, k, s, p));
    let (positions, o_all, n) = (oh * ow, step.out_channels, k * k * c);
    let mut cols = [0i16; 2 * SEGMENT];
    let mut acc = [[0i32; CHUNK]; 2];
    // Per output channel of the chunk: bias, multiplier, rounding shift.
    let mut channel = [(0i32, 0i32, Rounding::new(0)); CHUNK];
    let residual = step.residual.map(|r| (r.zero_point, r.multiplier, Rounding::new(r.shift)));
    for o0 in (0..o_all).step_by(CHUNK) {
        let o1 = (o0 + CHUNK).min(o_all);
        let channel = &mut channel[..o1 - o0];
        for (ch, o) in channel.iter_mut().zip(o0..o1) {
            *ch = (step.bias.at(o), step.multiplier.at(o), Rounding::new(step.shift.at(o)));
        }
        for p0 in (0..positions).step_by(2) {
            let pair = [p0, (p0 + 1).min(positions - 1)];
            for a in &mut acc {
                for (a, ch) in a.iter_mut().zip(channel.iter()) {
                    *a = ch.0;
                }
            }
            for r0 in (0..n).step_by(SEGMENT) {
                let len = (n - r0).min(SEGMENT);
                let (x0, x1) = cols.split_at_mut(SEGMENT);
                gather(step, src, [ow, pair[0]], r0, &mut x0[..len]);
                gather(step, src, [ow, pair[1]], r0, &mut x1[..len]);
                let [a0, a1] = &mut acc;
                let (a0, a1) = (&mut a0[..o1 - o0], &mut a1[..o1 - o0]);
                let mut rows = step.weights[o0 * n..o1 * n].chunks_exact(2 * n);
                let (mut s0, mut s1) = (a0.chunks_exact_mut(2), a1.chunks_exact_mut(2));
                for ((w, s0), s1) in rows.by_ref().zip(s0.by_ref()).zip(s1.by_ref()) {
                    let (w0, w1) = w.split_at(n);
                    let mut sums = [0i32; 4];
                    dot_2x2(&cols, len, &w0[r0..r0 + len], &w1[r0..r0 + len], &mut sums);
                    s0[0] += sums[0];
                    s0[1] += sums[1];
                    s1[0] += sums[2];
                    s1[1] += sums[3];
                }
                // An odd channel out: its row twice.
                if let (Some(last0), Some(last1)) =
                    (s0.into_remainder().first_mut(), s1.into_remainder().first_mut())
                {
                    let w = &rows.remainder()[r0..r0 + len];
                    let mut sums = [0i32; 4];
                    dot_2x2(&cols, len, w, w, &mut sums);
                    *last0 += sums[0];
                    *last1 += sums[2];
                }
            }
            let distinct = if pair[1] == pair[0] { 1 } else { 2 };
            for (&p, acc) in pair.iter().zip(&acc).take(distinct) {
                let out = &mut dst[p * o_all + o0..p * o_all + o1];
                for ((y, a), &(_, m, rounding)) in out.iter_mut().zip(acc.iter()).zip(channel.iter()) {
                    let mut v = step.output_zero_point.saturating_add(rounding.apply(*a, m));
                    if let Some((zero_point, multiplier, rounding)) = residual {
                        v = v.saturating_add(rounding.apply(i32::from(*y) - zero_point, multiplier));
                    }
                    *y = v.clamp(step.output_min, 127) as i8;
                }
            }
        }
    }
}

/// Values `r0..r0 + x.len()` of output position `p`'s window (tap after tap, channels
/// within a tap), minus the input's zero point (0 where the window is in the padding),
/// stored in [`dot_2x2`]'s order ([`input_at`]).
fn gather(step: &Conv<'_>, src: &[i8], [ow, p]: [usize; 2], r0: usize, x: &mut [i16]) {
    let [h, w, c] = step.io.input;
    let [k, s, pad] = step.window;
    let (oy, ox) = (p / ow, p % ow);
    let len = x.len();
    if r0 == 0 && len == k * k * c && c % 4 == 0 {
        // The whole window at once, tap after tap, four channels at a time.
        let mut taps = x.chunks_exact_mut(c);
        for ky in 0..k {
            let iy = (oy * s + ky).checked_sub(pad).filter(|&iy| iy < h);
            for kx in 0..k {
                let ix = (ox * s + kx).checked_sub(pad).filter(|&ix| ix < w);
                let Some(out) = taps.next() else { return };
                match (iy, ix) {
                    (Some(iy), Some(ix)) => widen(&src[(iy * w + ix) * c..][..c], step.input_zero_point, out),
                    _ => out.fill(0),
                }
            }
        }
        return;
    }
    let (mut tap, mut ch) = (r0 / c, r0 % c);
    let mut r = 0;
    while r < len {
        let piece = (c - ch).min(len - r);
        let iy = (oy * s + tap / k).checked_sub(pad).filter(|&iy| iy < h);
        let ix = (ox * s + tap % k).checked_sub(pad).filter(|&ix| ix < w);
        let pixel = match (iy, ix) {
            (Some(iy), Some(ix)) => Some(&src[(iy * w + ix) * c + ch..][..piece]),
            _ => None,
        };
        if r % 4 == 0 && piece % 4 == 0 && (r + piece <= len & !3) {
            // Whole groups: stored 0, 2, 1, 3.
            let out = &mut x[r..r + piece];
            match pixel {
                Some(values) => widen(values, step.input_zero_point, out),
                None => out.fill(0),
            }
        } else {
            for j in 0..piece {
                let v = pixel.map_or(0, |values| i32::from(values[j]) - step.input_zero_point);
                x[input_at(r + j, len)] = v as i16;
            }
        }
        r += piece;
        ch = 0;
        tap += 1;
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
        let v = step.output_zero_point.saturating_add(step.offset.at(ch)).saturating_add(requantize(
            i32::from(x) - step.input_zero_point,
            step.multiplier.at(ch),
            step.shift.at(ch),
        ));
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
    for (o, logit) in logits.iter_mut().enumerate() {
        let row = &step.weights[o * c..][..c];
        let dot: i32 = src
            .iter()
            .zip(row)
            .map(|(&x, &w)| (i32::from(x) - step.input_zero_point) * i32::from(w as i8))
            .sum();
        *logit = (step.bias.at(o) + dot) as f32 * step.scale(o);
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
        // (H, W, C, O, K, S, P): the catalog's windows; channel counts across CHUNK and
        // windows across SEGMENT; odd numbers of positions and channels; rows of 9, 49, 70.
        for &(h, w, c, o, k, s, p) in &[
            (5, 6, 3, 4, 3, 1, 1),
            (7, 7, 16, 32, 3, 2, 1),
            (6, 5, 70, 130, 1, 2, 0),
            (9, 9, 1, 16, 7, 2, 3),
            (4, 4, 65, 8, 3, 1, 0),
            (5, 5, 3, 5, 3, 2, 1),
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
