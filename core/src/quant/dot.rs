//! The int8 inner products of a convolution: two output positions' zero-point-corrected
//! inputs (`i16`) against two output channels' weights (`i8`), four sums in `i32` at once.
//! On an ARM core with the DSP extension (Cortex-M4/M7, the crate's `dsp` feature) each
//! step takes four weights per load and two multiply-accumulates per instruction
//! (`SXTB16`, `SMLAD`); elsewhere plain Rust. Integer sums: the same numbers on every
//! target.
//!
//! The inputs are gathered in the order `SXTB16` gives ([`input_at`]): within each whole
//! group of four, elements 0, 2, 1, 3, so that four weights loaded in order and split by
//! `SXTB16` (weights 0, 2) and `SXTB16` rotated by 8 (weights 1, 3) meet their inputs.

/// Where element `r` of a gathered segment of `len` inputs is stored: groups of four
/// (wholly inside the segment) hold elements 0, 2, 1, 3; the rest are in order.
#[inline(always)]
pub fn input_at(r: usize, len: usize) -> usize {
    if r < len & !3 {
        (r & !3) | [0, 2, 1, 3][r & 3]
    } else {
        r
    }
}

/// Window values gathered at once per position (a multiple of four: 3×3×64).
pub const SEGMENT: usize = 576;

/// `acc[2p + q] += Σᵣ x[p·SEGMENT + input_at(r)] · w_q[r]` for positions p = 0, 1 and
/// channels q = 0, 1, over `r < len` (at most [`SEGMENT`]); the weight slices hold `len`
/// values.
#[inline(always)]
pub fn dot_2x2(x: &[i16; 2 * SEGMENT], len: usize, w0: &[u8], w1: &[u8], acc: &mut [i32; 4]) {
    let n = len.min(SEGMENT).min(w0.len()).min(w1.len());
    let whole = n & !3;
    if whole > 0 {
        dsp::groups(x, whole, &w0[..whole], &w1[..whole], acc);
    }
    for r in whole..n {
        let (a, b) = (i32::from(x[r]), i32::from(x[SEGMENT + r]));
        let (u, v) = (i32::from(w0[r] as i8), i32::from(w1[r] as i8));
        acc[0] += a * u;
        acc[1] += a * v;
        acc[2] += b * u;
        acc[3] += b * v;
    }
}

/// `values` minus `zero_point` into `out` as `i16`, each group of four stored 0, 2, 1, 3
/// ([`input_at`]); both hold the same multiple of four.
#[inline(always)]
pub fn widen(values: &[i8], zero_point: i32, out: &mut [i16]) {
    dsp::widen(values, zero_point, out);
}

/// Whole groups of four, with the DSP instructions: per group two weight loads, four
/// `SXTB16` (weights 0, 2 and 1, 3 of each channel), four input loads (inputs 0, 2 and
/// 1, 3 of each position) and eight `SMLAD` (16 multiply-accumulates).
#[cfg(all(feature = "dsp", target_arch = "arm"))]
mod dsp {
    use super::SEGMENT;

    /// See [`super::widen`]: per group one load, two `SXTB16`, two `SSUB16`, two stores.
    #[inline(always)]
    pub fn widen(values: &[i8], zero_point: i32, out: &mut [i16]) {
        let zero_points = (zero_point as u32 & 0xffff) * 0x1_0001;
        for (v, o) in values.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
            // SAFETY: four bytes read from `v`, two words written to `o` (unaligned accesses
            // are allowed on ARMv7E-M); register-only arithmetic between.
            unsafe {
                let word = core::ptr::read_unaligned(v.as_ptr().cast::<u32>());
                let (even, odd): (u32, u32);
                core::arch::asm!(
                    "sxtb16 {e}, {w}",
                    "sxtb16 {o}, {w}, ror #8",
                    "ssub16 {e}, {e}, {z}",
                    "ssub16 {o}, {o}, {z}",
                    w = in(reg) word,
                    z = in(reg) zero_points,
                    e = out(reg) even,
                    o = out(reg) odd,
                    options(pure, nomem, nostack),
                );
                core::ptr::write_unaligned(o.as_mut_ptr().cast::<u32>(), even);
                core::ptr::write_unaligned(o.as_mut_ptr().add(2).cast::<u32>(), odd);
            }
        }
    }

    /// One group of four of both positions and both channels: the weights at `{i}` from
    /// the rows' ends, the inputs at the four offsets named (const operands); `{i}` moves on.
    macro_rules! group {
        ($lo:literal, $hi:literal, $second_lo:literal, $second_hi:literal) => {
            concat!(
                "ldr {u13}, [{w0}, {i}]\n",
                "ldr {v13}, [{w1}, {i}]\n",
                "sxtb16 {u02}, {u13}\n",
                "sxtb16 {u13}, {u13}, ror #8\n",
                "sxtb16 {v02}, {v13}\n",
                "sxtb16 {v13}, {v13}, ror #8\n",
                "ldr {t}, [{x}, #{",
                $lo,
                "}]\n",
                "smlad {a0}, {t}, {u02}, {a0}\n",
                "smlad {a1}, {t}, {v02}, {a1}\n",
                "ldr {t}, [{x}, #{",
                $hi,
                "}]\n",
                "smlad {a0}, {t}, {u13}, {a0}\n",
                "smlad {a1}, {t}, {v13}, {a1}\n",
                "ldr {t}, [{x}, #{",
                $second_lo,
                "}]\n",
                "smlad {a2}, {t}, {u02}, {a2}\n",
                "smlad {a3}, {t}, {v02}, {a3}\n",
                "ldr {t}, [{x}, #{",
                $second_hi,
                "}]\n",
                "smlad {a2}, {t}, {u13}, {a2}\n",
                "smlad {a3}, {t}, {v13}, {a3}\n",
                "adds {i}, #4\n",
            )
        };
    }

    /// See [`super::dot_2x2`]; `len` is a positive multiple of four, the weight slices hold
    /// it. Two groups a turn of the loop (an odd first group alone): 39 instructions for 32
    /// multiply-accumulates.
    #[inline(always)]
    pub fn groups(x: &[i16; 2 * SEGMENT], len: usize, w0: &[u8], w1: &[u8], acc: &mut [i32; 4]) {
        let [mut a0, mut a1, mut a2, mut a3] = *acc;
        let odd = (len / 4) % 2;
        // SAFETY: the first block reads w0[0..4], w1[0..4], x[0..4] and x[SEGMENT..SEGMENT + 4]
        // when the count of groups is odd; the loop then reads w0[len - k..len - k + 4] and
        // w1[len - k..len - k + 4] for k = len - 4·odd, ..., 8, 4 (unaligned loads being
        // allowed on ARMv7E-M), and the inputs of the same groups at x[r..r + 4] and
        // x[SEGMENT + r..SEGMENT + r + 4], r < len <= SEGMENT: all inside the slices.
        unsafe {
            core::arch::asm!(
                "cmp {t}, #0",
                "beq 3f",
                group!("o0", "o1", "o2", "o3"),
                "add.w {x}, {x}, #8",
                "3:",
                "cmp {i}, #0",
                "beq 4f",
                "2:",
                group!("o0", "o1", "o2", "o3"),
                group!("o4", "o5", "o6", "o7"),
                // No flags: the branch reads those of the last `adds {i}`.
                "add.w {x}, {x}, #16",
                "bne 2b",
                "4:",
                w0 = in(reg) w0.as_ptr().add(len),
                w1 = in(reg) w1.as_ptr().add(len),
                i = inout(reg) (len as isize).wrapping_neg() => _,
                x = inout(reg) x.as_ptr() => _,
                o0 = const 0,
                o1 = const 4,
                o2 = const 2 * SEGMENT,
                o3 = const 2 * SEGMENT + 4,
                o4 = const 8,
                o5 = const 12,
                o6 = const 2 * SEGMENT + 8,
                o7 = const 2 * SEGMENT + 12,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                a3 = inout(reg) a3,
                u02 = out(reg) _,
                u13 = out(reg) _,
                v02 = out(reg) _,
                v13 = out(reg) _,
                t = inout(reg) odd => _,
                options(nostack, readonly),
            );
        }
        *acc = [a0, a1, a2, a3];
    }
}

/// Whole groups of four, in plain Rust.
#[cfg(not(all(feature = "dsp", target_arch = "arm")))]
mod dsp {
    use super::SEGMENT;

    /// See [`super::widen`].
    #[inline(always)]
    pub fn widen(values: &[i8], zero_point: i32, out: &mut [i16]) {
        for (v, o) in values.chunks_exact(4).zip(out.chunks_exact_mut(4)) {
            for (j, at) in [0, 2, 1, 3].into_iter().enumerate() {
                o[at] = (i32::from(v[j]) - zero_point) as i16;
            }
        }
    }

    /// See [`super::dot_2x2`]; `len` is a multiple of four, the weight slices hold it.
    #[inline(always)]
    pub fn groups(x: &[i16; 2 * SEGMENT], len: usize, w0: &[u8], w1: &[u8], acc: &mut [i32; 4]) {
        let (x0, x1) = x.split_at(SEGMENT);
        let ((x0, x1), (w0, w1)) = (
            (x0[..len].chunks_exact(4), x1[..len].chunks_exact(4)),
            (w0.chunks_exact(4), w1.chunks_exact(4)),
        );
        for (((a, b), u), v) in x0.zip(x1).zip(w0).zip(w1) {
            // a[j] is input [0, 2, 1, 3][j] of the group.
            for (j, s) in [0, 2, 1, 3].into_iter().enumerate() {
                let (u, v) = (i32::from(u[s] as i8), i32::from(v[s] as i8));
                acc[0] += i32::from(a[j]) * u;
                acc[1] += i32::from(a[j]) * v;
                acc[2] += i32::from(b[j]) * u;
                acc[3] += i32::from(b[j]) * v;
            }
        }
    }
}
