//! Which machinery a training step runs on: the compiled program or dfdx's tape.

use core::fmt;
use core::str::FromStr;

/// How training steps run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// The model compiled into a [`crate::program::TrainProgram`] (CPU only; the fast way).
    #[default]
    Program,
    /// dfdx's tape, op by op: any device, and the oracle the program is tested against.
    Tape,
}

impl Engine {
    /// The name the command line takes.
    pub const fn as_str(self) -> &'static str {
        match self {
            Engine::Program => "program",
            Engine::Tape => "tape",
        }
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Engine {
    type Err = alloc::string::String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "program" => Ok(Engine::Program),
            "tape" => Ok(Engine::Tape),
            _ => Err(alloc::format!("unknown engine `{s}` (known: program, tape)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_list_the_known() {
        for e in [Engine::Program, Engine::Tape] {
            assert_eq!(e.as_str().parse::<Engine>(), Ok(e));
        }
        assert_eq!("jit".parse::<Engine>().unwrap_err(), "unknown engine `jit` (known: program, tape)");
    }
}
