//! End to end in a real terminal: tmux runs the dashboard on a slice of the real data; keys
//! go in with `send-keys`, the screen comes back with `capture-pane`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use resnet_core::checkpoint::Checkpoint;

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
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));
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

#[test]
fn sigterm_stops_saves_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("term.ckpt");
    let tmux = Tmux::start("term", &dashboard(dir.path(), &ckpt));
    tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    assert!(Command::new("kill").args(["-TERM", pid.trim()]).status().unwrap().success());
    assert_eq!(wait_exit(dir.path()), 143);
    assert_eq!(tmux.pane_flag("alternate_on"), "0");
    let saved = Checkpoint::load(&ckpt).expect("SIGTERM leaves a loadable checkpoint");
    assert!(saved.position.step > 0);
}

#[test]
fn a_second_sigint_exits_at_once_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("int.ckpt");
    let tmux = Tmux::start("int", &dashboard(dir.path(), &ckpt));
    tmux.wait_for("the setup screen", 30, |s| s.contains(" SETUP "));
    tmux.keys(&["Enter"]);
    tmux.wait_for("the first loss points", 60, |s| s.contains("Loss per batch · last"));
    let pid = std::fs::read_to_string(dir.path().join("pid")).unwrap();
    let int = || assert!(Command::new("kill").args(["-INT", pid.trim()]).status().unwrap().success());
    int();
    int();
    assert_eq!(wait_exit(dir.path()), 130);
    assert_eq!(tmux.pane_flag("alternate_on"), "0", "the alternate screen was not left");
    assert_eq!(tmux.pane_flag("cursor_flag"), "1", "the cursor was not shown again");
}
