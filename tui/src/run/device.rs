//! `--device cpu|cuda|auto` resolved against this build and this machine, and running code on
//! the device chosen.

use crate::cli::DeviceChoice;

/// The device a command runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    /// The CPU.
    Cpu,
    /// GPU 0 (builds with the `cuda` feature).
    #[cfg(feature = "cuda")]
    Cuda,
}

/// What the user asked for, made concrete; a one-line reason when it cannot be had.
pub fn resolve(choice: DeviceChoice) -> Result<Resolved, String> {
    match choice {
        DeviceChoice::Cpu => Ok(Resolved::Cpu),
        #[cfg(feature = "cuda")]
        DeviceChoice::Cuda => resnet_core::cuda::gpu_info().map(|_| Resolved::Cuda).map_err(|e| e.to_string()),
        #[cfg(not(feature = "cuda"))]
        DeviceChoice::Cuda => Err(
            "this build has no CUDA support; rebuild resnet-tui with --features cuda (scripts/gpu-smoke.sh shows how)"
                .into(),
        ),
        #[cfg(feature = "cuda")]
        DeviceChoice::Auto if resnet_core::cuda::available() => Ok(Resolved::Cuda),
        DeviceChoice::Auto => Ok(Resolved::Cpu),
    }
}

/// Evaluates `$body` with `$d` the dfdx device type of the [`Resolved`] `$device`.
macro_rules! on_device {
    ($device:expr, $d:ident => $body:expr) => {
        match $device {
            $crate::run::device::Resolved::Cpu => {
                type $d = resnet_core::dfdx::prelude::Cpu;
                $body
            }
            #[cfg(feature = "cuda")]
            $crate::run::device::Resolved::Cuda => {
                type $d = resnet_core::dfdx::prelude::Cuda;
                $body
            }
        }
    };
}
pub(crate) use on_device;
