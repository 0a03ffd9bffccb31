//! d2l's `train_ch6`: Xavier initialisation, plain SGD on mean cross-entropy, batch norm in
//! training mode for steps and inference mode for testing, d2l's metrics — plus checkpoints,
//! resuming, a control handle and events for front ends.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::prelude::*;

use super::loss::{cross_entropy, one_hot};
use super::metrics::correct;
use super::sgd::{Sgd, SgdSettings};
use super::{Control, EpochMetrics, EpochTotals, SaveReason, TrainConfig, TrainDevice, TrainEvent};
use crate::checkpoint::{load_named, named_tensors, remove_stale_temps, Checkpoint, Position};
use crate::data::{batch_count, batch_ranges, epoch_order, make_batch, FashionMnist, Resizer, Split};
use crate::models::with_model;
use crate::nn::init::xavier_uniform;
use crate::summary::{Dims, ModelShape};
use crate::Error;

/// Fashion-MNIST images have one channel.
pub const IN_CHANNELS: usize = 1;
/// Fashion-MNIST has ten classes.
pub const CLASSES: usize = 10;

/// A run to do: configuration, data, and where checkpoints go.
#[derive(Clone, Debug)]
pub struct Session {
    /// The configuration (when resuming, the checkpoint's, possibly with more epochs).
    pub config: TrainConfig,
    /// The dataset.
    pub data: Arc<FashionMnist>,
    /// Where the data came from, for the front end.
    pub data_source: String,
    /// Where to write checkpoints (each epoch, on request and on stop); `None` for none.
    pub checkpoint: Option<PathBuf>,
    /// How many checkpoint files to keep: the newest at `checkpoint`, older ones at
    /// `checkpoint.1`, `checkpoint.2`, ... (at least 1).
    pub keep: usize,
    /// Also save every this many steps (`None`: only at epoch ends, on request and on stop).
    pub save_every: Option<u64>,
    /// A checkpoint to continue from, and its path.
    pub resume: Option<(Checkpoint, PathBuf)>,
    /// The handle the front end steers the run with.
    pub control: Control,
}

/// How a run ended (when it did not fail).
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Every completed epoch.
    pub history: Vec<EpochMetrics>,
    /// Whether it stopped early on request.
    pub stopped: bool,
}

/// Trains the session's model on `D`, sending events to `sink`. A failure is also sent as
/// [`TrainEvent::Failed`] before it is returned.
pub fn train<D: TrainDevice>(session: &Session, sink: &mut dyn FnMut(TrainEvent)) -> Result<Outcome, Error>
where
    Error: From<D::Err>,
{
    let result = session.config.validate().and_then(|()| {
        with_model!(session.config.model, M => Trainer::<M<IN_CHANNELS, CLASSES>, D>::new(session)?.run(sink))
    });
    if let Err(e) = &result {
        sink(TrainEvent::Failed { message: e.to_string() });
    }
    result
}

type Images<D, T> = Tensor<(usize, Const<IN_CHANNELS>, usize, usize), f32, D, T>;
type Logits<D, T> = Tensor<(usize, Const<CLASSES>), f32, D, T>;

/// A model type the trainer can train on `D`: built, forward in both modes, visited.
pub trait Trainable<D: TrainDevice>: BuildOnDevice<D, f32, Built = Self::Model> + ModelShape
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
    M: BuildOnDevice<D, f32> + ModelShape,
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
    dev: D,
    model: M::Model,
    sgd: Sgd<M::Model>,
    grads: Option<Gradients<f32, D>>,
    resizer: Resizer,
    position: Position,
    history: Vec<EpochMetrics>,
}

/// The first `limit` examples of `split` (all without a limit).
fn used(split: &Split, limit: Option<usize>) -> usize {
    limit.map_or(split.len(), |l| l.min(split.len()))
}

impl<'s, M: Trainable<D>, D: TrainDevice> Trainer<'s, M, D>
where
    Error: From<D::Err>,
{
    fn new(s: &'s Session) -> Result<Self, Error> {
        let c = &s.config;
        let dev = D::create(c.seed)?;
        let mut model = M::try_build_on_device(&dev)?;
        xavier_uniform(&mut model)?;
        let settings =
            SgdSettings { momentum: c.momentum, nesterov: c.nesterov, weight_decay: c.weight_decay };
        let mut sgd = Sgd::new(settings);
        let (mut position, mut history) = (Position::default(), Vec::new());
        if let Some((ckpt, path)) = &s.resume {
            ckpt.expect_model(c.model, IN_CHANNELS, CLASSES, path)?;
            let source = path.display().to_string();
            load_named(&mut model, &ckpt.params, &source)?;
            if let Some(velocity) = &ckpt.velocity {
                let mut v = model.clone();
                load_named(&mut v, velocity, &source)?;
                sgd.velocity = Some(v);
            }
            (position, history) = (ckpt.position, ckpt.history.clone());
        }
        let grads = Some(model.try_alloc_grads()?);
        Ok(Self { s, dev, model, sgd, grads, resizer: Resizer::new(28, c.resize), position, history })
    }

    fn run(mut self, sink: &mut dyn FnMut(TrainEvent)) -> Result<Outcome, Error> {
        let (c, data) = (&self.s.config, &self.s.data);
        let (n_train, n_test) = (used(&data.train, c.limit_train), used(&data.test, c.limit_test));
        let batches = batch_count(n_train, c.batch_size);
        if let Some(path) = &self.s.checkpoint {
            let removed = remove_stale_temps(path);
            if removed > 0 {
                sink(TrainEvent::Warning(format!(
                    "removed {removed} unfinished checkpoint write(s) of a killed run next to {}",
                    path.display()
                )));
            }
        }
        sink(TrainEvent::Started {
            config: c.clone(),
            table: M::table(Dims::of([1, IN_CHANNELS, c.resize, c.resize]))?,
            data: self.s.data_source.clone(),
            train_examples: n_train,
            test_examples: n_test,
            batches_per_epoch: batches,
            start_epoch: self.position.epoch,
            start_batch: self.position.batch,
            device: self.dev.label(),
            resumed_from: self.s.resume.as_ref().map(|(_, p)| p.display().to_string()),
        });
        let report_device = |dev: &D, sink: &mut dyn FnMut(TrainEvent)| {
            if let Some(info) = dev.info() {
                sink(TrainEvent::Device(info));
            }
        };
        report_device(&self.dev, sink);
        while self.position.epoch < c.epochs {
            let epoch = self.position.epoch;
            let lr = c.lr_at(epoch);
            let order = epoch_order(n_train, c.seed, epoch);
            let started = Instant::now();
            for (b, range) in batch_ranges(n_train, c.batch_size).enumerate().skip(self.position.batch) {
                let batch = make_batch(&data.train, &order[range], &self.resizer);
                let clock = Instant::now();
                let (loss, right) = self.step(batch.images, &batch.labels, batch.side, lr)?;
                let size = batch.labels.len();
                self.position.totals.add(loss, right, size, clock.elapsed().as_secs_f64());
                self.position.batch = b + 1;
                self.position.step += 1;
                if !loss.is_finite() {
                    return Err(Error::Diverged {
                        epoch: epoch + 1,
                        step: self.position.step as usize,
                        loss: loss as f32,
                    });
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
                if self.position.step % 50 == 0 {
                    report_device(&self.dev, sink);
                }
                if self.s.control.take_save_request() {
                    self.save(SaveReason::Requested, sink)?;
                } else if self.s.save_every.is_some_and(|n| n > 0 && self.position.step % n == 0) {
                    self.save(SaveReason::Periodic, sink)?;
                }
                if self.s.control.is_paused() && !self.s.control.stop_requested() {
                    sink(TrainEvent::Paused);
                    self.s.control.wait_while_paused();
                    sink(TrainEvent::Resumed);
                }
                if self.s.control.stop_requested() {
                    self.save(SaveReason::Stop, sink)?;
                    sink(TrainEvent::Finished { history: self.history.clone(), stopped: true });
                    return Ok(Outcome { history: self.history, stopped: true });
                }
            }
            sink(TrainEvent::Evaluating { epoch: epoch + 1 });
            let test_acc = self.evaluate(&data.test, n_test)?;
            let t = self.position.totals;
            let metrics = EpochMetrics {
                epoch: epoch + 1,
                loss: t.loss(),
                train_acc: t.accuracy(),
                test_acc,
                examples_per_sec: t.examples_per_sec(),
                seconds: started.elapsed().as_secs_f64(),
                lr,
            };
            self.history.push(metrics.clone());
            sink(TrainEvent::Epoch(metrics));
            self.position = Position {
                epoch: epoch + 1,
                batch: 0,
                step: self.position.step,
                totals: EpochTotals::default(),
            };
            self.save(SaveReason::EpochEnd, sink)?;
        }
        sink(TrainEvent::Finished { history: self.history.clone(), stopped: false });
        Ok(Outcome { history: self.history, stopped: false })
    }

    /// One SGD step on a batch: returns its mean loss and correct predictions.
    fn step(
        &mut self,
        images: Vec<f32>,
        labels: &[usize],
        side: usize,
        lr: f64,
    ) -> Result<(f64, usize), Error> {
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
        self.sgd.update(&mut self.model, &grads, lr)?;
        self.model.try_zero_grads(&mut grads)?;
        self.grads = Some(grads);
        self.dev.step_done()?;
        Ok((value as f64, right))
    }

    /// Test accuracy over the first `n` examples of `split`, batch norm in inference mode.
    fn evaluate(&self, split: &Split, n: usize) -> Result<f64, Error> {
        let order: Vec<usize> = (0..n).collect();
        let mut right = 0;
        for range in batch_ranges(n, self.s.config.batch_size) {
            let batch = make_batch(split, &order[range], &self.resizer);
            let x: Images<D, NoneTape> = self
                .dev
                .try_tensor_from_vec(batch.images, (batch.labels.len(), Const, batch.side, batch.side))?;
            let logits = self.model.try_forward(x)?;
            right += correct(&logits.as_vec(), &batch.labels, CLASSES);
            self.dev.step_done()?;
        }
        Ok(right as f64 / n.max(1) as f64)
    }

    /// Writes a checkpoint of the current state, if the session has a path.
    fn save(&self, reason: SaveReason, sink: &mut dyn FnMut(TrainEvent)) -> Result<(), Error> {
        let Some(path) = &self.s.checkpoint else {
            if reason == SaveReason::Requested {
                sink(TrainEvent::Warning(
                    "no checkpoint path set: nothing saved (use --checkpoint FILE)".into(),
                ));
            }
            return Ok(());
        };
        let params = named_tensors(&self.model)?;
        // Never replace a good checkpoint with a diverged one.
        if params.iter().any(|t| t.data.iter().any(|v| !v.is_finite())) {
            // At an epoch's end the position already counts that epoch as done.
            let p = &self.position;
            let epoch = if p.batch == 0 { p.epoch.max(1) } else { p.epoch + 1 };
            return Err(Error::NonFiniteWeights { epoch, step: p.step });
        }
        let ckpt = Checkpoint {
            header: Checkpoint::header(self.s.config.model, IN_CHANNELS, CLASSES),
            config: self.s.config.clone(),
            position: self.position,
            params,
            velocity: self.sgd.velocity.as_ref().map(named_tensors).transpose()?,
            history: self.history.clone(),
        };
        ckpt.save_keeping(path, self.s.keep.max(1))?;
        sink(TrainEvent::CheckpointSaved {
            path: path.display().to_string(),
            step: self.position.step,
            reason,
        });
        Ok(())
    }
}
