//! The training configuration: d2l's `train_ch6` recipe by default, and the options users
//! expect around it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::models::ModelName;
use crate::Error;

/// How the learning rate changes over epochs (PyTorch's schedulers, stepped once per epoch).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The same rate every epoch (d2l).
    Constant,
    /// `StepLR`: multiply by `gamma` every `every` epochs.
    Step {
        /// Epochs between decays.
        every: usize,
        /// Factor applied at each decay.
        gamma: f64,
    },
    /// `CosineAnnealingLR` with `T_max` = the run's epochs and `eta_min` = 0.
    Cosine,
}

impl LrSchedule {
    /// The rate for 0-based `epoch` of `epochs`, starting from `base`.
    pub fn lr(&self, base: f64, epoch: usize, epochs: usize) -> f64 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Step { every, gamma } => base * libm::pow(gamma, (epoch / every.max(1)) as f64),
            LrSchedule::Cosine => {
                base * (1.0 + libm::cos(core::f64::consts::PI * epoch as f64 / epochs.max(1) as f64)) / 2.0
            }
        }
    }
}

impl fmt::Display for LrSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LrSchedule::Constant => f.write_str("constant"),
            LrSchedule::Step { every, gamma } => write!(f, "step:{every}:{gamma}"),
            LrSchedule::Cosine => f.write_str("cosine"),
        }
    }
}

impl FromStr for LrSchedule {
    type Err = Error;

    /// `constant`, `cosine`, or `step:EVERY:GAMMA` (e.g. `step:5:0.1`).
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::Config {
            field: "learning-rate schedule",
            reason: format!("`{s}` is not constant, cosine or step:EVERY:GAMMA (e.g. step:5:0.1)"),
        };
        match s.trim().split(':').collect::<Vec<_>>().as_slice() {
            ["constant"] => Ok(LrSchedule::Constant),
            ["cosine"] => Ok(LrSchedule::Cosine),
            ["step", every, gamma] => {
                let every: usize = every.parse().map_err(|_| bad())?;
                let gamma: f64 = gamma.parse().map_err(|_| bad())?;
                if every == 0 || !(gamma > 0.0 && gamma.is_finite()) {
                    return Err(bad());
                }
                Ok(LrSchedule::Step { every, gamma })
            }
            _ => Err(bad()),
        }
    }
}

/// Everything that defines a training run. `Default` is the chapter's:
/// `lr, num_epochs, batch_size = 0.05, 10, 256` at `resize=96`, plain SGD.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Which model to train.
    pub model: ModelName,
    /// Epochs to train (in total, counting any resumed from).
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// Examples per step; the last batch of an epoch may be smaller.
    pub batch_size: usize,
    /// Image side after resizing (28 = no resize).
    pub resize: usize,
    /// Seed of the weight initialisation and of every epoch's shuffle.
    pub seed: u64,
    /// SGD momentum (0 = none, as d2l).
    pub momentum: f64,
    /// Nesterov momentum (needs `momentum > 0`).
    pub nesterov: bool,
    /// L2 weight decay (0 = none, as d2l).
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Use only the first N training examples (quick runs).
    pub limit_train: Option<usize>,
    /// Use only the first N test examples (quick runs).
    pub limit_test: Option<usize>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::d2l()
    }
}

impl TrainConfig {
    /// The chapter's run: 96×96, lr 0.05, 10 epochs, batch 256.
    pub fn d2l() -> Self {
        Self {
            model: ModelName::RESNET18,
            epochs: 10,
            lr: 0.05,
            batch_size: 256,
            resize: 96,
            seed: 0,
            momentum: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            schedule: LrSchedule::Constant,
            limit_train: None,
            limit_test: None,
        }
    }

    /// A quick CPU run: the same recipe at 28×28 for 2 epochs.
    pub fn quick() -> Self {
        Self { epochs: 2, resize: 28, ..Self::d2l() }
    }

    /// Checks every setting; the first bad one is the error.
    pub fn validate(&self) -> Result<(), Error> {
        let fail = |field, reason: &str| Err(Error::Config { field, reason: reason.into() });
        if self.epochs == 0 {
            return fail("epochs", "must be at least 1");
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return fail("learning rate", "must be a positive number");
        }
        if self.batch_size == 0 {
            return fail("batch size", "must be at least 1");
        }
        if !(1..=1024).contains(&self.resize) {
            return fail("resize", "must be between 1 and 1024 pixels");
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return fail("momentum", "must be in [0, 1)");
        }
        if self.nesterov && self.momentum == 0.0 {
            return fail("nesterov", "needs a momentum above 0");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay.is_finite()) {
            return fail("weight decay", "must be 0 or a positive number");
        }
        if self.limit_train == Some(0) || self.limit_test == Some(0) {
            return fail("limit", "a subset needs at least 1 example");
        }
        Ok(())
    }

    /// Every setting but the epochs, by name, with its value in words: what a resumed run
    /// must keep.
    pub fn recipe(&self) -> [(&'static str, String); 11] {
        let limit = |l: Option<usize>| l.map_or_else(|| "all".into(), |n| n.to_string());
        [
            ("model", self.model.to_string()),
            ("lr", self.lr.to_string()),
            ("batch size", self.batch_size.to_string()),
            ("resize", self.resize.to_string()),
            ("seed", self.seed.to_string()),
            ("momentum", self.momentum.to_string()),
            ("nesterov", self.nesterov.to_string()),
            ("weight decay", self.weight_decay.to_string()),
            ("schedule", self.schedule.to_string()),
            ("limit train", limit(self.limit_train)),
            ("limit test", limit(self.limit_test)),
        ]
    }

    /// The learning rate of 0-based `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.schedule.lr(self.lr, epoch, self.epochs)
    }
}

/// SGD hyper-parameters (the learning rate is given at each step, for schedules).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdSettings {
    /// Momentum factor; 0 disables the buffers.
    pub momentum: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 penalty added to each gradient as `weight_decay · w`.
    pub weight_decay: f64,
}

impl TrainConfig {
    /// The recipe's SGD settings.
    pub fn sgd(&self) -> SgdSettings {
        SgdSettings { momentum: self.momentum, nesterov: self.nesterov, weight_decay: self.weight_decay }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_chapters_recipe() {
        let c = TrainConfig::default();
        assert_eq!((c.lr, c.epochs, c.batch_size, c.resize), (0.05, 10, 256, 96));
        assert_eq!((c.momentum, c.weight_decay, c.schedule), (0.0, 0.0, LrSchedule::Constant));
        assert!(c.validate().is_ok());
    }

    #[test]
    fn schedules_follow_pytorch() {
        let step: LrSchedule = "step:2:0.5".parse().unwrap();
        assert_eq!([0, 1, 2, 5].map(|e| step.lr(0.1, e, 10)), [0.1, 0.1, 0.05, 0.025]);
        let cos = LrSchedule::Cosine;
        assert_eq!(cos.lr(0.1, 0, 10), 0.1);
        assert!((cos.lr(0.1, 5, 10) - 0.05).abs() < 1e-12);
        assert_eq!("cosine".parse::<LrSchedule>().unwrap().to_string(), "cosine");
        let err = "step:0:1".parse::<LrSchedule>().unwrap_err().to_string();
        assert_eq!(err, "invalid learning-rate schedule: `step:0:1` is not constant, cosine or step:EVERY:GAMMA (e.g. step:5:0.1)");
    }

    #[test]
    fn bad_settings_are_named() {
        let bad = |c: TrainConfig| c.validate().unwrap_err().to_string();
        assert_eq!(
            bad(TrainConfig { batch_size: 0, ..TrainConfig::d2l() }),
            "invalid batch size: must be at least 1"
        );
        assert_eq!(
            bad(TrainConfig { lr: -1.0, ..TrainConfig::d2l() }),
            "invalid learning rate: must be a positive number"
        );
        assert_eq!(
            bad(TrainConfig { momentum: 1.5, ..TrainConfig::d2l() }),
            "invalid momentum: must be in [0, 1)"
        );
    }
}
