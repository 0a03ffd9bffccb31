//! The training panel: loss per batch (raw and smoothed), accuracy per epoch with the
//! chapter's published result, progress with ETA, throughput, memory, the log and, from
//! 120×40 on, the compact shape table with each block's gradient norm.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Dataset, GraphType, LegendPosition, LineGauge, Paragraph, Row, Table, Widget,
};

use super::gradient_flow::{cell, row_keys, GradNorms};
use crate::dashboard::app::{App, Level};
use crate::dashboard::charts::{downsample, smooth, y_bounds};
use crate::dashboard::phase::Phase;
use crate::run::eta::clock;
use crate::run::memory::human;
use crate::thousands::thousands;
use resnet_core::summary::Node;
use resnet_core::train::DeviceInfo;

/// The share of a chart (width, height) its legend may take before it is hidden: room for
/// the compared run's entries too.
const LEGEND_ROOM: (Constraint, Constraint) = (Constraint::Ratio(1, 2), Constraint::Ratio(2, 3));

/// The colours of a finished run drawn beside the live one (`--compare`).
const COMPARE: Color = Color::LightBlue;
const COMPARE_TEST: Color = Color::LightRed;

/// The chapter's published test accuracy (10 epochs at 96x96 on a GPU).
pub const D2L_TEST_ACC: f64 = 0.893;

/// The terminal size (width, height) from which the Training view also shows the shape table.
pub const TABLE_FROM: (u16, u16) = (120, 40);

/// Cells of a gradient norm's bar in the compact table.
const GRAD_BAR: usize = 4;

/// Charts, progress and log.
pub struct TrainingPanel<'a>(pub &'a App);

impl Widget for TrainingPanel<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let app = self.0;
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(64), Constraint::Percentage(36)]).areas(area);
        let [loss, acc] =
            Layout::vertical([Constraint::Percentage(58), Constraint::Percentage(42)]).areas(left);
        let table_rows = shape_rows(app).len() as u16;
        let with_table = area.width >= TABLE_FROM.0 && area.height + 3 >= TABLE_FROM.1 && table_rows > 0;
        // Borders, the header and the total.
        let table_height = if with_table { table_rows + 4 } else { 0 };
        let [progress, table, log] =
            Layout::vertical([Constraint::Length(13), Constraint::Length(table_height), Constraint::Min(3)])
                .areas(right);
        loss_chart(app, loss, buf);
        accuracy_chart(app, acc, buf);
        progress_panel(app, progress, buf);
        if with_table {
            shape_table(app, table, buf);
        }
        log_panel(app, log, buf);
    }
}

/// The rows of the compact shape table: the layers with parameters (stem, stages, head),
/// each with its gradient-flow name.
fn shape_rows(app: &App) -> Vec<(&Node, String)> {
    let Ok(nodes) = &app.outline else { return Vec::new() };
    nodes
        .iter()
        .zip(row_keys(nodes))
        .filter(|(n, _)| n.depth == 0 && n.params > 0)
        .map(|(n, key)| (n, key.unwrap_or_default()))
        .collect()
}

/// Each block's output shape (batch left out), parameters and newest gradient norm, and
/// the total: the shape table beside the curves.
fn shape_table(app: &App, area: Rect, buf: &mut Buffer) {
    let rows = shape_rows(app);
    let grads = GradNorms::latest(&app.run);
    let total: usize = rows.iter().map(|(n, _)| n.params).sum();
    let mut lines: Vec<Row> = rows
        .iter()
        .map(|(n, key)| {
            let shape =
                n.output.as_slice().iter().skip(1).map(|d| d.to_string()).collect::<Vec<_>>().join("×");
            let grad =
                grads.as_ref().and_then(|g| Some(cell(g.get(key)?, g.max(), GRAD_BAR))).unwrap_or_default();
            Row::new([
                Cell::from(n.name.clone()),
                Cell::from(shape),
                Cell::from(thousands(n.params as u64)),
                Cell::from(grad),
            ])
        })
        .collect();
    lines.push(Row::new(["total".to_string(), String::new(), thousands(total as u64), String::new()]).bold());
    let model = app.run.config.as_ref().map_or(app.form.config.model, |c| c.model);
    let widths =
        [Constraint::Length(7), Constraint::Length(10), Constraint::Length(10), Constraint::Length(12)];
    Table::new(lines, widths)
        .header(Row::new(["block", "output", "params", "grad norm"]).style(Style::default().dim()))
        .block(Block::bordered().title(format!(" Model · {model} ")))
        .render(area, buf);
}

fn loss_chart(app: &App, area: Rect, buf: &mut Buffer) {
    let run = &app.run;
    let width = area.width.saturating_sub(10).max(1) as usize * 2;
    let raw = downsample(&run.losses, run.first_step + 1, width);
    let smoothed = smooth(&raw, 0.8);
    let x0 = run.first_step as f64 + 1.0;
    let x1 = (run.first_step + run.losses.len() as u64).max(run.first_step + 2) as f64;
    // The finished run's mean loss at the same steps (its epochs times this run's batches).
    let batches = run.batches as f64;
    let compared: Vec<(f64, f64)> = app
        .compare
        .iter()
        .flat_map(|c| c.train_loss.iter().map(|&(epoch, loss)| (epoch * batches, loss)))
        .filter(|&(step, _)| batches > 0.0 && step >= x0 && step <= x1)
        .collect();
    let [lo, hi] = y_bounds(&[&raw[..], &compared[..]].concat());
    let title = match run.losses.last() {
        Some(l) => {
            format!(" Loss per batch · last {l:.3} · smoothed {:.3} ", smoothed.last().map_or(*l, |p| p.1))
        }
        None => " Loss per batch ".to_string(),
    };
    let mut datasets = vec![
        line("batch", Marker::Braille, Color::DarkGray, &raw),
        line("smoothed", Marker::Braille, Color::Yellow, &smoothed),
    ];
    if let Some(c) = &app.compare {
        datasets.push(line(c.label.as_str(), Marker::Braille, COMPARE, &compared));
    }
    Chart::new(datasets)
        .block(Block::bordered().title(title))
        .hidden_legend_constraints(LEGEND_ROOM)
        .x_axis(
            Axis::default().title("step").bounds([x0, x1]).labels([format!("{x0:.0}"), format!("{x1:.0}")]),
        )
        .y_axis(Axis::default().bounds([lo, hi]).labels([format!("{lo:.2}"), format!("{hi:.2}")]))
        .render(area, buf);
}

/// A named line of points in `color`.
fn line<'a>(name: impl Into<Line<'a>>, marker: Marker, color: Color, data: &'a [(f64, f64)]) -> Dataset<'a> {
    Dataset::default()
        .name(name)
        .marker(marker)
        .graph_type(GraphType::Line)
        .style(Style::default().fg(color))
        .data(data)
}

fn accuracy_chart(app: &App, area: Rect, buf: &mut Buffer) {
    let run = &app.run;
    let epochs = run.epoch_count().max(1) as f64;
    let train: Vec<(f64, f64)> = run.epochs.iter().map(|m| (m.epoch as f64, m.train_acc)).collect();
    let test: Vec<(f64, f64)> = run.epochs.iter().map(|m| (m.epoch as f64, m.test_acc)).collect();
    let reference = [(0.0, D2L_TEST_ACC), (epochs, D2L_TEST_ACC)];
    let within = |points: &[(f64, f64)]| points.iter().copied().filter(|p| p.0 <= epochs).collect::<Vec<_>>();
    let (compared_train, compared_test) =
        app.compare.as_ref().map(|c| (within(&c.train_acc), within(&c.test_acc))).unwrap_or_default();
    let lowest = train.iter().chain(&test).chain(&compared_test).map(|p| p.1).fold(0.5f64, f64::min);
    let lo = (lowest * 10.0).floor() / 10.0;
    let title = match run.epochs.last() {
        Some(m) => format!(" Accuracy per epoch · train {:.3} · test {:.3} ", m.train_acc, m.test_acc),
        None => " Accuracy per epoch ".to_string(),
    };
    let mut datasets = vec![
        line(format!("d2l test {D2L_TEST_ACC}"), Marker::Braille, Color::DarkGray, &reference),
        line("train", Marker::Dot, Color::Cyan, &train),
        line("test", Marker::Dot, Color::Magenta, &test),
    ];
    if let Some(c) = &app.compare {
        datasets.push(line(format!("{} train", c.label), Marker::Braille, COMPARE, &compared_train));
        datasets.push(line(format!("{} test", c.label), Marker::Dot, COMPARE_TEST, &compared_test));
    }
    Chart::new(datasets)
        .block(Block::bordered().title(title))
        .hidden_legend_constraints(LEGEND_ROOM)
        .legend_position(Some(LegendPosition::Left))
        .x_axis(
            Axis::default()
                .title("epoch")
                .bounds([0.0, epochs])
                .labels(["0".to_string(), format!("{epochs:.0}")]),
        )
        .y_axis(Axis::default().bounds([lo, 1.0]).labels([format!("{lo:.1}"), "1.0".to_string()]))
        .render(area, buf);
}

fn progress_panel(app: &App, area: Rect, buf: &mut Buffer) {
    let run = &app.run;
    let block = Block::bordered().title(" Progress ");
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = Layout::vertical([Constraint::Length(1); 11]).split(inner);
    let batches = run.batches.max(1);
    let epoch_ratio = (run.batch as f64 / batches as f64).clamp(0.0, 1.0);
    let total = run.total_steps().max(1);
    let run_ratio = (run.step as f64 / total as f64).clamp(0.0, 1.0);
    let epoch_label = if run.testing {
        format!("epoch {}/{} testing", run.epoch.min(run.epoch_count().max(1)), run.epoch_count())
    } else {
        format!(
            "epoch {}/{} {}/{}",
            run.epoch.min(run.epoch_count().max(1)),
            run.epoch_count(),
            run.batch,
            run.batches
        )
    };
    LineGauge::default()
        .ratio(epoch_ratio)
        .label(epoch_label)
        .filled_style(Style::default().fg(Color::Green))
        .render(rows[0], buf);
    let eta = match (app.phase, run.eta()) {
        (Phase::Finished, _) => "done".to_string(),
        (_, Some(d)) => format!("ETA {}", clock(d)),
        (_, None) => "ETA after warm-up".to_string(),
    };
    LineGauge::default()
        .ratio(run_ratio)
        .label(format!("run {:>3.0}% {eta}", run_ratio * 100.0))
        .filled_style(Style::default().fg(Color::Blue))
        .render(rows[1], buf);
    let elapsed = match run.started_at {
        Some(start) => clock(run.ended_at.unwrap_or(app.now).saturating_sub(start)),
        None => "-".into(),
    };
    let stat = |k: &str, v: String| Line::from(vec![Span::raw(format!("{k:<14}")).dim(), Span::raw(v)]);
    let lines = [
        stat(
            "examples/sec",
            format!(
                "{:.1} on {}{}",
                run.examples_per_sec,
                if run.device.is_empty() { "-" } else { &run.device },
                run.gpu.as_ref().map_or(String::new(), |g| format!(" ({})", g.name))
            ),
        ),
        stat("elapsed", elapsed),
        stat("step", format!("{} of {}", run.step, run.total_steps())),
        stat("learning rate", format!("{}", run.lr)),
        stat("train acc", format!("{:.3} (this epoch)", run.train_acc)),
        stat("memory", memory_line(app.memory, run.gpu.as_ref())),
        stat("checkpoint", run.checkpoint.clone().unwrap_or_else(|| "-".into())),
        stat("data", if run.data.is_empty() { "-".into() } else { run.data.clone() }),
    ];
    for (line, row) in lines.into_iter().zip(rows.iter().skip(3)) {
        line.render(*row, buf);
    }
}

/// The process's resident memory, and the GPU's in use of its total when there is one.
fn memory_line(resident: Option<u64>, gpu: Option<&DeviceInfo>) -> String {
    let process = resident.map_or_else(|| "-".into(), human);
    match gpu.and_then(|g| g.memory) {
        Some((used, total)) => {
            let gb = |b: usize| b as f64 / (1u64 << 30) as f64;
            format!("{process} · GPU {:.1}/{:.0} GB", gb(used), gb(total))
        }
        None => process,
    }
}

/// Splits `text` into lines of at most `width` characters, at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = vec![String::new()];
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let line = lines.last_mut().map_or(0, |l| l.chars().count());
            let room = if line == 0 { width } else { width.saturating_sub(line + 1) };
            if word.len() <= room {
                let current = lines.last_mut();
                if let Some(current) = current {
                    if line > 0 {
                        current.push(' ');
                    }
                    current.extend(word.iter());
                }
                break;
            }
            if line > 0 {
                lines.push(String::new());
                continue;
            }
            let rest = word.split_off(width);
            if let Some(current) = lines.last_mut() {
                current.extend(word.iter());
            }
            lines.push(String::new());
            word = rest;
        }
    }
    lines
}

fn log_panel(app: &App, area: Rect, buf: &mut Buffer) {
    let (height, width) = (area.height.saturating_sub(2) as usize, area.width.saturating_sub(2) as usize);
    let lines: Vec<Line> = app
        .log
        .iter()
        .flat_map(|l| {
            let style = match l.level {
                Level::Info => Style::default(),
                Level::Warning => Style::default().fg(Color::Yellow),
                Level::Error => Style::default().fg(Color::Red),
            };
            wrap(&format!("{} {}", clock(l.at), l.text), width)
                .into_iter()
                .map(move |t| Line::styled(t, style))
        })
        .collect();
    // Newest at the bottom; ↑ scrolls back.
    let end = lines.len().saturating_sub(app.log_scroll as usize);
    let start = end.saturating_sub(height);
    Paragraph::new(lines[start..end].to_vec()).block(Block::bordered().title(" Log ")).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_spaces_and_splits_long_words() {
        assert_eq!(wrap("epoch 1/2: loss 0.595", 10), ["epoch 1/2:", "loss 0.595"]);
        assert_eq!(wrap("/a/very/long/path ok", 8), ["/a/very/", "long/pat", "h ok"]);
        assert_eq!(wrap("", 5), [""]);
    }
}
