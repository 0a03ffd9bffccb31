//! Screen snapshots (ratatui's `TestBackend`, insta), driven by synthetic trainer events:
//! each panel at 120x40 and at the smallest size, popups, and a too-small terminal.

use std::time::Duration;

use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ratatui::Terminal;
use resnet_core::train::{
    BlockReport, BlockStats, Control, EpochMetrics, Record, SaveReason, StepMetrics, TrainConfig, TrainEvent,
};

use crate::cli::train_args;
use crate::dashboard::app::App;
use crate::dashboard::phase::Panel;
use crate::dashboard::setup_form::SetupForm;
use crate::plot::RunCurves;

fn press(app: &mut App, code: KeyCode) {
    app.on_key(KeyEvent {
        code,
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    });
}

fn setup_app() -> App {
    let args = train_args(&["--preset", "quick"]);
    let mut form = SetupForm::new(&args, None).unwrap();
    form.today = "2026-12-03".into();
    App::new(form, "found: /usr/share/datasets/fashion-mnist (package dataset-fashion-mnist)".into())
}

/// A synthetic report of ResNet-18's gradient flow: norms growing from the input to the head.
fn block_report(epoch: usize, batch: usize, batches: usize, step: u64) -> BlockReport {
    let names = ["b1", "b2.0", "b2.1", "b3.0", "b3.1", "b4.0", "b4.1", "b5.0", "b5.1", "head"];
    let blocks = names
        .iter()
        .enumerate()
        .map(|(i, name)| BlockStats {
            name: name.to_string(),
            grad_norm: 0.002 * 2f64.powi(i as i32) / (1.0 + step as f64 / 100.0),
            weight_norm: 5.0 + i as f64,
            update_ratio: 1e-3,
        })
        .collect();
    BlockReport { epoch, batch, batches, step, blocks }
}

/// A trainer event arriving at `now`.
fn train_at(app: &mut App, event: TrainEvent, now: Duration) {
    app.now = now;
    app.on_train(event);
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A quick run one and a half epochs in, with a checkpoint and a warning in the log.
fn training_app() -> App {
    let mut app = setup_app();
    app.now = secs(2.0);
    app.started(Control::new(), app.form.run_dir_path());
    let config = TrainConfig::quick();
    let batches = 235;
    train_at(
        &mut app,
        TrainEvent::Started {
            config: config.clone(),
            data: "/usr/share/datasets/fashion-mnist (package dataset-fashion-mnist)".into(),
            train_examples: 60_000,
            test_examples: 10_000,
            batches_per_epoch: batches,
            start_epoch: 0,
            start_batch: 0,
            device: "cpu".into(),
            engine: resnet_core::train::Engine::Program,
            resumed_from: None,
        },
        secs(3.0),
    );
    let mut t = 3.0;
    for step in 1..=(batches + 120) as u64 {
        let epoch = if step as usize <= batches { 1 } else { 2 };
        let batch = if epoch == 1 { step as usize } else { step as usize - batches };
        let loss = 0.3 + 2.0 / (1.0 + step as f64 / 20.0) + 0.05 * ((step as f64) * 1.7).sin();
        t += 0.75;
        train_at(
            &mut app,
            TrainEvent::Batch {
                epoch,
                batch,
                batches,
                step,
                loss,
                train_acc: 0.8 + 0.0004 * batch as f64,
                examples_per_sec: 341.3,
                lr: 0.05,
                size: 256,
            },
            secs(t),
        );
        if step % 10 == 1 {
            train_at(&mut app, TrainEvent::Blocks(block_report(epoch, batch, batches, step)), secs(t));
        }
        if step as usize == batches {
            train_at(&mut app, TrainEvent::Evaluating { epoch: 1 }, secs(t));
            t += 9.0;
            let m = EpochMetrics {
                epoch: 1,
                loss: 0.595,
                train_acc: 0.810,
                test_acc: 0.831,
                examples_per_sec: 341.3,
                seconds: 185.2,
                lr: 0.05,
            };
            train_at(&mut app, TrainEvent::Epoch(m), secs(t));
            train_at(
                &mut app,
                TrainEvent::CheckpointSaved {
                    path: "runs/2026-12-03-resnet18/checkpoint.ckpt".into(),
                    step,
                    reason: SaveReason::EpochEnd,
                },
                secs(t),
            );
        }
    }
    train_at(&mut app, TrainEvent::Warning("no checkpoint path set: nothing saved".into()), secs(t));
    app.memory = Some(612 << 20);
    app.now = secs(t);
    app
}

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal.draw(|f| super::render(app, f)).expect("draw");
    terminal.backend().to_string()
}

#[test]
fn setup_screen() {
    let mut app = setup_app();
    insta::assert_snapshot!("setup_120x40", screen(&app, 120, 40));
    insta::assert_snapshot!("setup_80x24", screen(&app, 80, 24));
    // Editing the epochs with a refused value shows the reason.
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Down);
    press(&mut app, KeyCode::Char('0'));
    press(&mut app, KeyCode::Enter);
    insta::assert_snapshot!("setup_editing_error", screen(&app, 120, 40));
}

#[test]
fn model_screen_lists_blocks_shortcuts_and_strides() {
    let mut app = setup_app();
    app.panel = Panel::Model;
    insta::assert_snapshot!("model_120x40", screen(&app, 120, 40));
    press(&mut app, KeyCode::PageDown);
    insta::assert_snapshot!("model_scrolled_80x24", screen(&app, 80, 24));
}

#[test]
fn model_screen_shows_each_blocks_gradient_norm_during_a_run() {
    let mut app = training_app();
    app.panel = Panel::Model;
    insta::assert_snapshot!("model_gradient_flow_120x40", screen(&app, 120, 40));
    // A wide terminal draws the gradient flow by depth beside the table.
    insta::assert_snapshot!("model_gradient_depth_160x48", screen(&app, 160, 48));
}

/// A finished two-epoch run's rows: a slower start than the live run's.
fn finished_run() -> RunCurves {
    let mut records = Vec::new();
    for epoch in 1..=2 {
        for batch in (10..=235).step_by(15) {
            let progress = (epoch - 1) as f64 + batch as f64 / 235.0;
            records.push(Record::Step(StepMetrics {
                epoch,
                batch,
                batches: 235,
                step: ((epoch - 1) * 235 + batch) as u64,
                loss: 2.4 / (1.0 + progress),
                train_acc: 0.5 + 0.1 * progress,
                lr: 0.05,
                examples_per_sec: 300.0,
            }));
        }
        records.push(Record::Epoch(EpochMetrics {
            epoch,
            loss: 1.0,
            train_acc: 0.6 + 0.1 * epoch as f64,
            test_acc: 0.55 + 0.1 * epoch as f64,
            examples_per_sec: 300.0,
            seconds: 200.0,
            lr: 0.05,
        }));
    }
    RunCurves::from_records("plain34", &records)
}

#[test]
fn training_screen_draws_a_finished_run_beside_the_live_one() {
    let mut app = training_app();
    app.compare = Some(finished_run());
    insta::assert_snapshot!("training_compared_120x40", screen(&app, 120, 40));
}

#[test]
fn training_screen() {
    let app = training_app();
    insta::assert_snapshot!("training_120x40", screen(&app, 120, 40));
    insta::assert_snapshot!("training_80x24", screen(&app, 80, 24));
}

#[test]
fn popups_and_a_finished_run() {
    let mut app = training_app();
    press(&mut app, KeyCode::Char('q'));
    insta::assert_snapshot!("quit_prompt", screen(&app, 120, 40));
    press(&mut app, KeyCode::Esc);
    press(&mut app, KeyCode::Char('?'));
    insta::assert_snapshot!("help", screen(&app, 120, 40));
    press(&mut app, KeyCode::Esc);
    let m = EpochMetrics {
        epoch: 2,
        loss: 0.306,
        train_acc: 0.886,
        test_acc: 0.864,
        examples_per_sec: 351.3,
        seconds: 180.0,
        lr: 0.05,
    };
    let later = app.now + secs(100.0);
    train_at(&mut app, TrainEvent::Epoch(m.clone()), later);
    let history = app.run.epochs.clone();
    train_at(&mut app, TrainEvent::Finished { history, stopped: false }, later);
    insta::assert_snapshot!("finished", screen(&app, 120, 40));
}

#[test]
fn a_small_terminal_is_told_so() {
    insta::assert_snapshot!("too_small", screen(&training_app(), 60, 15));
}

#[test]
fn a_diverged_run_shows_why_in_the_log_and_the_status_bar() {
    let mut app = training_app();
    let message = "training diverged: loss NaN at epoch 2, step 301; lower the learning rate";
    let later = app.now + secs(1.0);
    train_at(&mut app, TrainEvent::Failed { message: message.into() }, later);
    let text = screen(&app, 120, 40);
    insta::assert_snapshot!("diverged", text);
    let status = text.lines().last().unwrap();
    assert!(status.contains(" FAILED  training diverged: loss NaN at epoch 2, step 301"), "{status}");
}

#[test]
fn a_gpu_run_shows_the_gpu_and_its_memory() {
    let mut app = training_app();
    let info =
        resnet_core::train::DeviceInfo { name: "NVIDIA H200".into(), memory: Some((3 << 30, 140 << 30)) };
    app.on_train(TrainEvent::Device(info));
    let text = screen(&app, 120, 40);
    assert!(text.contains("examples/sec  341.3 on cpu (NVIDIA H200)"), "{text}");
    assert!(text.contains("memory        612 MB · GPU 3.0/140 GB"), "{text}");
}
