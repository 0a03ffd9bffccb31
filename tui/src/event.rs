//! The dashboard's events, from every source, on one channel: terminal input (read on its
//! own thread), trainer events (forwarded from the trainer's channel), and the trainer's end.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use resnet_core::train::{TrainEvent, TrainerHandle};

/// Something the event loop reacts to.
#[derive(Debug)]
pub enum AppEvent {
    /// A key press (releases and repeats are dropped).
    Key(KeyEvent),
    /// The terminal changed size.
    Resize,
    /// The trainer reported something.
    Train(Box<TrainEvent>),
    /// The trainer thread ended; `Some` if it ended with an error it did not report.
    TrainerDone(Option<String>),
}

/// Reads terminal input until `stop` is set, sending key presses and resizes.
pub fn spawn_input(tx: Sender<AppEvent>, stop: Arc<AtomicBool>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            // Poll with a timeout so the thread notices `stop`; no busy loop.
            if !event::poll(Duration::from_millis(100)).unwrap_or(false) {
                continue;
            }
            let sent = match event::read() {
                Ok(Event::Key(key)) if key.kind == KeyEventKind::Press => tx.send(AppEvent::Key(key)),
                Ok(Event::Resize(..)) => tx.send(AppEvent::Resize),
                Ok(_) => Ok(()),
                Err(_) => break,
            };
            if sent.is_err() {
                break;
            }
        }
    })
}

/// Forwards a trainer's events to the loop, then reports its end.
pub fn forward_trainer(handle: TrainerHandle, tx: Sender<AppEvent>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut failed = false;
        for e in handle.events.iter() {
            failed |= matches!(e, TrainEvent::Failed { .. });
            if tx.send(AppEvent::Train(Box::new(e))).is_err() {
                return;
            }
        }
        let unreported = match handle.thread.join() {
            Ok(Err(e)) if !failed => Some(e.to_string()),
            Err(_) => Some("the trainer thread crashed".into()),
            _ => None,
        };
        let _ = tx.send(AppEvent::TrainerDone(unreported));
    })
}
