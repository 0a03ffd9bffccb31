//! d2l's `train_ch6`: Xavier initialisation, plain SGD on mean cross-entropy, batch norm in
//! training mode for steps and inference mode for testing, d2l's metrics — plus checkpoints,
//! resuming, a control handle and events for front ends.

use std::sync::Arc;
use std::time::Instant;

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

use super::block_stats::GradientFlow;
use super::loss::{cross_entropy, one_hot};
use super::sgd::{SgdSettings, TorchSgd};
use super::{
    correct, BlockReport, BlockStats, Checkpoint, Control, Engine, EpochMetrics, EpochTotals, OnSaveError,
    Position, RunPlan, SaveReason, TrainDevice, TrainEvent,
};
use crate::checkpoint::{load_named, named_tensors, remove_stale_temps, Header};
pub use crate::data::idx::CLASSES;
use crate::data::idx::SIDE;
use crate::data::{batch_count, batch_ranges, epoch_order, make_batch, FashionMnist, Resizer, Split};
use crate::infer::{Compiled, Infer};
use crate::models::with_model;
use crate::nn::init::xavier_uniform;
use crate::program::{Lower, TrainProgram};
use crate::summary::ModelShape;
use crate::Error;

/// Fashion-MNIST images have one channel.
pub const IN_CHANNELS: usize = 1;

/// A run to do: the checked plan and the data.
#[derive(Clone, Debug)]
pub struct Session {
    /// What to train, how, and where checkpoints go.
    pub plan: RunPlan,
    /// The dataset.
    pub data: Arc<FashionMnist>,
    /// Where the data came from, for the front end.
    pub data_source: String,
}

/// How a run ended (when it did not fail).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// Whether it stopped early on request.
    pub stopped: bool,
}

/// Trains the session's model on `D`, steered by `control`, sending events to `sink`. A
/// failure is also sent as [`TrainEvent::Failed`] before it is returned. On glibc, fixes
/// malloc's mmap threshold for the process, so that a long run's memory stays flat.
pub fn train<D: TrainDevice>(
    session: &Session,
    control: &Control,
    sink: &mut dyn FnMut(TrainEvent),
) -> Result<Outcome, Error>
where
    Error: From<D::Err>,
{
    super::allocator::keep_memory_steady();
    let config = &session.plan.config;
    let result = config.validate().and_then(|()| {
        with_model!(config.model, M => Trainer::<M<IN_CHANNELS, CLASSES>, D>::new(session, control)?.run(sink))
    });
    if let Err(e) = &result {
        sink(TrainEvent::Failed { message: e.to_string() });
    }
    result
}

type Images<D, T> = Tensor<(usize, Const<IN_CHANNELS>, usize, usize), f32, D, T>;
type Logits<D, T> = Tensor<(usize, Const<CLASSES>), f32, D, T>;

/// A model type the trainer can train on `D`: built, forward in both modes, visited,
/// compiled for evaluation and for training.
pub trait Trainable<D: TrainDevice>:
    BuildOnDevice<D, f32, Built = Self::Model> + ModelShape + Infer + Lower
where
    Error: From<D::Err>,
{
    /// The built model.
    type Model: TensorCollection<f32, D>
        + Clone
        + ModuleMut<Images<D, OwnedTape<f32, D>>, Output = Logits<D, OwnedTape<f32, D>>, Error = D::Err>
        + Module<Images<D, NoneTape>, Output = Logits<D, NoneTape>, Error = D::Err>;
}

impl<D: TrainDevice, M> Trainable<D> for M
where
    Error: From<D::Err>,
    M: BuildOnDevice<D, f32> + ModelShape + Infer + Lower,
    M::Built: TensorCollection<f32, D>
        + Clone
        + ModuleMut<Images<D, OwnedTape<f32, D>>, Output = Logits<D, OwnedTape<f32, D>>, Error = D::Err>
        + Module<Images<D, NoneTape>, Output = Logits<D, NoneTape>, Error = D::Err>,
{
    type Model = M::Built;
}

struct Trainer<'s, M: Trainable<D>, D: TrainDevice>
where
    Error: From<D::Err>,
{
    s: &'s Session,
    control: &'s Control,
    dev: D,
    model: M::Model,
    sgd: TorchSgd<M::Model>,
    grads: Option<Gradients<f32, D>>,
    /// The blocks' gradient flow, measured on report steps; its buffers live as long as the run.
    flow: GradientFlow,
    resizer: Resizer,
    position: Position,
    history: Vec<EpochMetrics>,
    /// The batch size of the last step: the device's buffer cache holds buffers of its sizes.
    last_batch: usize,
    /// The model compiled for training ([`Engine::Program`] on the CPU): it owns the
    /// weights, momentum and running statistics while the run goes; `model` is brought up
    /// to date from it where a dfdx model is needed (test passes, checkpoints).
    program: Option<TrainProgram>,
}

/// The first `limit` examples of `split` (all without a limit).
fn used(split: &Split, limit: Option<usize>) -> usize {
    limit.map_or(split.len(), |l| l.min(split.len()))
}

/// What the loop does after a step.
enum Flow {
    /// Go on training.
    Continue,
    /// Stop now (a stop was requested; the checkpoint is written).
    Stop,
}

impl<'s, M: Trainable<D>, D: TrainDevice> Trainer<'s, M, D>
where
    Error: From<D::Err>,
{
    fn new(s: &'s Session, control: &'s Control) -> Result<Self, Error> {
        let c = &s.plan.config;
        let dev = D::create(c.seed)?;
        let mut model = M::try_build_on_device(&dev)?;
        xavier_uniform(&mut model)?;
        let settings =
            SgdSettings { momentum: c.momentum, nesterov: c.nesterov, weight_decay: c.weight_decay };
        let mut sgd = TorchSgd::new(settings);
        let (mut position, mut history) = (Position::default(), Vec::new());
        if let Some(resume) = &s.plan.resume {
            let (ckpt, source) = (&resume.checkpoint, resume.path.display().to_string());
            ckpt.header.expect_model(c.model, IN_CHANNELS, CLASSES, &source)?;
            load_named(&mut model, &ckpt.params, &source)?;
            if let Some(velocity) = &ckpt.velocity {
                let mut v = model.clone();
                load_named(&mut v, velocity, &source)?;
                sgd.velocity = Some(v);
            }
            (position, history) = (ckpt.position, ckpt.history.clone());
        }
        let resizer = Resizer::new(SIDE, c.resize);
        let program = if s.plan.engine == Engine::Program && D::TRAINS_PROGRAM {
            let side = resizer.output_side();
            let mut program = TrainProgram::compile::<M>([IN_CHANNELS, side, side])?;
            program.load(&named_tensors(&model)?, "the model")?;
            if let Some(v) = &sgd.velocity {
                program.load_velocity(&named_tensors(v)?, "the momentum")?;
            }
            Some(program)
        } else {
            None
        };
        let grads = if program.is_some() { None } else { Some(model.try_alloc_grads()?) };
        let flow = GradientFlow::default();
        Ok(Self {
            s,
            control,
            dev,
            model,
            sgd,
            grads,
            flow,
            resizer,
            position,
            history,
            last_batch: 0,
            program,
        })
    }

    /// What the steps run on.
    fn engine(&self) -> Engine {
        if self.program.is_some() {
            Engine::Program
        } else {
            Engine::Tape
        }
    }

    /// Brings the dfdx model up to date with the program's weights and statistics.
    fn sync_model(&mut self) -> Result<(), Error> {
        if let Some(program) = &self.program {
            load_named(&mut self.model, &program.tensors(), "the training program")?;
        }
        Ok(())
    }

    /// Training examples per epoch and test examples.
    fn sizes(&self) -> (usize, usize) {
        let (c, data) = (&self.s.plan.config, &self.s.data);
        (used(&data.train, c.limit_train), used(&data.test, c.limit_test))
    }

    /// The whole run: epochs of steps, each followed by a test pass and a checkpoint.
    fn run(mut self, sink: &mut dyn FnMut(TrainEvent)) -> Result<Outcome, Error> {
        self.start(sink);
        while self.position.epoch < self.s.plan.config.epochs {
            let started = Instant::now();
            if let Flow::Stop = self.train_epoch(sink)? {
                sink(TrainEvent::Finished { history: self.history.clone(), stopped: true });
                return Ok(Outcome { history: self.history, stopped: true });
            }
            self.finish_epoch(started, sink)?;
        }
        sink(TrainEvent::Finished { history: self.history.clone(), stopped: false });
        Ok(Outcome { history: self.history, stopped: false })
    }

    /// Clears what killed runs left next to the checkpoint and announces the run.
    fn start(&self, sink: &mut dyn FnMut(TrainEvent)) {
        let plan = &self.s.plan;
        if let Some(path) = &plan.saving.checkpoint {
            let removed = remove_stale_temps(path);
            if removed > 0 {
                sink(TrainEvent::Warning(format!(
                    "removed {removed} unfinished checkpoint write(s) of a killed run next to {}",
                    path.display()
                )));
            }
        }
        let (n_train, n_test) = self.sizes();
        sink(TrainEvent::Started {
            config: plan.config.clone(),
            data: self.s.data_source.clone(),
            train_examples: n_train,
            test_examples: n_test,
            batches_per_epoch: batch_count(n_train, plan.config.batch_size),
            start_epoch: self.position.epoch,
            start_batch: self.position.batch,
            device: self.dev.label(),
            engine: self.engine(),
            resumed_from: plan.resume.as_ref().map(|r| r.path.display().to_string()),
        });
        if plan.engine == Engine::Program && self.program.is_none() {
            sink(TrainEvent::Warning(format!(
                "the training program runs on the CPU only: training on {} through dfdx's tape",
                self.dev.label()
            )));
        }
        self.report_device(sink);
    }

    fn report_device(&self, sink: &mut dyn FnMut(TrainEvent)) {
        if let Some(info) = self.dev.info() {
            sink(TrainEvent::Device(info));
        }
    }

    /// The current epoch's remaining steps, each followed by [`Trainer::after_step`].
    fn train_epoch(&mut self, sink: &mut dyn FnMut(TrainEvent)) -> Result<Flow, Error> {
        let c = &self.s.plan.config;
        let (epoch, (n_train, _)) = (self.position.epoch, self.sizes());
        let (lr, batches) = (c.lr_at(epoch), batch_count(n_train, c.batch_size));
        let order = epoch_order(n_train, c.seed, epoch);
        for (b, range) in batch_ranges(n_train, c.batch_size).enumerate().skip(self.position.batch) {
            let batch = make_batch(&self.s.data.train, &order[range], &self.resizer);
            let clock = Instant::now();
            let every = self.s.plan.block_stats_every;
            let report = every > 0 && self.position.step.is_multiple_of(every);
            let (loss, right, blocks) = self.step(batch.images, &batch.labels, batch.side, lr, report)?;
            let size = batch.labels.len();
            self.position.totals.add(loss, right, size, clock.elapsed().as_secs_f64());
            self.position.batch = b + 1;
            self.position.step += 1;
            if !loss.is_finite() {
                let step = self.position.step as usize;
                return Err(Error::Diverged { epoch: epoch + 1, step, loss: loss as f32 });
            }
            let t = self.position.totals;
            sink(TrainEvent::Batch {
                epoch: epoch + 1,
                batch: b + 1,
                batches,
                step: self.position.step,
                loss,
                train_acc: t.accuracy(),
                examples_per_sec: t.examples_per_sec(),
                lr,
                size,
            });
            if let Some(blocks) = blocks {
                let step = self.position.step;
                sink(TrainEvent::Blocks(BlockReport {
                    epoch: epoch + 1,
                    batch: b + 1,
                    batches,
                    step,
                    blocks,
                }));
            }
            if let Flow::Stop = self.after_step(sink)? {
                return Ok(Flow::Stop);
            }
        }
        Ok(Flow::Continue)
    }

    /// The policy between steps: the GPU's report, saves asked for or due, pausing, stopping.
    fn after_step(&mut self, sink: &mut dyn FnMut(TrainEvent)) -> Result<Flow, Error> {
        let step = self.position.step;
        if step.is_multiple_of(50) {
            self.report_device(sink);
        }
        if self.control.take_save_request() {
            self.save(SaveReason::Requested, sink)?;
        } else if self.s.plan.saving.save_every.is_some_and(|n| step.is_multiple_of(n)) {
            self.save(SaveReason::Periodic, sink)?;
        }
        if self.control.is_paused() && !self.control.stop_requested() {
            sink(TrainEvent::Paused);
            loop {
                // `s` while paused saves at once, even when `resume` follows it closely.
                if self.control.take_save_request() {
                    self.save(SaveReason::Requested, sink)?;
                }
                if !self.control.is_paused() || self.control.stop_requested() {
                    break;
                }
                self.control.wait_while_paused();
            }
            sink(TrainEvent::Resumed);
        }
        if self.control.stop_requested() {
            self.save(SaveReason::Stop, sink)?;
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    }

    /// The test pass, the epoch's metrics, and its checkpoint.
    fn finish_epoch(&mut self, started: Instant, sink: &mut dyn FnMut(TrainEvent)) -> Result<(), Error> {
        let epoch = self.position.epoch;
        sink(TrainEvent::Evaluating { epoch: epoch + 1 });
        self.sync_model()?;
        let test_acc = self.evaluate(&self.s.data.test, self.sizes().1)?;
        let t = self.position.totals;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            loss: t.loss(),
            train_acc: t.accuracy(),
            test_acc,
            examples_per_sec: t.examples_per_sec(),
            seconds: started.elapsed().as_secs_f64(),
            lr: self.s.plan.config.lr_at(epoch),
        };
        self.history.push(metrics.clone());
        sink(TrainEvent::Epoch(metrics));
        self.position =
            Position { epoch: epoch + 1, batch: 0, step: self.position.step, totals: EpochTotals::default() };
        self.save(SaveReason::EpochEnd, sink)
    }

    /// One SGD step on a batch: returns its mean loss, correct predictions and, when asked
    /// to `report`, each block's gradient flow.
    fn step(
        &mut self,
        images: Vec<f32>,
        labels: &[usize],
        side: usize,
        lr: f64,
        report: bool,
    ) -> Result<(f64, usize, Option<Vec<BlockStats>>), Error> {
        if let Some(program) = &mut self.program {
            let loss = program.forward_backward(&images, labels)?;
            let right = correct(program.logits(), labels, CLASSES);
            if report {
                self.flow.before_program_step(program);
            }
            program.update(lr, &self.sgd.settings);
            let blocks = report.then(|| self.flow.after_program_step(program));
            return Ok((loss, right, blocks));
        }
        if labels.len() != self.last_batch {
            // The cached buffers fit the last batch's size, not this one's (an epoch's last):
            // released, so that two sets of buffers are not kept.
            self.dev.try_empty_cache()?;
            self.last_batch = labels.len();
        }
        let x: Images<D, NoneTape> =
            self.dev.try_tensor_from_vec(images, (labels.len(), Const, side, side))?;
        let y = one_hot::<CLASSES, D>(&self.dev, labels)?;
        let grads = match self.grads.take() {
            Some(g) => g,
            None => self.model.try_alloc_grads()?,
        };
        let logits = self.model.try_forward_mut(x.traced(grads))?;
        let right = correct(&logits.retaped::<NoneTape>().as_vec(), labels, CLASSES);
        let loss = cross_entropy(logits, y)?;
        let value = loss.retaped::<NoneTape>().as_vec().first().copied().unwrap_or(f32::NAN);
        let mut grads = loss.try_backward()?;
        if report {
            self.flow.before_step(&self.model, &grads)?;
        }
        self.sgd.update(&mut self.model, &mut grads, lr)?;
        let blocks = report.then(|| self.flow.after_step(&self.model)).transpose()?;
        self.model.try_zero_grads(&mut grads)?;
        self.grads = Some(grads);
        self.dev.step_done()?;
        Ok((value as f64, right, blocks))
    }

    /// Test accuracy over the first `n` examples of `split`, batch norm in inference mode
    /// (on the CPU, the model compiled for the images' size).
    fn evaluate(&self, split: &Split, n: usize) -> Result<f64, Error> {
        let order: Vec<usize> = (0..n).collect();
        let side = self.resizer.output_side();
        let compiled = if D::COMPILED_INFERENCE {
            let header = Header::weights(self.s.plan.config.model, IN_CHANNELS, CLASSES);
            Some(Compiled::of_model::<M, D>(&header, &self.model, [IN_CHANNELS, side, side])?)
        } else {
            None
        };
        let mut right = 0;
        for range in batch_ranges(n, self.s.plan.config.batch_size) {
            let batch = make_batch(split, &order[range], &self.resizer);
            let count = batch.labels.len();
            let logits = match &compiled {
                Some(net) => net.logits(&batch.images, count)?,
                None => {
                    let x: Images<D, NoneTape> =
                        self.dev.try_tensor_from_vec(batch.images, (count, Const, side, side))?;
                    self.model.try_forward(x)?.as_vec()
                }
            };
            right += correct(&logits, &batch.labels, CLASSES);
            self.dev.step_done()?;
        }
        Ok(right as f64 / n.max(1) as f64)
    }

    /// Writes a checkpoint of the current state, if the plan has a path. When the write
    /// fails and the plan says [`OnSaveError::Pause`], reports it and waits for the front end:
    /// a new save or stop request tries again, resuming goes on without the checkpoint.
    fn save(&mut self, reason: SaveReason, sink: &mut dyn FnMut(TrainEvent)) -> Result<(), Error> {
        let Some(path) = &self.s.plan.saving.checkpoint else {
            if reason == SaveReason::Requested {
                sink(TrainEvent::Warning(
                    "no checkpoint path set: nothing saved (use --checkpoint FILE)".into(),
                ));
            }
            return Ok(());
        };
        self.sync_model()?;
        let mut failed = false;
        loop {
            match self.checkpoint().and_then(|c| c.save_keeping(path, self.s.plan.saving.keep)) {
                Ok(()) => break,
                Err(e @ Error::Io { .. }) if self.s.plan.saving.on_save_error == OnSaveError::Pause => {
                    let since = self.control.pause_after_failed_save();
                    sink(TrainEvent::SaveFailed { reason, message: e.to_string() });
                    failed = true;
                    if !self.control.wait_to_retry_save(since) {
                        sink(TrainEvent::Resumed);
                        return Ok(());
                    }
                }
                Err(e) => return Err(e),
            }
        }
        sink(TrainEvent::CheckpointSaved {
            path: path.display().to_string(),
            step: self.position.step,
            reason,
        });
        if failed {
            self.control.resume();
            sink(TrainEvent::Resumed);
        }
        Ok(())
    }

    /// The current state as a checkpoint; an error instead when the weights diverged (a good
    /// checkpoint is never replaced by a diverged one).
    fn checkpoint(&self) -> Result<Checkpoint, Error> {
        let params = named_tensors(&self.model)?;
        if params.iter().any(|t| t.data.iter().any(|v| !v.is_finite())) {
            // At an epoch's end the position already counts that epoch as done.
            let p = &self.position;
            let epoch = if p.batch == 0 { p.epoch.max(1) } else { p.epoch + 1 };
            return Err(Error::NonFiniteWeights { epoch, step: p.step });
        }
        Ok(Checkpoint {
            header: Checkpoint::header(self.s.plan.config.model, IN_CHANNELS, CLASSES),
            config: self.s.plan.config.clone(),
            position: self.position,
            params,
            velocity: match &self.program {
                Some(program) => program.velocity(),
                None => self.sgd.velocity.as_ref().map(named_tensors).transpose()?,
            },
            history: self.history.clone(),
        })
    }
}
