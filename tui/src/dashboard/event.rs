//! The dashboard's events, from every source, on one channel: terminal input (read on its
//! own thread) and the trainer's events (sent by the trainer thread itself).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ratatui::crossterm::event::{self, Event, KeyEvent, KeyEventKind};
use resnet_core::train::TrainEvent;

/// Something the event loop reacts to.
#[derive(Debug)]
pub enum AppEvent {
    /// A key press (releases and repeats are dropped).
    Key(KeyEvent),
    /// The terminal changed size.
    Resize,
    /// The trainer reported something (its last event is `Finished` or `Failed`).
    Train(Box<TrainEvent>),
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
