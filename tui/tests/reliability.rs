//! What a long run promises when things go wrong: signals stop it after the batch with a
//! saved checkpoint (exit 130/143), a second SIGINT exits at once, a diverging loss stops it
//! with the last good checkpoint intact (exit 1), and `--keep N` keeps the N newest files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{resnet_tui, small_run, temporaries, Running};
use resnet_core::checkpoint::older_version;
use resnet_core::train::Checkpoint;

fn with(mut args: Vec<String>, extra: &[&str]) -> Vec<String> {
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stop_with(signal: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let args = with(small_run(2048, 1), &["--checkpoint", ckpt.to_str().unwrap()]);
    let mut run = Running::start(&args);
    run.wait_for("training resnet18 on cpu");
    run.signal(signal);
    let (status, lines) = run.finish();
    assert_eq!(status, Some(code), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("stopping after this batch and saving")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("(stopping, step ")), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "stopped early"), "{lines:#?}");
    let saved = Checkpoint::load(&ckpt).expect("the stop saved a loadable checkpoint");
    assert!(saved.position.step >= 1 && saved.position.epoch == 0, "{:?}", saved.position);
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn sigint_stops_after_the_batch_saves_and_exits_130() {
    stop_with("INT", 130);
}

#[test]
fn sigterm_stops_after_the_batch_saves_and_exits_143() {
    stop_with("TERM", 143);
}

#[test]
fn a_second_sigint_exits_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    // Large batches at 96x96: a step takes seconds, so both signals land inside one.
    let mut args = small_run(4096, 1);
    let i = args.iter().position(|a| a == "--batch-size").unwrap();
    args[i + 1] = "512".into();
    let args = with(args, &["--resize", "96", "--checkpoint", ckpt.to_str().unwrap()]);
    let mut run = Running::start(&args);
    run.wait_for("training resnet18 on cpu");
    run.signal("INT");
    run.wait_for("stopping after this batch and saving");
    run.signal("INT");
    let (status, lines) = run.finish();
    assert_eq!(status, Some(130), "{lines:#?}");
    assert!(lines.iter().any(|l| l == "interrupted again: exiting without saving"), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("saved checkpoint")), "{lines:#?}");
}

#[test]
fn a_diverging_loss_stops_the_run_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let first = resnet_tui(
        &with(small_run(128, 1), &["--checkpoint", ckpt.to_str().unwrap()])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )
    .output()
    .unwrap();
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let good = std::fs::read(&ckpt).unwrap();
    // Resuming cannot change the recipe, so a new run with a huge learning rate saves every
    // step into the same file until the loss stops being finite.
    let args = with(
        small_run(1024, 1),
        &["--lr", "1e6", "--save-every", "1", "--checkpoint", ckpt.to_str().unwrap()],
    );
    let out = resnet_tui(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        last.starts_with("error: training diverged: ") && last.ends_with("; lower the learning rate"),
        "{err}"
    );
    let after = Checkpoint::load(&ckpt).expect("the last checkpoint before the divergence loads");
    assert!(
        after.params.iter().all(|t| t.data.iter().all(|v| v.is_finite())),
        "a non-finite weight was saved"
    );
    assert_ne!(std::fs::read(&ckpt).unwrap(), good, "the diverging run saved steps before it diverged");
    assert!(temporaries(dir.path()).is_empty());
}

#[test]
fn keep_holds_the_newest_checkpoints_and_no_temporaries() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let args = with(
        small_run(160, 1),
        &["--save-every", "1", "--keep", "3", "--checkpoint", ckpt.to_str().unwrap()],
    );
    let out = resnet_tui(&args.iter().map(String::as_str).collect::<Vec<_>>()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // 5 steps, each saved, then the epoch end: the newest three remain.
    let steps: Vec<u64> = [ckpt.clone(), older_version(&ckpt, 1), older_version(&ckpt, 2)]
        .iter()
        .map(|p| Checkpoint::load(p).unwrap().position.step)
        .collect();
    assert_eq!(steps, [5, 5, 4], "epoch end (step 5), step 5, step 4");
    assert!(!older_version(&ckpt, 3).exists());
    assert!(temporaries(dir.path()).is_empty());
    let out = resnet_tui(&["train", "--headless", "--keep", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid value '0' for '--keep <N>'"));
}
