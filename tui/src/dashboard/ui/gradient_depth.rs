//! The gradient flow against depth, as the plot's figure draws it: each block's gradient
//! norm (log scale) from the first block to the last, one line for the first report and one
//! for the last report of each epoch, so that a gradient vanishing with depth is seen at a
//! glance. Drawn beside the Model panel's table where the terminal is wide enough.

use crate::plot::GradientFlow;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::Span;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, LegendPosition, Widget};

/// Colours of the lines, oldest first (the figure's reports: at most eight).
const COLORS: [Color; 8] = [
    Color::Blue,
    Color::Cyan,
    Color::Green,
    Color::LightGreen,
    Color::Yellow,
    Color::LightRed,
    Color::Red,
    Color::Magenta,
];

/// The chart of a run's gradient flow.
pub struct GradientDepth<'a>(pub &'a GradientFlow);

impl Widget for GradientDepth<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let flow = self.0;
        let lines: Vec<(String, Vec<(f64, f64)>)> =
            flow.profiles.iter().map(|p| (p.when.clone(), p.log_points())).collect();
        let (low, high) = GradientFlow::decades([flow]).unwrap_or((-1, 1));
        let (low, high) = (f64::from(low), f64::from(high));
        let names = &flow.blocks;
        let last = names.len().saturating_sub(1);
        let x_labels = [names.first(), names.get(last / 2), names.get(last)]
            .into_iter()
            .map(|n| Span::raw(n.cloned().unwrap_or_default()))
            .collect::<Vec<_>>();
        let decades = (low as i32..=high as i32).map(|d| Span::raw(format!("1e{d}"))).collect::<Vec<_>>();
        let datasets = lines
            .iter()
            .zip(COLORS)
            .map(|((label, points), color)| {
                Dataset::default()
                    .name(label.clone())
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::default().fg(color))
                    .data(points)
            })
            .collect();
        Chart::new(datasets)
            .block(Block::bordered().title(" Gradient norm by depth, first block to last "))
            .legend_position(Some(LegendPosition::TopLeft))
            .hidden_legend_constraints((Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)))
            .x_axis(Axis::default().title("block".dim()).bounds([0.0, last.max(1) as f64]).labels(x_labels))
            .y_axis(Axis::default().title("norm".dim()).bounds([low, high]).labels(decades))
            .render(area, buf);
    }
}
