//! The figure's look, shared by every panel and the legend: font, text sizes, line styles
//! and colours.

use plotters::style::RGBColor;

/// The font family of every text (registered from embedded bytes: see `super::output`).
pub const FONT: &str = "sans-serif";
/// A panel's title size in pixels.
pub const TITLE_SIZE: u32 = 20;
/// Tick label size in pixels.
pub const LABEL_SIZE: u32 = 14;
/// Axis description size in pixels.
pub const DESC_SIZE: u32 = 15;
/// Legend text size in pixels.
pub const LEGEND_SIZE: u32 = 13;
/// Length of a legend entry's line, in pixels.
pub const LEGEND_GLYPH: i32 = 24;
/// Light grid lines (between the labelled ticks).
pub const GRID: RGBColor = RGBColor(0xee, 0xee, 0xee);

/// How a line is drawn: d2l's `-`, `--` and `-.` (here dotted).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Dash {
    /// An unbroken line.
    Solid,
    /// Long dashes.
    Dashed,
    /// Short dashes, close together.
    Dotted,
}

impl Dash {
    /// Dash and gap lengths in pixels (a solid legend glyph is one dash).
    pub fn pattern(self) -> (i32, i32) {
        match self {
            Dash::Solid => (LEGEND_GLYPH + 1, 1),
            Dash::Dashed => (8, 5),
            Dash::Dotted => (2, 4),
        }
    }
}

/// One colour per run when several are compared (matplotlib's tab10).
const RUN_COLOURS: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Run `i`'s colour.
pub fn run_colour(i: usize) -> RGBColor {
    RUN_COLOURS[i % RUN_COLOURS.len()]
}

/// matplotlib's viridis at 0, 0.2, 0.4, 0.6 and 0.8: dark to light, each still dark
/// enough to read on white (viridis' last fifth, yellow, is left out).
const SEQUENTIAL: [(u8, u8, u8); 5] =
    [(0x44, 0x01, 0x54), (0x41, 0x44, 0x87), (0x2a, 0x78, 0x8e), (0x22, 0xa8, 0x84), (0x7a, 0xd1, 0x51)];

/// The sequential palette's colour at `t` in \[0, 1\] (early training dark, late light).
pub fn sequential(t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let at = t * (SEQUENTIAL.len() - 1) as f64;
    let i = (at.floor() as usize).min(SEQUENTIAL.len() - 2);
    let f = at - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (SEQUENTIAL[i], SEQUENTIAL[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequential_palette_runs_from_dark_purple_to_green() {
        assert_eq!(sequential(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(sequential(1.0), RGBColor(0x7a, 0xd1, 0x51));
        assert_eq!(sequential(0.5), RGBColor(0x2a, 0x78, 0x8e));
        assert_eq!(sequential(0.125), RGBColor(0x43, 0x23, 0x6e));
        assert_eq!(sequential(f64::NAN), sequential(0.0));
        assert_eq!(sequential(2.0), sequential(1.0));
    }

    #[test]
    fn runs_cycle_through_ten_colours() {
        assert_eq!(run_colour(0), RGBColor(0x1f, 0x77, 0xb4));
        assert_eq!(run_colour(10), run_colour(0));
        assert_ne!(run_colour(1), run_colour(0));
    }
}
