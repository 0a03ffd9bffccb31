//! Running the trainer on its own thread: events over a channel, a panic reported as a
//! failure instead of a hang.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{channel, Receiver};
use std::thread::JoinHandle;

use super::{train, Control, Outcome, Session, TrainDevice, TrainEvent};
use crate::Error;

/// A trainer running on its own thread.
#[derive(Debug)]
pub struct TrainerHandle {
    /// Every event, in order; the channel closes when the run ends. A run that fails or
    /// panics ends with [`TrainEvent::Failed`].
    pub events: Receiver<TrainEvent>,
    /// Steers the run.
    pub control: Control,
    /// The thread; joins to the run's result.
    pub thread: JoinHandle<Result<Outcome, Error>>,
}

/// Starts `session` on a new thread on device `D`.
pub fn spawn<D: TrainDevice>(session: Session) -> TrainerHandle
where
    Error: From<D::Err>,
{
    let control = session.control.clone();
    spawn_with::<D>(control, move || Ok(session))
}

/// Starts a run on a new thread whose session `prepare` builds there first (e.g. loading the
/// data, which takes a while); the session is steered by `control` (its own is replaced).
pub fn spawn_with<D: TrainDevice>(
    control: Control,
    prepare: impl FnOnce() -> Result<Session, Error> + Send + 'static,
) -> TrainerHandle
where
    Error: From<D::Err>,
{
    let (tx, events) = channel();
    let steer = control.clone();
    let thread = std::thread::spawn(move || {
        let mut sink = |e: TrainEvent| {
            let _ = tx.send(e);
        };
        let run = || match prepare() {
            // `train` reports its own failures; a failed `prepare` is reported here.
            Err(e) => {
                sink(TrainEvent::Failed { message: e.to_string() });
                Err(e)
            }
            Ok(session) => train::<D>(&Session { control: steer, ..session }, &mut sink),
        };
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok(result) => result,
            Err(panic) => {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                let message = format!("the trainer crashed: {message}");
                let _ = tx.send(TrainEvent::Failed { message: message.clone() });
                Err(Error::Device { reason: message })
            }
        }
    });
    TrainerHandle { events, control, thread }
}
