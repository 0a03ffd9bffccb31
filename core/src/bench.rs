//! Throughput of a ResNet-18 training step and of inference, measured the way
//! `scripts/pytorch_resnet.py speed` measures PyTorch's: random data, the seed's
//! model (1 channel, 10 classes), SGD lr 0.05, mean cross-entropy, two warm-up steps.

use std::time::{Duration, Instant};

use dfdx::prelude::*;

use crate::checkpoint::{load_named, named_tensors, Header};
use crate::infer::Compiled;
use crate::models::{Arch, Flavor, ModelName, ResNet18};
use crate::ops::cpu::profile::{self, Phase};
use crate::program::TrainProgram;
use crate::train::loss::{cross_entropy, one_hot};
use crate::train::{Engine, SgdSettings, TorchSgd, TrainDevice};
use crate::Error;

/// What one speed run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Speed {
    /// Images per second of whole training steps (forward, backward, update).
    pub train_img_per_s: f64,
    /// Images per second of inference (batch norm in inference mode; on the CPU the model
    /// compiled, the compilation not timed).
    pub infer_img_per_s: f64,
    /// Seconds of one training step, on average.
    pub step_seconds: f64,
    /// Seconds per training step in each phase of the CPU kernels (when profiled).
    pub phases: Vec<(Phase, f64)>,
    /// What the training steps ran on.
    pub engine: Engine,
}

type Model<D> = crate::prelude::Built<ResNet18<1, 10>, D>;

/// The benchmark's workload: the seed's ResNet-18 on one fixed random batch, on device `D`.
pub struct Workload<D: TrainDevice>
where
    Error: From<D::Err>,
{
    dev: D,
    model: Model<D>,
    sgd: TorchSgd<Model<D>>,
    x: Tensor<(usize, Const<1>, usize, usize), f32, D>,
    y: Tensor<(usize, Const<10>), f32, D>,
    grads: Option<Gradients<f32, D>>,
    /// The compiled model and the batch on the host, once inference is prepared.
    compiled: Option<(Compiled, Vec<f32>)>,
    /// With [`Engine::Program`] on the CPU: the training program, the batch on the host and
    /// its labels.
    program: Option<(TrainProgram, Vec<f32>, Vec<usize>)>,
}

impl<D: TrainDevice> Workload<D>
where
    Error: From<D::Err>,
{
    /// A model (PyTorch's default initialisation, seed 0) and a random `batch`×1×`res`×`res`
    /// batch with labels.
    pub fn new(res: usize, batch: usize, engine: Engine) -> Result<Self, Error> {
        let dev = D::create(0)?;
        let model = ResNet18::<1, 10>::try_build_on_device(&dev)?;
        let x = dev.try_sample_like(&(batch, Const, res, res), rand_distr::Standard)?;
        let labels: Vec<usize> = (0..batch).map(|i| (i * 7) % 10).collect();
        let y = one_hot::<10, _>(&dev, &labels)?;
        let grads = Some(model.try_alloc_grads()?);
        let sgd = TorchSgd::new(SgdSettings { momentum: 0.0, nesterov: false, weight_decay: 0.0 });
        let program = if engine == Engine::Program && D::COMPILED_INFERENCE {
            let mut p = TrainProgram::compile::<ResNet18<1, 10>>([1, res, res])?;
            p.load(&named_tensors(&model)?, "model")?;
            Some((p, x.as_vec(), labels))
        } else {
            None
        };
        Ok(Self { dev, model, sgd, x, y, grads, compiled: None, program })
    }

    /// The engine the training steps run on (the program only on the CPU).
    pub fn engine(&self) -> Engine {
        if self.program.is_some() {
            Engine::Program
        } else {
            Engine::Tape
        }
    }

    /// One SGD step (lr 0.05) on the batch: forward, cross-entropy, backward, update.
    pub fn train_step(&mut self) -> Result<(), Error> {
        if let Some((program, x, labels)) = &mut self.program {
            program.step(x, labels, 0.05, &self.sgd.settings)?;
            return Ok(());
        }
        let g = self.grads.take().map_or_else(|| self.model.try_alloc_grads(), Ok)?;
        let loss = cross_entropy(self.model.try_forward_mut(self.x.clone().traced(g))?, self.y.clone())?;
        let mut g = loss.try_backward()?;
        profile::timed(Phase::Optimizer, || {
            self.sgd.update(&mut self.model, &mut g, 0.05)?;
            self.model.try_zero_grads(&mut g)
        })?;
        self.grads = Some(g);
        self.dev.step_done()
    }

    /// Prepares inference: on a device with
    /// [`TrainDevice::COMPILED_INFERENCE`], the model compiled for the batch's image size
    /// (batch norms folded, weights in the taps' order) and the batch copied to the host.
    pub fn prepare_inference(&mut self) -> Result<(), Error> {
        if let Some((program, _, _)) = &self.program {
            load_named(&mut self.model, &program.tensors(), "program")?;
        }
        if D::COMPILED_INFERENCE {
            let [_, c, h, w] = self.x.shape().concrete();
            let header = Header::weights(ModelName::new(Arch::ResNet18, Flavor::D2l)?, c, 10);
            let net = Compiled::of_model::<ResNet18<1, 10>, D>(&header, &self.model, [c, h, w])?;
            self.compiled = Some((net, self.x.as_vec()));
        }
        Ok(())
    }

    /// One inference pass (batch norm with running statistics) on the batch: compiled once
    /// [`Workload::prepare_inference`] has run on such a device, else dfdx's forward pass.
    pub fn infer(&mut self) -> Result<(), Error> {
        match &self.compiled {
            Some((net, x)) => {
                let _ = net.logits(x, self.x.shape().0)?;
            }
            None => {
                let _ = self.model.try_forward(self.x.clone())?;
            }
        }
        self.dev.step_done()
    }
}

/// Times `steps` training steps and `steps` inference passes on random `batch`×1×`res`×`res`
/// images on device `D` after two warm-up steps; with `profile`, also where the step's time
/// goes (CPU kernels only). `engine` says how training steps run (the program only on the
/// CPU; elsewhere the tape).
pub fn speed<D: TrainDevice>(
    res: usize,
    batch: usize,
    steps: usize,
    profile_phases: bool,
    engine: Engine,
) -> Result<Speed, Error>
where
    Error: From<D::Err>,
{
    let mut w = Workload::<D>::new(res, batch, engine)?;
    for _ in 0..2 {
        w.train_step()?;
    }
    profile::reset();
    profile::set_enabled(profile_phases);
    let start = Instant::now();
    for _ in 0..steps {
        w.train_step()?;
    }
    w.dev.try_synchronize()?;
    let train = start.elapsed();
    profile::set_enabled(false);
    let per_step = |d: Duration| d.as_secs_f64() / steps.max(1) as f64;
    let phases = if profile_phases {
        profile::totals().into_iter().map(|(p, d)| (p, per_step(d))).collect()
    } else {
        Vec::new()
    };
    w.prepare_inference()?;
    w.infer()?;
    let start = Instant::now();
    for _ in 0..steps {
        w.infer()?;
    }
    w.dev.try_synchronize()?;
    let infer = start.elapsed();
    let images = (batch * steps) as f64;
    Ok(Speed {
        train_img_per_s: images / train.as_secs_f64(),
        infer_img_per_s: images / infer.as_secs_f64(),
        step_seconds: per_step(train),
        phases,
        engine: w.engine(),
    })
}
