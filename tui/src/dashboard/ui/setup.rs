//! The setup panel: the settings form, the data search result, and what the run will do.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use resnet_core::data::batch_count;

use crate::dashboard::app::App;
use crate::dashboard::setup_form::FIELDS;
use crate::thousands::thousands;

/// The settings form and its context.
pub struct SetupPanel<'a>(pub &'a App);

impl Widget for SetupPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let form = &app.form;
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(area);

        let mut lines: Vec<Line> = FIELDS
            .iter()
            .enumerate()
            .map(|(i, &field)| {
                let selected = i == form.selected;
                let value = match (&form.editing, selected) {
                    (Some(text), true) => format!("{text}▏"),
                    _ => form.value(field),
                };
                let marker = if selected { "▶ " } else { "  " };
                let style =
                    if selected { Style::default().add_modifier(Modifier::BOLD) } else { Style::default() };
                Line::from(vec![
                    Span::styled(format!("{marker}{:<15}", field.label()), style),
                    Span::styled(value, if selected { style.fg(Color::Yellow) } else { style }),
                ])
            })
            .collect();
        lines.push(Line::raw(""));
        if let Some(message) = &form.message {
            lines.push(Line::from(message.as_str().red()));
        }
        if form.resuming {
            lines.push(Line::from("resuming: the recipe comes from the checkpoint".dim()));
        }
        // Wrapped, so that a long refusal (a path, a count) is read whole.
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Settings "))
            .render(left, buf);

        let c = &form.config;
        let params = app
            .outline
            .as_ref()
            .map(|n| n.iter().filter(|n| n.depth == 0).map(|n| n.params).sum::<usize>())
            .map_or_else(|e| e.clone(), |p| format!("{} parameters", thousands(p as u64)));
        let train = c.limit_train.map_or(60_000, |l| l.min(60_000));
        let info = vec![
            Line::from("Data".bold()),
            Line::raw(app.data_status.as_str()),
            Line::raw(""),
            Line::from("Run".bold()),
            Line::raw(format!("{} ({params}), {}x{} input", c.model, c.resize, c.resize)),
            Line::raw(format!(
                "{} epochs of {} batches of {} ({} images)",
                c.epochs,
                batch_count(train, c.batch_size),
                c.batch_size,
                thousands(train as u64)
            )),
            Line::raw(format!(
                "SGD lr {}, momentum {}, weight decay {}, schedule {}, seed {}",
                c.lr, c.momentum, c.weight_decay, c.schedule, c.seed
            )),
            Line::raw(""),
            Line::from(
                "The chapter trains 10 epochs at 96x96 (the d2l preset, hours on a CPU); the quick \
                 preset runs 2 epochs at 28x28 in minutes."
                    .dim(),
            ),
        ];
        Paragraph::new(info)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Run "))
            .render(right, buf);
    }
}
