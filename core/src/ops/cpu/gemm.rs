//! A bounds-checked wrapper over the `gemm` crate (the same kernel dfdx's CPU matmul uses).

use alloc::vec::Vec;

use rayon::prelude::*;

use super::scratch::Scratch;

/// A read-only matrix view: element (r, c) is `data[r * row_stride + c * col_stride]`.
#[derive(Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major matrix with `cols` columns.
    pub fn rows(data: &'a [f32], cols: usize) -> Self {
        Self { data, row_stride: cols, col_stride: 1 }
    }

    /// The transpose of a row-major matrix with `cols` columns.
    pub fn transposed(data: &'a [f32], cols: usize) -> Self {
        Self { data, row_stride: 1, col_stride: cols }
    }

    fn covers(&self, rows: usize, cols: usize) -> bool {
        rows == 0
            || cols == 0
            || (rows - 1) * self.row_stride + (cols - 1) * self.col_stride < self.data.len()
    }
}

/// `c = a · b` (or `c += a · b` when `accumulate`), with `a`: m × k, `b`: k × n and `c` a
/// row-major m × n matrix, over rayon's threads: a tall product (many rows of `c`, a
/// convolution's forward pass) by blocks of rows, a long one (a large inner dimension, a
/// convolution's weight gradient) by slices of `k` summed at the end, each part
/// single-threaded; the `gemm` crate's own threading scales worse on both shapes.
///
/// # Panics
/// If a view is too short for its shape: a bug in the caller, never a property of user input.
pub(crate) fn sgemm([m, k, n]: [usize; 3], a: MatRef<'_>, b: MatRef<'_>, c: &mut [f32], accumulate: bool) {
    assert!(
        a.covers(m, k) && b.covers(k, n) && c.len() >= m * n,
        "sgemm views too short for m={m} k={k} n={n}: a {}, b {}, c {}",
        a.data.len(),
        b.data.len(),
        c.len()
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            c[..m * n].fill(0.0);
        }
        return;
    }
    let product = Product { m, k, n, a, b };
    let threads = rayon::current_num_threads();
    let c = &mut c[..m * n];
    if threads > 1 && m >= SPLIT_MIN * threads && m >= n {
        product.by_rows(c, accumulate, 2 * threads);
    } else if threads > 1 && k >= SPLIT_MIN * threads && k >= 2 * m.max(n) {
        product.by_inner(c, accumulate, threads);
    } else {
        let parallelism =
            if threads > 1 { gemm::Parallelism::Rayon(threads) } else { gemm::Parallelism::None };
        product.kernel(c, accumulate, parallelism);
    }
}

/// The least rows (or inner length) a part of a split product gets.
const SPLIT_MIN: usize = 256;

/// `a · b` on views that [`sgemm`] has checked: `a`: m × k, `b`: k × n.
#[derive(Clone, Copy)]
struct Product<'a> {
    m: usize,
    k: usize,
    n: usize,
    a: MatRef<'a>,
    b: MatRef<'a>,
}

impl Product<'_> {
    /// The product of `a`'s rows `first..first + m` (clipped to `a`) with `b`.
    fn rows(self, first: usize, m: usize) -> Self {
        let a = MatRef { data: &self.a.data[first * self.a.row_stride..], ..self.a };
        Self { m: m.min(self.m - first), a, ..self }
    }

    /// The part of the product over inner indices `first..first + k` (clipped to `k`).
    fn inner(self, first: usize, k: usize) -> Self {
        let a = MatRef { data: &self.a.data[first * self.a.col_stride..], ..self.a };
        let b = MatRef { data: &self.b.data[first * self.b.row_stride..], ..self.b };
        Self { k: k.min(self.k.saturating_sub(first)), a, b, ..self }
    }

    /// Split into `parts` blocks of rows of `a` and `c`, in parallel.
    fn by_rows(self, c: &mut [f32], accumulate: bool, parts: usize) {
        let rows = self.m.div_ceil(parts);
        c.par_chunks_mut(rows * self.n).enumerate().for_each(|(i, c)| {
            self.rows(i * rows, rows).kernel(c, accumulate, gemm::Parallelism::None);
        });
    }

    /// Split into `parts` slices of the inner dimension, in parallel: the first slice
    /// writes `c`, the others their own buffers, added to `c` at the end.
    fn by_inner(self, c: &mut [f32], accumulate: bool, parts: usize) {
        let len = self.k.div_ceil(parts);
        let mut partial: Vec<Scratch> = (1..parts).map(|_| Scratch::take(self.m * self.n)).collect();
        rayon::join(
            || self.inner(0, len).kernel(c, accumulate, gemm::Parallelism::None),
            || {
                partial.par_iter_mut().enumerate().for_each(|(i, p)| {
                    self.inner((i + 1) * len, len).kernel(p, false, gemm::Parallelism::None);
                })
            },
        );
        let terms: Vec<&[f32]> = partial.iter().map(|p| &p[..]).collect();
        super::accumulate(c, &terms);
    }

    /// The `gemm` crate's kernel into `c`.
    fn kernel(self, c: &mut [f32], accumulate: bool, parallelism: gemm::Parallelism) {
        let Self { m, k, n, a, b } = self;
        debug_assert!(a.covers(m, k) && b.covers(k, n) && c.len() >= m * n);
        // SAFETY: `sgemm` checked that every element the kernel touches (rows < m, inner < k,
        // cols < n at the given strides) lies inside its slice, and each split part is a block
        // of those views with the same strides; `c` is an exclusive borrow, so the output
        // aliases neither input.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                c.as_mut_ptr(),
                1,
                n as isize,
                accumulate,
                a.data.as_ptr(),
                a.col_stride as isize,
                a.row_stride as isize,
                b.data.as_ptr(),
                b.col_stride as isize,
                b.row_stride as isize,
                if accumulate { 1.0 } else { 0.0 },
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_transposed_and_accumulated_products() {
        // a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [9.0; 4];
        sgemm([2, 3, 2], MatRef::rows(&a, 3), MatRef::rows(&b, 2), &mut c, false);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        sgemm([2, 3, 2], MatRef::rows(&a, 3), MatRef::rows(&b, 2), &mut c, true);
        assert_eq!(c, [8.0, 10.0, 20.0, 22.0]);
        // aᵀ · a: 3 × 3
        let mut d = [0.0; 9];
        sgemm([3, 2, 3], MatRef::transposed(&a, 3), MatRef::rows(&a, 3), &mut d, false);
        assert_eq!(d, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    }

    /// `a · b` by definition, in f64: `a` is m × k, `b` k × n, both row-major.
    fn naive([m, k, n]: [usize; 3], a: &[f32], b: &[f32]) -> Vec<f32> {
        let mut c = alloc::vec![0.0f32; m * n];
        for r in 0..m {
            for col in 0..n {
                c[r * n + col] =
                    (0..k).map(|i| a[r * k + i] as f64 * b[i * n + col] as f64).sum::<f64>() as f32;
            }
        }
        c
    }

    #[test]
    fn products_split_by_rows_and_by_inner_slices_match_the_definition() {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        // tall (split by rows), long (split by inner slices, one of them short), and square
        // (the gemm crate's own threading)
        for dims in [[1100, 9, 5], [4, 2000, 7], [3, 1537, 2], [300, 300, 300]] {
            let [m, k, n] = dims;
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 104_729) % 11) as f32 * 0.5 - 2.5).collect();
            let want = naive(dims, &a, &b);
            let mut c = alloc::vec![f32::NAN; m * n];
            pool.install(|| sgemm(dims, MatRef::rows(&a, k), MatRef::rows(&b, n), &mut c, false));
            assert_eq!(c, want, "{dims:?}");
            // accumulating, with `a` given transposed
            let a_t: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
            pool.install(|| sgemm(dims, MatRef::transposed(&a_t, m), MatRef::rows(&b, n), &mut c, true));
            assert_eq!(c, want.iter().map(|v| 2.0 * v).collect::<Vec<_>>(), "{dims:?} accumulated");
        }
    }
}
