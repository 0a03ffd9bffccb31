//! The AVX-512F register kernels of the direct convolution.

use core::arch::x86_64::*;

use super::{Out, Panel, Store, MR, NR};

/// [`super::forward::block`] for `M` pixels.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn block<const M: usize>(
    rows: &[[*const f32; MR]],
    live: &[bool],
    panel: Panel<'_>,
    out: Out<'_>,
) {
    let Panel { cn, ldw, tap_stride, .. } = panel;
    let (w, Out { dst, ldd, mode }) = (panel.w.as_ptr(), out);
    let mut acc = [[_mm512_setzero_ps(); 4]; M];
    for (t, (row, &on)) in rows.iter().zip(live).enumerate() {
        if !on {
            continue;
        }
        let wt = w.add(t * tap_stride);
        for ci in 0..cn {
            let b = wt.add(ci * ldw);
            let bv = [
                _mm512_loadu_ps(b),
                _mm512_loadu_ps(b.add(16)),
                _mm512_loadu_ps(b.add(32)),
                _mm512_loadu_ps(b.add(48)),
            ];
            for r in 0..M {
                let a = _mm512_set1_ps(*row[r].add(ci));
                for j in 0..4 {
                    acc[r][j] = _mm512_fmadd_ps(a, bv[j], acc[r][j]);
                }
            }
        }
    }
    for (r, sums) in acc.iter().enumerate() {
        let d = dst[r * ldd..][..NR].as_mut_ptr();
        for (j, &s) in sums.iter().enumerate() {
            let p = d.add(16 * j);
            let v = match mode {
                Store::Write(None) => s,
                Store::Write(Some(bias)) => _mm512_add_ps(s, _mm512_loadu_ps(bias[16 * j..].as_ptr())),
                Store::Add => _mm512_add_ps(s, _mm512_loadu_ps(p)),
            };
            _mm512_storeu_ps(p, v);
        }
    }
}

/// [`super::weight_gradient::weight_block`] for `M` rows.
#[target_feature(enable = "avx512f")]
pub(super) unsafe fn weight_block<const M: usize>(
    pairs: &[(*const f32, *const f32)],
    c0: usize,
    ob: usize,
    sum: &mut [f32],
    ld: usize,
) {
    let s = sum.as_mut_ptr();
    let mut acc = [[_mm512_setzero_ps(); 4]; M];
    for (r, row) in acc.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = _mm512_loadu_ps(s.add(r * ld + 16 * j));
        }
    }
    for &(input, gradient) in pairs {
        let (a, b) = (input.add(c0), gradient.add(ob));
        let bv = [
            _mm512_loadu_ps(b),
            _mm512_loadu_ps(b.add(16)),
            _mm512_loadu_ps(b.add(32)),
            _mm512_loadu_ps(b.add(48)),
        ];
        for (r, row) in acc.iter_mut().enumerate() {
            let av = _mm512_set1_ps(*a.add(r));
            for (v, &b) in row.iter_mut().zip(&bv) {
                *v = _mm512_fmadd_ps(av, b, *v);
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            _mm512_storeu_ps(s.add(r * ld + 16 * j), v);
        }
    }
}
