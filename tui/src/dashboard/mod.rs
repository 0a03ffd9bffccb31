//! The training dashboard (ratatui + crossterm): its state ([`app`]), the setup form, the
//! key table, the input events, the event loop that drives a training thread, and the
//! drawing of each panel ([`ui`]).

pub mod app;
pub mod charts;
pub mod event;
mod event_loop;
pub mod keys;
pub mod phase;
pub mod setup_form;
pub mod ui;

pub use event_loop::run;
