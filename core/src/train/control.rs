//! The handle a front end uses to steer a running trainer: pause, resume, stop after the
//! current batch, save a checkpoint now. Cheap to clone; all methods take `&self`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

#[derive(Debug, Default)]
struct Flags {
    /// Whether a pause is requested.
    paused: bool,
    /// Counts the front end's requests (resume, save, stop), so a waiting trainer can tell
    /// a new one from an old one.
    asks: u64,
}

#[derive(Debug, Default)]
struct Inner {
    flags: Mutex<Flags>,
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

    fn flags(&self) -> std::sync::MutexGuard<'_, Flags> {
        // A poisoned lock only means a thread panicked while holding it; the flags are still valid.
        self.inner.flags.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the flags under the lock and wakes a waiting trainer, so a trainer between its
    /// check and its wait cannot miss the change.
    fn ask(&self, change: impl FnOnce(&mut Flags)) {
        let mut flags = self.flags();
        change(&mut flags);
        flags.asks += 1;
        self.inner.wake.notify_all();
    }

    /// Pause after the current batch.
    pub fn pause(&self) {
        self.flags().paused = true;
    }

    /// Continue a paused run.
    pub fn resume(&self) {
        self.ask(|f| f.paused = false);
    }

    /// Pause if running, resume if paused; returns whether it is now paused.
    pub fn toggle_pause(&self) -> bool {
        let mut paused = false;
        self.ask(|f| {
            f.paused = !f.paused;
            paused = f.paused;
        });
        paused
    }

    /// Whether a pause is requested.
    pub fn is_paused(&self) -> bool {
        self.flags().paused
    }

    /// Stop after the current batch (saving a checkpoint if the run has a path). Also wakes
    /// a paused trainer.
    pub fn request_stop(&self) {
        self.ask(|_| self.inner.stop.store(true, Ordering::SeqCst));
    }

    /// Whether a stop was requested.
    pub fn stop_requested(&self) -> bool {
        self.inner.stop.load(Ordering::SeqCst)
    }

    /// Save a checkpoint after the current batch (at once when paused).
    pub fn request_save(&self) {
        self.ask(|_| self.inner.save.store(true, Ordering::SeqCst));
    }

    /// Trainer side: whether a save was requested (clears the request).
    pub fn take_save_request(&self) -> bool {
        self.inner.save.swap(false, Ordering::SeqCst)
    }

    /// Trainer side: blocks while paused, until resumed, stopped or asked to save; returns
    /// whether it waited.
    pub fn wait_while_paused(&self) -> bool {
        let mut flags = self.flags();
        let mut waited = false;
        while flags.paused && !self.stop_requested() && !self.inner.save.load(Ordering::SeqCst) {
            waited = true;
            flags = self.inner.wake.wait(flags).unwrap_or_else(|e| e.into_inner());
        }
        waited
    }

    /// Trainer side, when a checkpoint could not be written: pauses, and returns the point
    /// from which [`Control::wait_to_retry_save`] counts the front end's answers. Call it
    /// before telling the front end, so that no answer is missed.
    pub fn pause_after_failed_save(&self) -> AnswersSince {
        let mut flags = self.flags();
        flags.paused = true;
        AnswersSince(flags.asks)
    }

    /// Trainer side, after [`Control::pause_after_failed_save`]: blocks until the front end
    /// resumes, asks to save or asks to stop. Returns whether to try the save again (a save
    /// or a stop was asked); `false` when the run was resumed without one.
    pub fn wait_to_retry_save(&self, since: AnswersSince) -> bool {
        let mut flags = self.flags();
        while flags.paused && flags.asks == since.0 {
            flags = self.inner.wake.wait(flags).unwrap_or_else(|e| e.into_inner());
        }
        let saving = self.take_save_request();
        saving || flags.paused
    }
}

/// Where the front end's requests stood when a save failed.
#[derive(Clone, Copy, Debug)]
pub struct AnswersSince(u64);

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread::JoinHandle;
    use std::time::Duration;

    /// A trainer thread blocked in `wait` on `c`.
    fn waiting<T: Send + 'static>(c: &Control, wait: fn(&Control) -> T) -> JoinHandle<T> {
        let c = c.clone();
        std::thread::spawn(move || wait(&c))
    }

    #[test]
    fn a_paused_trainer_waits_until_resumed_or_stopped() {
        let c = Control::new();
        assert!(!c.wait_while_paused());
        assert!(c.toggle_pause());
        let trainer = waiting(&c, Control::wait_while_paused);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!trainer.is_finished());
        c.resume();
        assert!(trainer.join().unwrap());
        c.pause();
        let trainer = waiting(&c, Control::wait_while_paused);
        std::thread::sleep(Duration::from_millis(20));
        c.request_stop();
        trainer.join().unwrap(); // returns instead of waiting forever
        assert!(c.stop_requested() && c.is_paused());
        c.request_save();
        assert!(c.take_save_request() && !c.take_save_request());
    }

    #[test]
    fn a_save_request_wakes_a_paused_trainer() {
        let c = Control::new();
        c.pause();
        let trainer = waiting(&c, Control::wait_while_paused);
        std::thread::sleep(Duration::from_millis(20));
        c.request_save();
        assert!(trainer.join().unwrap());
        assert!(c.is_paused() && c.take_save_request());
    }

    #[test]
    fn after_a_failed_save_the_trainer_waits_for_a_new_request() {
        let waiter = |c: &Control| {
            let since = c.pause_after_failed_save();
            let c = c.clone();
            std::thread::spawn(move || c.wait_to_retry_save(since))
        };
        // An earlier stop request does not count: only one made while waiting.
        let c = Control::new();
        c.request_stop();
        let trainer = waiter(&c);
        std::thread::sleep(Duration::from_millis(50));
        assert!(!trainer.is_finished() && c.is_paused());
        c.request_stop();
        assert!(trainer.join().unwrap(), "a new stop request retries the save");
        // `s` retries.
        let c = Control::new();
        let trainer = waiter(&c);
        std::thread::sleep(Duration::from_millis(20));
        c.request_save();
        assert!(trainer.join().unwrap());
        assert!(!c.take_save_request(), "the request is used up");
        // Resuming goes on without saving.
        let c = Control::new();
        let trainer = waiter(&c);
        std::thread::sleep(Duration::from_millis(20));
        c.resume();
        assert!(!trainer.join().unwrap());
        assert!(!c.is_paused());
    }
}
