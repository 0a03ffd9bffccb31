//! The gradient panels' axes, ticked where this module says rather than where plotters
//! would: blocks (every block a grid line, as many names as fit side by side) and
//! decades of a log10 axis (each decade labelled, 2×..9× as grid lines).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

/// Pixels kept free between two tick labels.
const GAP: f64 = 8.0;
/// With more decades than this, every other one is labelled.
const MOST_DECADES: i32 = 8;

/// A linear axis over `range` with its labelled (`bold`) and grid-only (`light`) ticks.
pub struct Ticks {
    /// The axis' span.
    range: Range<f64>,
    /// Labelled ticks, with a grid line.
    bold: Vec<f64>,
    /// Grid lines without label.
    light: Vec<f64>,
}

impl Ticks {
    /// Blocks `0..count` at whole numbers: a grid line at each, a label at every few, so
    /// that labels `widest` pixels wide keep [`GAP`] apart over `pixels`.
    pub fn blocks(count: usize, widest: f64, pixels: f64) -> Self {
        let every = if count == 0 { 1.0 } else { ((widest + GAP) * count as f64 / pixels).ceil() };
        let every = every.clamp(1.0, count.max(1) as f64) as usize;
        let mut bold: Vec<f64> = (0..count).step_by(every).map(|i| i as f64).collect();
        let last = count.saturating_sub(1) as f64;
        if bold.len() > 1 && bold.last() != Some(&last) {
            // The last block is named rather than the one before it (at most `every` apart).
            bold.pop();
            bold.push(last);
        }
        let light = (0..count).map(|i| i as f64).collect();
        Ticks { range: -0.5..count.max(1) as f64 - 0.5, bold, light }
    }

    /// A log10 axis over decades `low..=high` (exponents, `low < high`), with a little room
    /// beyond them.
    pub fn decades(low: i32, high: i32) -> Self {
        let every = if high - low > MOST_DECADES { 2 } else { 1 };
        let bold = (low..=high).step_by(every as usize).map(f64::from).collect();
        let light =
            (low..high).flat_map(|d| (2..=9).map(move |m| f64::from(d) + f64::from(m).log10())).collect();
        Ticks { range: f64::from(low) - 0.05..f64::from(high) + 0.05, bold, light }
    }
}

impl Ranged for Ticks {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let t = if span > 0.0 { (value - self.range.start) / span } else { 0.5 };
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.light.clone()
        } else {
            self.bold.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.range.clone()
    }
}

/// A log10 axis' tick at `exponent` as text: `0.01`, `1`, `100` from 10⁻³ to 10³, else
/// `1e-5`, `1e6`.
pub fn decade(exponent: &f64) -> String {
    let e = exponent.round() as i32;
    match e {
        -3..=-1 => format!("0.{}1", "0".repeat((-e - 1) as usize)),
        0..=3 => format!("1{}", "0".repeat(e as usize)),
        _ => format!("1e{e}"),
    }
}

/// The name of the block at `x`, when `x` is a block's place.
pub fn block_name(names: &[String], x: f64) -> String {
    let i = x.round();
    match names.get(i as usize) {
        Some(name) if i >= 0.0 && (x - i).abs() < 1e-6 => name.clone(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::coord::ranged1d::{BoldPoints, LightPoints};

    #[test]
    fn every_block_is_named_when_the_names_fit() {
        let t = Ticks::blocks(4, 30.0, 400.0);
        assert_eq!(t.key_points(BoldPoints(10)), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(t.key_points(LightPoints::new(10, 100)), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(t.range(), -0.5..3.5);
        assert_eq!(t.map(&-0.5, (0, 400)), 0);
        assert_eq!(t.map(&3.5, (0, 400)), 400);
    }

    #[test]
    fn crowded_blocks_name_every_few_and_the_last() {
        // 18 blocks in 560 pixels: 31 each, too few for a 27-pixel name and its gap.
        let t = Ticks::blocks(18, 27.0, 560.0);
        assert_eq!(t.key_points(BoldPoints(10)), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 17.0]);
        assert_eq!(t.key_points(LightPoints::new(10, 100)).len(), 18);
        assert_eq!(Ticks::blocks(1, 500.0, 100.0).key_points(BoldPoints(1)), [0.0]);
        assert!(Ticks::blocks(0, 10.0, 100.0).key_points(BoldPoints(1)).is_empty());
    }

    #[test]
    fn a_log_axis_labels_its_decades_and_grids_their_multiples() {
        let t = Ticks::decades(-2, 1);
        assert_eq!(t.key_points(BoldPoints(10)), [-2.0, -1.0, 0.0, 1.0]);
        let light = t.key_points(LightPoints::new(10, 100));
        assert_eq!(light.len(), 24);
        assert!((light[0] - 2f64.log10() + 2.0).abs() < 1e-12);
        let labels: Vec<String> = [-4.0, -3.0, -1.0, 0.0, 2.0, 3.0, 4.0].iter().map(decade).collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.1", "1", "100", "1000", "1e4"]);
        assert_eq!(Ticks::decades(-6, 5).key_points(BoldPoints(10)), [-6.0, -4.0, -2.0, 0.0, 2.0, 4.0]);
    }

    #[test]
    fn only_a_block_s_place_has_a_name() {
        let names = ["b1".to_string(), "head".to_string()];
        assert_eq!(block_name(&names, 1.0), "head");
        assert_eq!(block_name(&names, 0.5), "");
        assert_eq!(block_name(&names, 2.0), "");
        assert_eq!(block_name(&names, -1.0), "");
    }
}
