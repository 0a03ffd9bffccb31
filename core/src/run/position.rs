//! Where a run stands in its data, saved in every checkpoint.

use serde::{Deserialize, Serialize};

use super::EpochTotals;

/// Where a run stands. Every random choice of a run derives from the seed, the epoch and
/// the batch, so this is also the random generator's state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// 0-based epoch to continue in.
    pub epoch: usize,
    /// Batches of that epoch already trained.
    pub batch: usize,
    /// Training steps done since the start of the run.
    pub step: u64,
    /// That epoch's running totals.
    pub totals: EpochTotals,
}
