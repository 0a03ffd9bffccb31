//! Drawing: one widget per panel, each over `&App`. Nothing here changes state.

mod gradient_depth;
mod gradient_flow;
mod header;
mod model;
mod popup;
mod setup;
mod status;
mod training;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use crate::dashboard::app::App;
use crate::dashboard::phase::Panel;

/// The smallest terminal the dashboard draws in.
pub const MIN_SIZE: (u16, u16) = (80, 24);

/// Draws the whole dashboard.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        let text = format!(
            "Terminal too small: {}x{}. resnet-tui needs at least {}x{}; enlarge the window or press q to quit.",
            area.width, area.height, MIN_SIZE.0, MIN_SIZE.1
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [top, body, bottom] =
        Layout::vertical([Constraint::Length(2), Constraint::Min(0), Constraint::Length(1)]).areas(area);
    frame.render_widget(header::Header(app), top);
    match app.panel {
        Panel::Setup => frame.render_widget(setup::SetupPanel(app), body),
        Panel::Model => frame.render_widget(model::ModelPanel(app), body),
        Panel::Training => frame.render_widget(training::TrainingPanel(app), body),
    }
    frame.render_widget(status::StatusBar(app), bottom);
    if let Some(p) = app.popup {
        popup::render(p, frame, area);
    }
}

/// A `width`×`height` rectangle centred in `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (w, h) = (width.min(area.width), height.min(area.height));
    Rect::new(area.x + (area.width - w) / 2, area.y + (area.height - h) / 2, w, h)
}

#[cfg(test)]
mod tests;
