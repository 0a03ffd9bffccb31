//! Where the dashboard stands: the run's phase and the panel shown, which the key table
//! and the drawing read.

/// Where the run stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Editing the settings.
    Setup,
    /// Loading the data and building the model.
    Starting,
    /// Training.
    Running,
    /// Paused between batches.
    Paused,
    /// Finishing the current batch before saving and stopping.
    Stopping,
    /// Done (all epochs, or stopped on request).
    Finished,
    /// The run failed.
    Failed,
}

impl Phase {
    /// The status bar's word for it.
    pub fn label(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Starting => "starting",
            Phase::Running => "running",
            Phase::Paused => "paused",
            Phase::Stopping => "stopping",
            Phase::Finished => "finished",
            Phase::Failed => "failed",
        }
    }

    /// Whether a trainer is alive.
    pub fn training(self) -> bool {
        matches!(self, Phase::Starting | Phase::Running | Phase::Paused | Phase::Stopping)
    }
}

/// The panels `tab` cycles through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    /// The settings form.
    Setup,
    /// The layer table.
    Model,
    /// Charts, progress and log.
    Training,
}

/// The panels, in tab order.
pub const PANELS: [Panel; 3] = [Panel::Setup, Panel::Model, Panel::Training];
