//! End to end in a real terminal: tmux runs the dashboard on a slice of the real data; keys
//! go in with `send-keys`, the screen comes back with `capture-pane`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use resnet_core::train::Checkpoint;

mod common;
use common::temporaries;

/// A tmux server of our own (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn start(name: &str, command: &str) -> Self {
        let socket = format!("resnet-tui-test-{name}-{}", std::process::id());
        let t = Tmux { socket };
        let out = t.run(&["new-session", "-d", "-s", "main", "-x", "120", "-y", "40", command]);
        assert!(
            out.status.success(),
            "tmux failed to start (is tmux installed?): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed (apt-get install tmux)")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn pane_flag(&self, flag: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", "main", &format!("#{{{flag}}}")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Waits until the screen satisfies `ok` (up to `secs`), returning it.
    fn wait_for(&self, what: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}; the screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The shell command that runs the dashboard, writes its exit status to `dir/exit` and its
/// pid to `dir/pid`, then keeps the pane open.
fn dashboard(dir: &Path, checkpoint: &Path) -> String {
    format!(
        "sh -c 'echo $$ > {d}/pid; exec {bin} --preset quick --epochs 6 --limit-train 1024 --limit-test 256 \
         --batch-size 64 --data-dir /usr/share/datasets/fashion-mnist --no-download --checkpoint {ckpt}'; \
         echo $? > {d}/exit; sleep 60",
        d = dir.display(),
        bin = env!("CARGO_BIN_EXE_resnet-tui"),
        ckpt = checkpoint.display(),
    )
}

/// The shell command that runs the dashboard with `flags` on a slice of the real data, as
/// [`dashboard`] does.
fn dashboard_with(dir: &Path, flags: &str) -> String {
    format!(
        "sh -c 'echo $$ > {d}/pid; exec {bin} --limit-train 1024 --limit-test 256 --batch-size 64 \
         --data-dir /usr/share/datasets/fashion-mnist --no-download {flags}'; echo $? > {d}/exit; sleep 60",
        d = dir.display(),
        bin = env!("CARGO_BIN_EXE_resnet-tui"),
    )
}

/// A finished headless run of `epochs` epochs saved at `ckpt`, with the recipe that
/// [`dashboard_with`] gives.
fn saved_run(ckpt: &Path, epochs: usize) -> Checkpoint {
    let out = Command::new(env!("CARGO_BIN_EXE_resnet-tui"))
        .args(["train", "--headless", "--preset", "quick", "--limit-train", "1024", "--limit-test", "256"])
        .args(["--batch-size", "64", "--data-dir", "/usr/share/datasets/fashion-mnist", "--no-download"])
        .args(["--epochs", &epochs.to_string(), "--checkpoint", ckpt.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    Checkpoint::load(ckpt).unwrap()
}

/// A run saved after `epochs` epochs at `dir/run.ckpt` (returned with its bytes), and the
/// dashboard opened on it with `flags`.
fn resuming(dir: &Path, name: &str, epochs: usize, flags: &str) -> (PathBuf, Checkpoint, Vec<u8>, Tmux) {
    let ckpt = dir.join("run.ckpt");
    let saved = saved_run(&ckpt, epochs);
    let bytes = std::fs::read(&ckpt).unwrap();
    let flags = format!("--preset quick --epochs 6 --resume {} {flags}", ckpt.display());
    let tmux = Tmux::start(name, &dashboard_with(dir, &flags));
    tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    (ckpt, saved, bytes, tmux)
}

/// Waits for the run to finish, leaves with `q` and returns the checkpoint it left.
fn finish(tmux: &Tmux, dir: &Path, ckpt: &Path) -> Checkpoint {
    let screen = tmux.wait_for("the end of the run", 180, |s| s.contains(" FINISHED "));
    // The progress bar stays full: `epoch E/E B/B`, the last batch of the last epoch.
    let full = |s: &str| {
        let mut words = s.split_whitespace();
        let (Some(epoch), Some(batch)) = (words.next(), words.next()) else { return false };
        let same = |w: &str| w.split_once('/').is_some_and(|(a, b)| a == b && a.parse::<u32>().is_ok());
        same(epoch) && same(batch)
    };
    assert!(screen.split("epoch ").skip(1).any(full), "{screen}");
    tmux.keys(&["q"]);
    assert_eq!(wait_exit(dir), 0);
    Checkpoint::load(ckpt).unwrap()
}

/// Stops the run with `q`, `Enter` (stop and save) and returns the checkpoint it left.
fn stop_and_save(tmux: &Tmux, dir: &Path, ckpt: &Path) -> Checkpoint {
    tmux.keys(&["q"]);
    tmux.wait_for("the quit prompt", 10, |s| s.contains("Stop training?"));
    tmux.keys(&["Enter"]);
    assert_eq!(wait_exit(dir), 0);
    Checkpoint::load(ckpt).unwrap()
}

fn wait_exit(dir: &Path) -> i32 {
    let path: PathBuf = dir.join("exit");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(code) = std::fs::read_to_string(&path).ok().and_then(|s| s.trim().parse().ok()) {
            return code;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the dashboard did not exit");
}

#[test]
fn keys_drive_a_real_run_and_the_terminal_is_restored() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("run.ckpt");
    let tmux = Tmux::start("keys", &dashboard(dir.path(), &ckpt));

    let setup = tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP ") && s.contains("Settings"));
    assert!(setup.contains("found: /usr/share/datasets/fashion-mnist"), "{setup}");
    assert!(setup.contains(&format!("checkpoint     {}", ckpt.display())), "{setup}");
    assert_eq!(tmux.pane_flag("alternate_on"), "1");

    tmux.keys(&["Tab"]);
    let model = tmux.wait_for("the model table", 10, |s| s.contains("b1                   sequential"));
    assert!(model.contains("conv 7x7/2 pad 3, 1->64"), "{model}");
    tmux.keys(&["PageDown", "PageDown"]);
    tmux.wait_for("the table to scroll", 10, |s| {
        !s.contains("b1                   sequential") && s.contains("residual")
    });
    tmux.keys(&["?"]);
    tmux.wait_for("the help", 10, |s| s.contains("Keys · Esc or ? to close"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the help to close", 10, |s| !s.contains("Keys · Esc or ? to close"));
    tmux.keys(&["BTab"]);
    tmux.wait_for("the setup screen again", 10, |s| s.contains("Settings"));
    tmux.keys(&["Down", "Down", "Right"]);
    tmux.wait_for("epochs raised to 7", 10, |s| s.contains("▶ epochs         7"));
    tmux.keys(&["Down", "Down", "Down", "Down", "Down", "Down"]);
    tmux.wait_for("the engine row", 10, |s| s.contains("▶ engine         program (compiled)"));
    tmux.keys(&["Right"]);
    tmux.wait_for("the tape chosen", 10, |s| s.contains("▶ engine         tape (dfdx, op by op)"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));
    tmux.wait_for("the chosen engine in the log", 10, |s| s.contains("started on cpu, tape engine"));
    tmux.wait_for("the first epoch line", 120, |s| s.contains("epoch 1/7: loss"));

    tmux.keys(&["Space"]);
    tmux.wait_for("the paused state", 30, |s| s.contains(" PAUSED "));
    tmux.keys(&["p"]);
    tmux.wait_for("the run to resume", 30, |s| s.contains(" RUNNING "));
    tmux.keys(&["s"]);
    tmux.wait_for("the requested checkpoint", 30, |s| s.contains("requested)"));

    tmux.keys(&["q"]);
    tmux.wait_for("the quit prompt", 10, |s| {
        s.contains("Stop training?") && s.contains("▶ stop after this batch and save")
    });
    tmux.keys(&["Escape"]);
    tmux.wait_for("the prompt to close", 10, |s| !s.contains("Stop training?"));
    tmux.keys(&["q"]);
    tmux.wait_for("the quit prompt", 10, |s| s.contains("Stop training?"));
    tmux.keys(&["Enter"]);

    assert_eq!(wait_exit(dir.path()), 0);
    let after = tmux.screen();
    assert_eq!(tmux.pane_flag("alternate_on"), "0", "the alternate screen was not left");
    assert_eq!(tmux.pane_flag("cursor_flag"), "1", "the cursor was not shown again");
    assert!(after.contains(&format!("last checkpoint: {}", ckpt.display())), "{after}");
    let saved = Checkpoint::load(&ckpt).unwrap();
    assert!(saved.position.step > 0 && !saved.history.is_empty(), "{:?}", saved.position);
}

/// A dashboard started on a fresh run (checkpoint `dir/NAME.ckpt`) and past its first steps;
/// with its process id.
fn training(name: &str) -> (tempfile::TempDir, PathBuf, Tmux, String) {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join(format!("{name}.ckpt"));
    let tmux = Tmux::start(name, &dashboard(dir.path(), &ckpt));
    tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));
    tmux.wait_for("the default engine in the log", 10, |s| s.contains("started on cpu, program engine"));
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    (dir, ckpt, tmux, pid)
}

#[test]
fn sigterm_stops_saves_and_restores_the_terminal() {
    let (dir, ckpt, tmux, pid) = training("term");
    assert!(Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap().success());
    assert_eq!(wait_exit(dir.path()), 143);
    assert_eq!(tmux.pane_flag("alternate_on"), "0");
    let saved = Checkpoint::load(&ckpt).expect("SIGTERM leaves a loadable checkpoint");
    assert!(saved.position.step > 0);
}

#[test]
fn a_second_sigint_exits_at_once_and_restores_the_terminal() {
    let (dir, _ckpt, tmux, pid) = training("int");
    let int = || assert!(Command::new("kill").args(["-INT", pid.trim()]).status().unwrap().success());
    int();
    int();
    assert_eq!(wait_exit(dir.path()), 130);
    assert_eq!(tmux.pane_flag("alternate_on"), "0", "the alternate screen was not left");
    assert_eq!(tmux.pane_flag("cursor_flag"), "1", "the cursor was not shown again");
}

#[test]
fn a_refused_start_keeps_the_resumed_checkpoint_and_the_next_enter_resumes() {
    let dir = tempfile::tempdir().unwrap();
    // A device this build does not have: refused on the form, nothing written.
    let (ckpt, saved, before, tmux) = resuming(dir.path(), "resume-device", 1, "--device cuda");
    tmux.wait_for("the device row", 10, |s| s.contains("device         cuda"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the refusal", 10, |s| s.contains("this build has no CUDA support"));
    assert_eq!(std::fs::read(&ckpt).unwrap(), before, "the refused start changed the checkpoint");

    // Switch to the CPU: the next Enter resumes the saved run instead of starting anew.
    tmux.keys(&["Down", "Down", "Down", "Down", "Down", "Down", "Down", "Left"]);
    tmux.wait_for("the CPU", 10, |s| s.contains("device         cpu"));
    tmux.keys(&["Enter"]);
    let after = finish(&tmux, dir.path(), &ckpt);
    // The saved epoch, timings included: a new run would have measured its own.
    assert_eq!(after.history[0], saved.history[0], "the first epoch is the saved one");
    assert_eq!((after.position.epoch, after.history.len()), (6, 6));
}

#[test]
fn fewer_epochs_than_completed_are_refused_on_the_form_and_fixing_them_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (ckpt, saved, before, tmux) = resuming(dir.path(), "resume-epochs", 2, "");
    tmux.keys(&["Down", "Down", "1", "Enter"]);
    tmux.wait_for("one epoch", 10, |s| s.contains("▶ epochs         1"));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the refusal", 10, |s| {
        s.contains("already has 2 completed") && s.contains("ask for at least 2")
    });
    assert_eq!(std::fs::read(&ckpt).unwrap(), before, "the refused start changed the checkpoint");

    tmux.keys(&["3", "Enter"]);
    tmux.wait_for("three epochs", 10, |s| s.contains("▶ epochs         3"));
    tmux.keys(&["Enter"]);
    let after = finish(&tmux, dir.path(), &ckpt);
    assert_eq!(after.history[..2], saved.history[..], "the saved epochs are kept");
    assert_eq!((after.config.epochs, after.history.len()), (3, 3));
}

/// A small tmpfs of our own, unmounted on drop: a real full filesystem.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(mib: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(status.success(), "mounting a tmpfs needs root (CI runs as root)");
        SmallDisk { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_save_onto_a_full_disk_pauses_the_run_and_s_tries_again() {
    let dir = tempfile::tempdir().unwrap();
    // A ResNet-18 checkpoint is about 45 MB: 128 MiB with a 100 MiB file in the way is full;
    // without it, there is room for a checkpoint and the temporary file of the next one.
    let disk = SmallDisk::mount(128);
    let filler = disk.path().join("filler");
    std::fs::write(&filler, vec![1u8; 100 << 20]).unwrap();
    let ckpt = disk.path().join("run.ckpt");
    let flags = format!("--preset quick --epochs 6 --checkpoint {}", ckpt.display());
    let tmux = Tmux::start("full-disk", &dashboard_with(dir.path(), &flags));
    tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));

    tmux.keys(&["s"]);
    let screen =
        tmux.wait_for("the failed save", 60, |s| s.contains(" PAUSED ") && s.contains("cannot save:"));
    let status = screen.lines().last().unwrap_or_default();
    assert!(status.contains("cannot save: No space left on device"), "{screen}");
    assert!(status.contains("s try again"), "{screen}");
    assert!(!ckpt.exists() && temporaries(disk.path()).is_empty(), "a partial file was left");

    // `q` offers to quit without saving; Esc keeps the run.
    tmux.keys(&["q"]);
    tmux.wait_for("the quit prompt", 10, |s| s.contains("▶ quit without saving"));
    tmux.keys(&["Escape"]);
    tmux.wait_for("the prompt to close", 10, |s| !s.contains("Stop training?"));

    // Room again: `s` saves and the run goes on.
    std::fs::remove_file(&filler).unwrap();
    tmux.keys(&["s"]);
    tmux.wait_for("the saved checkpoint", 60, |s| s.contains("requested)") && s.contains(" RUNNING "));
    let after = stop_and_save(&tmux, dir.path(), &ckpt);
    assert!(after.position.step > 0);
}

#[test]
fn a_compared_run_that_cannot_be_read_is_one_line_before_the_terminal_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.jsonl");
    let tmux = Tmux::start(
        "compare-missing",
        &dashboard_with(dir.path(), &format!("--compare {}", missing.display())),
    );
    assert_eq!(wait_exit(dir.path()), 2);
    let screen = tmux.screen();
    assert!(screen.contains(&format!("error: cannot read {}: No such file", missing.display())), "{screen}");
    assert_eq!(tmux.pane_flag("alternate_on"), "0");
}

/// The kinds of a metrics file's rows, in order.
fn metrics_kinds(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            serde_json::from_str::<serde_json::Value>(line).unwrap()["kind"].as_str().unwrap().to_string()
        })
        .collect()
}

/// TensorBoard event files in `dir`.
fn event_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("events.out.tfevents."))
        .count()
}

#[test]
fn without_flags_a_run_gets_a_directory_of_its_own_that_resume_continues() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let today = Command::new("date").args(["-u", "+%F"]).output().unwrap().stdout;
    let run = format!("runs/{}-resnet18", String::from_utf8(today).unwrap().trim());
    let in_dir = |flags: &str| format!("cd {}; {}", d.display(), dashboard_with(d, flags));

    // No output flags: the setup screen names the new run directory, the run fills it.
    let tmux = Tmux::start("rundir", &in_dir("--preset quick --epochs 1"));
    let setup = tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    assert!(setup.contains(&format!("run directory  {run}/")), "{setup}");
    assert!(setup.contains("checkpoint     …/checkpoint.ckpt"), "{setup}");
    assert!(!d.join("runs").exists(), "nothing is made before the run starts");
    tmux.keys(&["Enter"]);
    // While it trains: the compact shape table beside the curves, with gradient norms once the
    // first report is in; the Model panel's gradient-flow column.
    // A norm such as `1.5e0` or `8.9e-4` in `line` after `marker`.
    let norm_after = |line: &str, marker: &str| {
        line.split_once(marker).is_some_and(|(_, rest)| {
            rest.split_whitespace().next().is_some_and(|w| w.contains('e') && w.parse::<f64>().is_ok())
        })
    };
    let training = tmux.wait_for("the shape table with gradient norms", 60, |s| {
        s.contains("┌ Model · resnet18") && s.lines().any(|l| norm_after(l, "│b2      64×7×7     148,224"))
    });
    assert!(training.contains("│total") && training.contains("11,178,378"), "{training}");
    tmux.keys(&["BTab"]);
    // Waits for the block's row itself: a capture taken while the panel is being redrawn can
    // show its header before its rows.
    tmux.wait_for("the gradient-flow column", 30, |s| {
        s.contains("gradient norm")
            && s.lines().any(|l| l.contains("residual 64->128, stride 2") && norm_after(l, "%"))
    });
    tmux.keys(&["Tab"]);
    let first = finish(&tmux, d, &d.join(&run).join("checkpoint.ckpt"));
    assert_eq!((first.position.epoch, first.history.len()), (1, 1));
    // 16 steps an epoch, the blocks' gradient flow after steps 1, 11, 21 and 31.
    let epoch = |first: usize, second: usize| {
        let mut rows = vec!["step"; 16];
        rows.insert(second, "blocks");
        rows.insert(first, "blocks");
        rows.push("epoch");
        rows
    };
    let metrics = d.join(&run).join("metrics.jsonl");
    assert_eq!(metrics_kinds(&metrics), epoch(1, 11));
    assert_eq!(event_files(&d.join(&run)), 1);
    assert!(tmux.screen().contains(&format!("run directory: {run}")), "{}", tmux.screen());
    drop(tmux);

    // `--resume` of the directory continues there: the checkpoint, the metrics file (its
    // rows kept), a second event file beside the first; `--compare` draws the first run's
    // curves beside the live ones.
    std::fs::remove_file(d.join("exit")).unwrap();
    std::fs::copy(&metrics, d.join("first-run.jsonl")).unwrap();
    let flags = format!("--epochs 2 --resume {run} --compare {}", d.join("first-run.jsonl").display());
    let tmux = Tmux::start("rundir-resume", &in_dir(&flags));
    let setup = tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    assert!(setup.contains(&format!("run directory  {run}/")), "{setup}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the compared run in the legends", 60, |s| {
        s.contains("│first-run│") && s.contains("│first-run train") && s.contains("│first-run test")
    });
    let second = finish(&tmux, d, &d.join(&run).join("checkpoint.ckpt"));
    assert_eq!((second.position.epoch, second.history.len()), (2, 2));
    assert_eq!(metrics_kinds(&metrics), [epoch(1, 11), epoch(5, 15)].concat());
    assert_eq!(event_files(&d.join(&run)), 2);
    let runs: Vec<_> = std::fs::read_dir(d.join("runs")).unwrap().collect();
    assert_eq!(runs.len(), 1, "no second run directory");
}

#[test]
fn a_headless_run_on_a_terminal_draws_a_progress_bar_in_place_within_ten_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let command = format!(
        "sh -c 'exec {bin} train --headless --preset quick --epochs 1 --limit-train 512 --limit-test 128 \
         --batch-size 16 --data-dir /usr/share/datasets/fashion-mnist --no-download --checkpoint {d}/c.ckpt'; \
         echo $? > {d}/exit; sleep 60",
        bin = env!("CARGO_BIN_EXE_resnet-tui"),
        d = d.display(),
    );
    let tmux = Tmux::start("headless-bar", &command);
    let bars = |s: &str| s.lines().filter(|l| l.starts_with("epoch 1/1 [")).count();
    let screen = tmux.wait_for("the progress bar", 10, |s| bars(s) > 0);
    let bar = screen.lines().find(|l| l.starts_with("epoch 1/1 [")).unwrap();
    assert!(bar.contains("/32 loss ") && bar.contains(" examples/sec, ETA "), "{screen}");
    // Later steps redraw the same line.
    let later = tmux.wait_for("a later step", 60, |s| !s.contains(bar));
    assert!(bars(&later) <= 1, "{later}");
    assert_eq!(wait_exit(d), 0);
    // The bar is erased before the epoch's line takes its place.
    let end = tmux.screen();
    assert_eq!(bars(&end), 0, "{end}");
    assert!(end.lines().any(|l| l.starts_with("epoch 1/1: loss ")), "{end}");
}
