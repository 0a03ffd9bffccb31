//! `train --headless`: d2l's plain lines on stdout and a progress bar or line on stderr.

mod lines;
mod progress;

pub use lines::run;
