//! The figure's text style, shared by the panels, the legend and the font registration.

/// The font family of every text (registered from embedded bytes: see `super::output`).
pub const FONT: &str = "sans-serif";
