//! The model panel: the layer table with each block's structure, scrollable; once the run
//! reports it, each block's gradient norm (the gradient flow) as a column of bars.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, Widget};

use super::gradient_depth::GradientDepth;
use super::gradient_flow::{cell, row_keys, GradNorms};
use crate::dashboard::app::App;
use crate::thousands::thousands;

/// Cells of a gradient norm's bar.
const GRAD_BAR: usize = 8;

/// Terminal columns from which the gradient flow by depth is drawn beside the table.
const DEPTH_CHART_FROM: u16 = 150;
/// Columns of that chart.
const DEPTH_CHART_WIDTH: u16 = 56;

/// The layer table.
pub struct ModelPanel<'a>(pub &'a App);

impl Widget for ModelPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let area = if area.width >= DEPTH_CHART_FROM && !app.run.blocks.is_empty() {
            let [table, chart] =
                Layout::horizontal([Constraint::Min(0), Constraint::Length(DEPTH_CHART_WIDTH)]).areas(area);
            GradientDepth(&app.depth).render(chart, buf);
            table
        } else {
            area
        };
        let nodes = match &app.outline {
            Ok(n) => n,
            Err(e) => {
                Paragraph::new(Line::from(e.as_str().red()))
                    .block(Block::bordered().title(" Model "))
                    .render(area, buf);
                return;
            }
        };
        let c = app.run.config.as_ref().unwrap_or(&app.form.config);
        let top = || nodes.iter().filter(|n| n.depth == 0);
        let total_macs: u64 = top().map(|n| n.macs).sum();
        let total_params: usize = top().map(|n| n.params).sum();
        let share = |m: u64| {
            if total_macs == 0 {
                String::new()
            } else {
                format!("{:5.1}%", 100.0 * m as f64 / total_macs as f64)
            }
        };
        let grads = GradNorms::latest(&app.run);
        let keys = row_keys(nodes);
        let rows: Vec<Row> = nodes
            .iter()
            .zip(&keys)
            .skip(app.model_scroll as usize)
            .map(|(n, key)| {
                let (name, style) = if n.depth == 0 {
                    (format!("{:<20} {}", n.name, n.text), Style::default().add_modifier(Modifier::BOLD))
                } else {
                    (format!("{}{}", "  ".repeat(n.depth), n.text), Style::default())
                };
                let grad = match (&grads, key) {
                    (Some(g), Some(k)) => g.get(k).map(|v| cell(v, g.max(), GRAD_BAR)).unwrap_or_default(),
                    _ => String::new(),
                };
                Row::new([
                    Cell::from(name),
                    Cell::from(n.output.to_string()),
                    Cell::from(thousands(n.params as u64)),
                    Cell::from(share(n.macs)),
                    Cell::from(grad),
                ])
                .style(if n.depth > 1 { style.add_modifier(Modifier::DIM) } else { style })
            })
            .collect();
        let title = format!(
            " Model: {}, input (1, 1, {}, {}) · {} parameters · {} MACs · ↑↓ PgUp PgDn scroll ",
            c.model,
            c.resize,
            c.resize,
            thousands(total_params as u64),
            thousands(total_macs)
        );
        // Exact widths: an over-constrained layout is solved differently from run to run. The
        // gradient column takes room only once there are gradients to show.
        let grad_width = if grads.is_some() { GRAD_BAR as u16 + 9 } else { 0 };
        let name = area.width.saturating_sub(2 + 20 + 12 + 7 + 3 + grad_width + grad_width.min(1)).max(8);
        let mut widths = vec![
            Constraint::Length(name),
            Constraint::Length(20),
            Constraint::Length(12),
            Constraint::Length(7),
        ];
        if grads.is_some() {
            widths.push(Constraint::Length(grad_width));
        }
        let grad_title = if grads.is_some() { "gradient norm" } else { "" };
        Table::new(rows, widths)
            .header(
                Row::new(["layer", "output shape", "params", "MACs", grad_title])
                    .style(Style::default().bold()),
            )
            .block(Block::bordered().title(title))
            .render(area, buf);
    }
}
