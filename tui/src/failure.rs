//! Why a command failed, and so its exit status: every subcommand's error type.

/// A command's failure.
#[derive(Debug, PartialEq)]
pub enum Failure {
    /// Bad arguments, data or files before training began: exit 2.
    Usage(String),
    /// Training itself failed: exit 1.
    Training(String),
}

impl Failure {
    /// Bad input, from any error that says what is wrong in one line.
    pub fn usage(e: impl ToString) -> Self {
        Failure::Usage(e.to_string())
    }

    /// The one-line reason.
    pub fn message(self) -> String {
        match self {
            Failure::Usage(m) | Failure::Training(m) => m,
        }
    }
}
