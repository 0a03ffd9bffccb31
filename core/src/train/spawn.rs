//! Running the trainer on its own thread: its events go to the front end's sink, and a
//! panic is reported as a failure instead of a hang.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread::JoinHandle;

use super::{train, Control, Outcome, Session, TrainDevice, TrainEvent};
use crate::Error;

/// Starts a run on a new thread on device `D`: `prepare` builds its session there first
/// (e.g. loading the data, which takes a while), `control` steers it, and every event goes
/// to `sink` — the last one is always [`TrainEvent::Finished`] or [`TrainEvent::Failed`],
/// also when `prepare` fails or the trainer panics. The thread joins to the run's result.
pub fn spawn<D: TrainDevice>(
    control: Control,
    prepare: impl FnOnce() -> Result<Session, Error> + Send + 'static,
    mut sink: impl FnMut(TrainEvent) + Send + 'static,
) -> JoinHandle<Result<Outcome, Error>>
where
    Error: From<D::Err>,
{
    std::thread::spawn(move || {
        let run = || match prepare() {
            // `train` reports its own failures; a failed `prepare` is reported here.
            Err(e) => {
                sink(TrainEvent::Failed { message: e.to_string() });
                Err(e)
            }
            Ok(session) => train::<D>(&session, &control, &mut sink),
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
                sink(TrainEvent::Failed { message: message.clone() });
                Err(Error::Device { reason: message })
            }
        }
    })
}
