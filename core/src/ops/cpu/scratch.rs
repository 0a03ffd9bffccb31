//! Reusable scratch buffers for the CPU kernels. A convolution needs tens of megabytes of
//! im2col rows, products and transposes per call; allocating them zeroed each time cost a
//! tenth of a training step in `memset` and page faults. Buffers go back to a pool when
//! dropped and come out again without zeroing: a kernel must write every element it reads.

use std::sync::Mutex;

/// Idle buffers, each with its length in use kept as its `len`.
pub(crate) struct Pool {
    idle: Mutex<Vec<Vec<f32>>>,
    /// Idle buffers kept at most; more are freed.
    limit: usize,
}

/// The kernels' pool. A training step returns one buffer per convolution (its input kept
/// channels-last from the forward pass to the backward pass) and the next step takes them
/// again; a convolution's backward pass holds four more at once.
static KERNELS: Pool = Pool::new(64);

/// A buffer of `len` floats lent by a [`Pool`], with unspecified contents.
pub(crate) struct Scratch {
    buf: Vec<f32>,
    len: usize,
    pool: &'static Pool,
}

impl Pool {
    const fn new(limit: usize) -> Self {
        Self { idle: Mutex::new(Vec::new()), limit }
    }

    /// The smallest idle buffer of at least `len` floats, else the largest one grown with
    /// zeros to `len`, else a new one of zeros.
    fn take(&'static self, len: usize) -> Scratch {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let fit = (0..idle.len())
            .filter(|&i| idle[i].len() >= len)
            .min_by_key(|&i| idle[i].len())
            .or_else(|| (0..idle.len()).max_by_key(|&i| idle[i].len()));
        let mut buf = fit.map(|i| idle.swap_remove(i)).unwrap_or_default();
        drop(idle);
        if buf.len() < len {
            buf.resize(len, 0.0);
        }
        Scratch { buf, len, pool: self }
    }
}

impl Scratch {
    /// A buffer of `len` floats holding whatever a previous kernel left there.
    pub fn take(len: usize) -> Self {
        KERNELS.take(len)
    }

    /// A buffer of `len` zeros.
    pub fn zeroed(len: usize) -> Self {
        let mut s = Self::take(len);
        s.fill(0.0);
        s
    }
}

impl core::ops::Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buf[..self.len]
    }
}

impl core::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buf[..self.len]
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < self.pool.limit {
            idle.push(core::mem::take(&mut self.buf));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_come_back_unzeroed_and_grow_with_zeros() {
        static POOL: Pool = Pool::new(2);
        let address = {
            let mut a = POOL.take(100);
            a.fill(7.0);
            a.as_ptr()
        };
        // The same allocation again, contents as left (the smallest that fits wins).
        let b = POOL.take(60);
        assert_eq!((b.as_ptr(), b.len(), b[59]), (address, 60, 7.0));
        drop(b);
        // Grown: the old part keeps its values, the new part is zeros.
        let c = POOL.take(150);
        assert_eq!((c[99], c[100], c[149]), (7.0, 0.0, 0.0));
        // At most `limit` idle buffers are kept.
        let held: Vec<Scratch> = (0..4).map(|_| POOL.take(10)).collect();
        drop(held);
        drop(c);
        assert_eq!(POOL.idle.lock().unwrap().len(), 2);
        assert!(Scratch::zeroed(30).iter().all(|&v| v == 0.0));
    }
}
