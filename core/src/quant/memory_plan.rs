//! Where each tensor lives in the int8 model's one arena: tensors that share a buffer (a
//! residual sum and its shortcut) form one buffer, live from its first write to its last
//! read; the largest buffers are placed first, each at the lowest offset where it overlaps
//! no buffer alive at the same time (the greedy plan TFLite Micro uses).

use alloc::vec::Vec;

use super::graph::Graph;

/// Each tensor's offset, and the arena's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryPlan {
    /// Offset of each tensor's buffer.
    pub offsets: Vec<usize>,
    /// Bytes the arena needs.
    pub arena_len: usize,
}

/// The plan for `graph`'s tensors (one byte per value).
pub fn plan(graph: &Graph<'_>) -> MemoryPlan {
    let tensors = graph.dims.len();
    let buffer_of = |mut t: usize| {
        while let Some(s) = graph.shares[t] {
            t = s;
        }
        t
    };
    // Per buffer (named by its root tensor): size, first and last step alive.
    let mut size = alloc::vec![0usize; tensors];
    let mut life: Vec<Option<(usize, usize)>> = alloc::vec![None; tensors];
    let mut touch = |b: usize, i: usize| {
        life[b] = Some(life[b].map_or((i, i), |(a, z)| (a.min(i), z.max(i))));
    };
    touch(0, 0);
    for (i, step) in graph.steps.iter().enumerate() {
        step.reads().chain(step.writes()).for_each(|t| touch(buffer_of(t), i));
    }
    for (t, [h, w, c]) in graph.dims.iter().enumerate() {
        let b = buffer_of(t);
        size[b] = size[b].max(h * w * c);
    }
    let mut order: Vec<usize> = (0..tensors).filter(|&b| life[b].is_some() && size[b] > 0).collect();
    order.sort_by_key(|&b| (core::cmp::Reverse(size[b]), b));
    let mut offset = alloc::vec![0usize; tensors];
    let mut placed: Vec<usize> = Vec::new();
    for b in order {
        let (first, last) = life[b].unwrap_or_default();
        let mut taken: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&o| life[o].is_some_and(|(f, l)| f <= last && first <= l))
            .map(|&o| (offset[o], offset[o] + size[o]))
            .collect();
        taken.sort_unstable();
        let mut at = 0;
        for (start, end) in taken {
            if at + size[b] <= start {
                break;
            }
            at = at.max(end);
        }
        offset[b] = at;
        placed.push(b);
    }
    let arena_len = placed.iter().map(|&b| offset[b] + size[b]).max().unwrap_or(0);
    MemoryPlan { offsets: (0..tensors).map(|t| offset[buffer_of(t)]).collect(), arena_len }
}
