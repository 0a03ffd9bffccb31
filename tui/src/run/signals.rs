//! SIGINT and SIGTERM, caught as flags and read by the front ends between events: the first
//! asks the run to stop after its batch and save, a second SIGINT ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How a signal asks a front end to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT or Ctrl-C.
    Int,
    /// SIGTERM.
    Term,
}

/// The process's SIGINT and SIGTERM, caught from [`Signals::register`] on.
pub struct Signals([(Arc<AtomicBool>, Interrupt); 2]);

impl Signals {
    /// Catches SIGINT and SIGTERM (instead of dying on them).
    pub fn register() -> Self {
        Signals(
            [(signal_hook::consts::SIGINT, Interrupt::Int), (signal_hook::consts::SIGTERM, Interrupt::Term)]
                .map(|(sig, kind)| {
                    let flag = Arc::new(AtomicBool::new(false));
                    let _ = signal_hook::flag::register(sig, flag.clone());
                    (flag, kind)
                }),
        )
    }

    /// The signals that arrived since the last call (each kind at most once).
    pub fn take(&self) -> impl Iterator<Item = Interrupt> + '_ {
        self.0.iter().filter(|(flag, _)| flag.swap(false, Ordering::SeqCst)).map(|(_, kind)| *kind)
    }
}

/// The exit status of a process ended by `kind`: 128 + the signal number, as shells report it.
pub fn exit_status(kind: Interrupt) -> u8 {
    match kind {
        Interrupt::Int => 130,
        Interrupt::Term => 143,
    }
}
