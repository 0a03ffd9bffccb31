//! The handle a front end uses to steer a running trainer: pause, resume, stop after the
//! current batch, save a checkpoint now. Cheap to clone; all methods take `&self`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, Default)]
struct Inner {
    paused: Mutex<bool>,
    wake: Condvar,
    stop: AtomicBool,
    save: AtomicBool,
}

/// Shared between the front end and the trainer thread.
#[derive(Clone, Debug, Default)]
pub struct Control {
    inner: Arc<Inner>,
}

impl Control {
    /// A handle in the running state.
    pub fn new() -> Self {
        Self::default()
    }

    fn paused_flag(&self) -> std::sync::MutexGuard<'_, bool> {
        // A poisoned lock only means a thread panicked while holding it; the flag is still valid.
        self.inner.paused.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pause after the current batch.
    pub fn pause(&self) {
        *self.paused_flag() = true;
    }

    /// Continue a paused run.
    pub fn resume(&self) {
        *self.paused_flag() = false;
        self.inner.wake.notify_all();
    }

    /// Pause if running, resume if paused; returns whether it is now paused.
    pub fn toggle_pause(&self) -> bool {
        let mut p = self.paused_flag();
        *p = !*p;
        self.inner.wake.notify_all();
        *p
    }

    /// Whether a pause is requested.
    pub fn is_paused(&self) -> bool {
        *self.paused_flag()
    }

    /// Stop after the current batch (saving a checkpoint if the run has a path). Also wakes
    /// a paused trainer.
    pub fn request_stop(&self) {
        // Under the lock, so a trainer between its check and its wait cannot miss the wake-up.
        let _guard = self.paused_flag();
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.wake.notify_all();
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.inner.stop.load(Ordering::SeqCst)
    }

    /// Save a checkpoint after the current batch.
    pub fn request_save(&self) {
        self.inner.save.store(true, Ordering::SeqCst);
    }

    /// Trainer side: whether a save was requested (clears the request).
    pub fn take_save_request(&self) -> bool {
        self.inner.save.swap(false, Ordering::SeqCst)
    }

    /// Trainer side: blocks while paused (and no stop is requested); returns whether it
    /// waited.
    pub fn wait_while_paused(&self) -> bool {
        let mut paused = self.paused_flag();
        let mut waited = false;
        while *paused && !self.stop_requested() {
            waited = true;
            paused = self.inner.wake.wait(paused).unwrap_or_else(|e| e.into_inner());
        }
        waited
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_paused_trainer_waits_until_resumed_or_stopped() {
        let c = Control::new();
        assert!(!c.wait_while_paused());
        assert!(c.toggle_pause());
        let trainer = {
            let c = c.clone();
            std::thread::spawn(move || c.wait_while_paused())
        };
        std::thread::sleep(Duration::from_millis(50));
        assert!(!trainer.is_finished());
        c.resume();
        assert!(trainer.join().unwrap());
        c.pause();
        let trainer = {
            let c = c.clone();
            std::thread::spawn(move || c.wait_while_paused())
        };
        std::thread::sleep(Duration::from_millis(20));
        c.request_stop();
        trainer.join().unwrap(); // returns instead of waiting forever
        assert!(c.stop_requested() && c.is_paused());
        c.request_save();
        assert!(c.take_save_request() && !c.take_save_request());
    }
}
