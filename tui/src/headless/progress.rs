//! A headless run's progress on stderr: a bar redrawn in place when stderr is a terminal,
//! else a plain line at the first step and then every `--log-every` seconds or steps.

use std::time::Duration;

use crate::cli::LogEvery;
use crate::run::eta::clock;
use crate::run::view::RunView;

/// Decides when to show progress and what; see the module documentation.
#[derive(Debug)]
pub struct Progress {
    terminal: bool,
    every: LogEvery,
    /// When and at which step the last progress was shown.
    last: Option<(Duration, u64)>,
    /// Whether a bar is on the terminal's last line.
    bar_shown: bool,
}

/// Redraws of the bar per second, at most.
const BAR_REDRAWS_PER_SEC: f64 = 10.0;

impl Progress {
    /// Progress for stderr, a terminal or not.
    pub fn new(terminal: bool, every: LogEvery) -> Self {
        Self { terminal, every, last: None, bar_shown: false }
    }

    /// What to write to stderr after a training step that ended at `now`, if anything.
    pub fn after_step(&mut self, view: &RunView, now: Duration) -> Option<String> {
        let due = match (self.last, self.terminal, self.every) {
            (None, ..) => true,
            (Some((at, _)), true, _) => (now - at).as_secs_f64() >= 1.0 / BAR_REDRAWS_PER_SEC,
            (Some((at, _)), false, LogEvery::Seconds(s)) => (now - at).as_secs_f64() >= s,
            (Some((_, step)), false, LogEvery::Steps(n)) => view.step >= step + n,
        };
        if !due {
            return None;
        }
        self.last = Some((now, view.step));
        if self.terminal {
            self.bar_shown = true;
            Some(format!("\r\x1b[2K{}", bar(view)))
        } else {
            Some(format!("{}\n", line(view)))
        }
    }

    /// What to write to stderr before other output, so that it does not land on the bar's
    /// line: the erasure of the bar, when one is shown.
    pub fn clear(&mut self) -> Option<&'static str> {
        std::mem::take(&mut self.bar_shown).then_some("\r\x1b[2K")
    }
}

/// The numbers of a progress report: `epoch 1/10, step 12/235, loss 1.234, train acc 0.456,
/// 512.3 examples/sec, ETA 3:12`.
fn numbers(view: &RunView) -> String {
    let eta = view.eta().map_or_else(|| "estimating".to_string(), clock);
    let loss = view.losses.last().map_or_else(|| "-".to_string(), |l| format!("{l:.3}"));
    format!(
        "loss {loss}, train acc {:.3}, {:.1} examples/sec, ETA {eta}",
        view.train_acc, view.examples_per_sec
    )
}

/// A plain progress line.
pub fn line(view: &RunView) -> String {
    format!(
        "epoch {}/{}, step {}/{}: {}",
        view.epoch,
        view.epoch_count(),
        view.batch,
        view.batches,
        numbers(view)
    )
}

/// The terminal's bar: `epoch 1/10 [#####-----] 12/235 loss ...`.
pub fn bar(view: &RunView) -> String {
    const WIDTH: usize = 20;
    let filled = (view.batch * WIDTH).checked_div(view.batches).unwrap_or(0).min(WIDTH);
    format!(
        "epoch {}/{} [{}{}] {}/{} {}",
        view.epoch,
        view.epoch_count(),
        "#".repeat(filled),
        "-".repeat(WIDTH - filled),
        view.batch,
        view.batches,
        numbers(view)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use resnet_core::train::{TrainConfig, TrainEvent};

    fn view_at(step: u64) -> RunView {
        let mut view = RunView::default();
        let config = TrainConfig { epochs: 2, ..TrainConfig::quick() };
        view.apply(
            &TrainEvent::Started {
                config,
                data: "data".into(),
                train_examples: 400,
                test_examples: 100,
                batches_per_epoch: 4,
                start_epoch: 0,
                start_batch: 0,
                device: "cpu".into(),
                engine: resnet_core::train::Engine::Program,
                resumed_from: None,
            },
            Duration::ZERO,
        );
        for s in 1..=step {
            view.apply(
                &TrainEvent::Batch {
                    epoch: 1,
                    batch: s as usize,
                    batches: 4,
                    step: s,
                    loss: 2.0 / s as f64,
                    train_acc: 0.25,
                    examples_per_sec: 100.0,
                    lr: 0.05,
                    size: 100,
                },
                Duration::from_secs(s),
            );
        }
        view
    }

    #[test]
    fn log_every_reads_seconds_minutes_and_steps() {
        assert_eq!("10s".parse(), Ok(LogEvery::Seconds(10.0)));
        assert_eq!("0.5s".parse(), Ok(LogEvery::Seconds(0.5)));
        assert_eq!("2m".parse(), Ok(LogEvery::Seconds(120.0)));
        assert_eq!("100".parse(), Ok(LogEvery::Steps(100)));
        for bad in ["", "0", "0s", "ten", "10h", "-3s", "1.5"] {
            assert_eq!(
                bad.parse::<LogEvery>(),
                Err(format!("invalid --log-every `{bad}`: give seconds (10s, 2m) or steps (100)")),
                "{bad}"
            );
        }
    }

    #[test]
    fn plain_lines_come_at_the_first_step_then_every_interval() {
        let mut p = Progress::new(false, LogEvery::Seconds(10.0));
        let view = view_at(2);
        let first = p.after_step(&view, Duration::from_secs(3)).unwrap();
        assert_eq!(
            first,
            "epoch 1/2, step 2/4: loss 1.000, train acc 0.250, 100.0 examples/sec, ETA estimating\n"
        );
        assert_eq!(p.after_step(&view, Duration::from_secs(12)), None);
        assert!(p.after_step(&view, Duration::from_secs(13)).is_some());
        assert_eq!(p.clear(), None, "no bar to clear when not on a terminal");

        let mut by_steps = Progress::new(false, LogEvery::Steps(2));
        assert!(by_steps.after_step(&view_at(1), Duration::ZERO).is_some());
        assert_eq!(by_steps.after_step(&view_at(2), Duration::ZERO), None);
        assert!(by_steps.after_step(&view_at(3), Duration::ZERO).is_some());
    }

    #[test]
    fn the_bar_is_redrawn_in_place_and_cleared_before_other_output() {
        let mut p = Progress::new(true, LogEvery::default());
        let shown = p.after_step(&view_at(2), Duration::from_secs(1)).unwrap();
        assert_eq!(
            shown,
            "\r\x1b[2Kepoch 1/2 [##########----------] 2/4 \
             loss 1.000, train acc 0.250, 100.0 examples/sec, ETA estimating"
        );
        assert_eq!(
            p.after_step(&view_at(2), Duration::from_millis(1050)),
            None,
            "at most 10 redraws a second"
        );
        assert_eq!(p.clear(), Some("\r\x1b[2K"));
        assert_eq!(p.clear(), None);
    }
}
