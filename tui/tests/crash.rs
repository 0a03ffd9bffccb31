//! Crash consistency: headless training is killed with SIGKILL at random moments, many
//! times, with a checkpoint written every step (so many kills land inside a write); after
//! every kill the newest checkpoint loads and the next run resumes from it, never going
//! back. Ignored by default (it takes a minute or two); `.ci/run` runs it:
//! `cargo test -p resnet-tui --test crash -- --ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{small_run, temporaries, Running};
use resnet_core::checkpoint::older_version;
use resnet_core::train::Checkpoint;

/// Kills the test inflicts.
const KILLS: usize = 60;

/// A small deterministic generator (xorshift), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
#[ignore = "slow: run by .ci/run"]
fn sigkill_at_random_moments_never_loses_the_newest_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let path = ckpt.to_str().unwrap().to_string();
    let mut rng = Rng(0x5eed_1234_abcd);
    let (mut last_step, mut mid_write, mut resumed) = (0u64, 0, 0);
    for kill in 0..KILLS {
        let args: Vec<String> = if ckpt.exists() {
            ["train", "--headless", "--resume", &path, "--save-every", "1", "--keep", "2"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        } else {
            let mut a = small_run(100_000, 1000);
            a.extend(["--checkpoint", &path, "--save-every", "1", "--keep", "2"].map(String::from));
            a
        };
        let mut run = Running::start(&args);
        if ckpt.exists() {
            run.wait_for("resuming ");
            resumed += 1;
        }
        run.wait_for("training resnet18 on cpu");
        // Somewhere in the next 1.5 s: inside a step, a save, or between them.
        std::thread::sleep(Duration::from_millis(rng.below(1500)));
        run.child.kill().unwrap();
        let status = run.child.wait().unwrap();
        assert_eq!(status.code(), None, "kill {kill}: the run ended by itself");
        if !temporaries(dir.path()).is_empty() {
            mid_write += 1;
        }
        if ckpt.exists() {
            let newest =
                Checkpoint::load(&ckpt).unwrap_or_else(|e| panic!("kill {kill}: newest does not load: {e}"));
            assert!(newest.position.step >= last_step, "kill {kill}: went back from step {last_step}");
            last_step = newest.position.step;
            let older = older_version(&ckpt, 1);
            if older.exists() {
                Checkpoint::load(&older).unwrap_or_else(|e| panic!("kill {kill}: {}: {e}", older.display()));
            }
        }
    }
    // A last run resumes, cleans up what the kills left, and stops cleanly.
    let mut run =
        Running::start(&["train", "--headless", "--resume", &path, "--save-every", "1"].map(String::from));
    run.wait_for("resuming ");
    run.wait_for("saved checkpoint");
    let started = Instant::now();
    run.signal("TERM");
    let (status, lines) = run.finish();
    assert_eq!(status, Some(143), "{lines:#?}");
    assert!(started.elapsed() < Duration::from_secs(60));
    assert!(temporaries(dir.path()).is_empty(), "left behind: {:?}", temporaries(dir.path()));
    let end = Checkpoint::load(&ckpt).unwrap();
    assert!(end.position.step > last_step, "the last run trained on from step {last_step}");
    eprintln!(
        "crash consistency: {KILLS} SIGKILLs, {mid_write} during a checkpoint write, {resumed} resumes, \
         newest checkpoint always loaded; final step {}",
        end.position.step
    );
}
