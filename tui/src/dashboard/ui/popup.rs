//! Popups: the quit prompt and the help screen.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use crate::dashboard::app::{Popup, QUIT_CHOICES};
use crate::dashboard::keys::KEYS;

/// Draws `popup` over `area`.
pub fn render(popup: Popup, frame: &mut Frame, area: Rect) {
    match popup {
        Popup::Quit { selected } => {
            let mut lines = vec![Line::raw("Training is running. What now?"), Line::raw("")];
            for (i, choice) in QUIT_CHOICES.iter().enumerate() {
                let line = if i == selected {
                    Line::styled(format!("▶ {choice}"), Style::default().add_modifier(Modifier::REVERSED))
                } else {
                    Line::raw(format!("  {choice}"))
                };
                lines.push(line);
            }
            lines.push(Line::raw(""));
            lines.push(Line::from("↑↓ choose · Enter confirm · Esc cancel".dim()));
            let box_area = centered(area, 46, 9);
            frame.render_widget(Clear, box_area);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Stop training? ")),
                box_area,
            );
        }
        Popup::Help => {
            let lines: Vec<Line> = KEYS
                .iter()
                .map(|k| Line::from(vec![format!("{:<17}", k.label).bold(), k.help.into()]))
                .collect();
            let box_area = centered(area, 72, KEYS.len() as u16 + 4);
            frame.render_widget(Clear, box_area);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Keys · Esc or ? to close ")),
                box_area,
            );
        }
    }
}
