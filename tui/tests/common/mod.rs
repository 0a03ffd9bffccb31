//! What the binary's tests share: running `resnet-tui`, a headless run in the background
//! whose output is read as it comes, the real data.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// The Debian package's Fashion-MNIST.
pub const REAL_DATA: &str = "/usr/share/datasets/fashion-mnist";

/// `resnet-tui` with `args`, not yet started.
pub fn resnet_tui(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_resnet-tui"));
    c.args(args);
    c
}

/// A headless run's training flags: ResNet-18 at 28×28 on `train` real images, `epochs` epochs.
pub fn small_run(train: usize, epochs: usize) -> Vec<String> {
    [
        "train",
        "--headless",
        "--preset",
        "quick",
        "--limit-test",
        "64",
        "--batch-size",
        "32",
        "--data-dir",
        REAL_DATA,
        "--threads",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(["--limit-train".into(), train.to_string(), "--epochs".into(), epochs.to_string()])
    .collect()
}

/// A running `resnet-tui` whose stdout and stderr lines arrive on one channel.
pub struct Running {
    pub child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Running {
    pub fn start(args: &[String]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_resnet-tui"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start resnet-tui");
        let (tx, lines) = channel();
        let out = child.stdout.take().expect("stdout");
        let err = child.stderr.take().expect("stderr");
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            BufReader::new(out).lines().map_while(Result::ok).for_each(|l| drop(tx.send(l)))
        });
        std::thread::spawn(move || {
            BufReader::new(err).lines().map_while(Result::ok).for_each(|l| drop(tx2.send(l)))
        });
        Running { child, lines, seen: Vec::new() }
    }

    /// Waits (up to 2 minutes) for a line containing `text`.
    pub fn wait_for(&mut self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                let hit = line.contains(text);
                self.seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!("no line with {text:?} in: {:#?}", self.seen);
    }

    /// Sends `signal` (as `kill -SIGNAL`).
    pub fn signal(&self, signal: &str) {
        let status =
            Command::new("kill").args([&format!("-{signal}"), &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{signal}");
    }

    /// Waits for the exit; returns its status code and every line it printed.
    pub fn finish(mut self) -> (Option<i32>, Vec<String>) {
        let status = self.child.wait().expect("wait");
        // The reader threads end with the pipes; collect what is left.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(5)) {
            self.seen.push(line);
        }
        (status.code(), self.seen)
    }
}

/// The temporary files (`.NAME.tmp-*`) in `dir`.
pub fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with('.') && n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}
