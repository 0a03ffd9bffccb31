//! The title line and the panel tabs.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Tabs, Widget};

use crate::dashboard::app::App;
use crate::dashboard::phase::PANELS;

/// Title and tabs.
pub struct Header<'a>(pub &'a App);

impl Widget for Header<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let [title, tabs] = Layout::vertical([Constraint::Length(1), Constraint::Length(1)]).areas(area);
        let c = &app.form.config;
        let what = match &app.run.config {
            Some(r) => format!(" {} on Fashion-MNIST {}x{}", r.model, r.resize, r.resize),
            None => format!(" {} on Fashion-MNIST {}x{}", c.model, c.resize, c.resize),
        };
        Line::from(vec!["resnet-dfdx".bold(), " · d2l ch. 8.6 (ResNet) ·".dim(), what.into()])
            .render(title, buf);
        let selected = PANELS.iter().position(|&p| p == app.panel).unwrap_or(0);
        Tabs::new(["Setup", "Model", "Training"])
            .select(selected)
            .highlight_style(Style::default().add_modifier(Modifier::REVERSED))
            .render(tabs, buf);
    }
}
