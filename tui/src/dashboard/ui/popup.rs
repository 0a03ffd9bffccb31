//! Popups: the quit prompt and the help screen.

use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use ratatui::Frame;

use super::centered;
use crate::app::{Popup, QUIT_CHOICES};

/// The keys, for the help screen.
pub const KEYS: [(&str, &str); 11] = [
    ("Enter", "start training (setup screen)"),
    ("space / p", "pause or resume after the current batch"),
    ("s", "save a checkpoint after the current batch"),
    ("q", "stop: save and stop / quit without saving / cancel"),
    ("Esc", "close a prompt"),
    ("tab / shift-tab", "next / previous panel"),
    ("↑ ↓ PgUp PgDn", "scroll the model table or the log"),
    ("↑ ↓ ← →", "setup: select a setting, change it"),
    ("e", "setup: edit the selected setting as text"),
    ("Ctrl-C", "save and stop (twice: quit at once)"),
    ("?", "this help"),
];

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
            let lines: Vec<Line> =
                KEYS.iter().map(|(k, v)| Line::from(vec![format!("{k:<17}").bold(), (*v).into()])).collect();
            let box_area = centered(area, 72, KEYS.len() as u16 + 4);
            frame.render_widget(Clear, box_area);
            frame.render_widget(
                Paragraph::new(lines).block(Block::bordered().title(" Keys · Esc or ? to close ")),
                box_area,
            );
        }
    }
}
