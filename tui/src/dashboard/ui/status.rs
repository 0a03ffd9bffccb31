//! The status bar: the run's state and the keys that work now.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::dashboard::app::{App, Level};
use crate::dashboard::keys;
use crate::dashboard::phase::Phase;

/// One line at the bottom.
pub struct StatusBar<'a>(pub &'a App);

impl Widget for StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let color = match app.phase {
            Phase::Setup | Phase::Starting => Color::Blue,
            Phase::Running => Color::Green,
            Phase::Paused | Phase::Stopping => Color::Yellow,
            Phase::Finished => Color::Cyan,
            Phase::Failed => Color::Red,
        };
        let hints = keys::hints(&app.key_state());
        let keys = match app.phase {
            Phase::Stopping => format!("finishing this batch, then saving · {hints}"),
            _ => hints,
        };
        let state = format!(" {} ", app.phase.label().to_uppercase());
        let mut spans =
            vec![Span::styled(state, Style::default().bg(color).fg(Color::Black).bold()), Span::raw(" ")];
        // A failed run or save says why first; the keys follow.
        let failed = match (&app.save_failure, app.phase) {
            // The system's reason; the log has the whole line with the file.
            (Some(why), Phase::Paused) => {
                Some(format!("cannot save: {}", why.rsplit(": ").next().unwrap_or(why)))
            }
            (_, Phase::Failed) => {
                app.log.iter().rev().find(|l| l.level == Level::Error).map(|l| l.text.clone())
            }
            _ => None,
        };
        if let Some(why) = failed {
            spans.push(Span::styled(why, Style::default().fg(Color::Red).bold()));
            spans.push(Span::raw(" · "));
        }
        spans.push(Span::raw(keys).dim());
        Line::from(spans).render(area, buf);
    }
}
