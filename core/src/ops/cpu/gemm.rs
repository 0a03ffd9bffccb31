//! A bounds-checked wrapper over the `gemm` crate (the same kernel dfdx's CPU matmul uses).

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
/// row-major m × n matrix. `parallel` splits the work over rayon's threads.
///
/// # Panics
/// If a view is too short for its shape: a bug in the caller, never a property of user input.
pub(crate) fn sgemm(
    [m, k, n]: [usize; 3],
    a: MatRef<'_>,
    b: MatRef<'_>,
    c: &mut [f32],
    accumulate: bool,
    parallel: bool,
) {
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
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: `covers` and the length check above prove every element the kernel touches
    // (rows < m, inner < k, cols < n at the given strides) lies inside its slice; `c` is an
    // exclusive borrow, so the output aliases neither input.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_transposed_and_accumulated_products() {
        // a = [[1, 2, 3], [4, 5, 6]], b = [[1, 0], [0, 1], [1, 1]]
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut c = [9.0; 4];
        sgemm([2, 3, 2], MatRef::rows(&a, 3), MatRef::rows(&b, 2), &mut c, false, false);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        sgemm([2, 3, 2], MatRef::rows(&a, 3), MatRef::rows(&b, 2), &mut c, true, true);
        assert_eq!(c, [8.0, 10.0, 20.0, 22.0]);
        // aᵀ · a: 3 × 3
        let mut d = [0.0; 9];
        sgemm([3, 2, 3], MatRef::transposed(&a, 3), MatRef::rows(&a, 3), &mut d, false, false);
        assert_eq!(d, [17.0, 22.0, 27.0, 22.0, 29.0, 36.0, 27.0, 36.0, 45.0]);
    }
}
