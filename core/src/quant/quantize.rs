//! Post-training quantization (TFLite's scheme): activations int8 per tensor, asymmetric,
//! their ranges from calibration; weights int8 per output channel, symmetric (zero point
//! 0, ±127), batch norms already folded in; biases int32 in the accumulator's scale; each
//! requantization a fixed-point multiplier and shift.

use alloc::vec::Vec;

use super::calibrate::Ranges;
use super::fixed_point::quantize_multiplier;
use super::format::{int_bytes, Affine, Conv, Header, Int8Model, Ints, Io, Linear, Rescale, Step, Writer};
use super::graph::{FloatStep, Graph};
use super::memory_plan::{plan, MemoryPlan};
use crate::checkpoint::Floats;
use crate::Error;

/// `real = scale · (q − zero_point)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    /// Real value of one step.
    pub scale: f64,
    /// The `q` of real 0.
    pub zero_point: i32,
}

impl Params {
    /// Int8 parameters covering `[lo, hi]` (widened to include 0), asymmetric.
    pub fn covering(lo: f32, hi: f32) -> Self {
        let (lo, hi) = (f64::from(lo.min(0.0)), f64::from(hi.max(0.0)));
        let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
        let zero_point = (-128.0 - libm::round(lo / scale)).clamp(-128.0, 127.0) as i32;
        Params { scale, zero_point }
    }
}

/// Every tensor's parameters: calibrated, but a pooling's output keeps its input's.
fn tensor_params(graph: &Graph<'_>, ranges: &Ranges) -> Vec<Params> {
    let mut params: Vec<Params> = ranges.0.iter().map(|&(lo, hi)| Params::covering(lo, hi)).collect();
    for step in &graph.steps {
        if let FloatStep::MaxPool { src, dst, .. } | FloatStep::AvgPool { src, dst } = step {
            params[*dst] = params[*src];
        }
    }
    params
}

/// Weights of each output channel quantized symmetrically: (values, per-channel scales).
fn per_channel(weights: &[f64], channels: usize) -> (Vec<i8>, Vec<f64>) {
    let per = weights.len() / channels.max(1);
    let mut q = Vec::with_capacity(weights.len());
    let mut scales = Vec::with_capacity(channels);
    for row in weights.chunks(per.max(1)) {
        let max = row.iter().fold(0.0f64, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        q.extend(row.iter().map(|w| libm::round(w / scale).clamp(-127.0, 127.0) as i8));
        scales.push(scale);
    }
    (q, scales)
}

/// A fixed-point factor, or why there is none.
fn multiplier(factor: f64) -> Result<(i32, i32), Error> {
    quantize_multiplier(factor).ok_or_else(|| Error::Quantize {
        reason: alloc::format!("a requantization factor of {factor:e} does not fit 32-bit fixed point"),
    })
}

/// `value` rounded into an `i32`, or why it does not fit.
fn int(value: f64, what: &str) -> Result<i32, Error> {
    let r = libm::round(value);
    if r.is_finite() && r.abs() < f64::from(i32::MAX) {
        Ok(r as i32)
    } else {
        Err(Error::Quantize { reason: alloc::format!("{what} {value:e} does not fit 32 bits") })
    }
}

/// One step's owned int8 values, before the file is written.
struct Owned {
    weights: Vec<u8>,
    ints: [Vec<u8>; 3],
    scale: Vec<u8>,
}

/// `graph` quantized with the calibrated `ranges` into an int8 model file for `model`.
pub fn quantize(graph: &Graph<'_>, ranges: &Ranges, model: &str) -> Result<Vec<u8>, Error> {
    let params = tensor_params(graph, ranges);
    let MemoryPlan { offsets, arena_len } = plan(graph);
    let [h, w, c] = graph.dims[0];
    let limits = graph.dims.iter().flatten().all(|&d| d <= usize::from(u16::MAX))
        && graph.steps.len() <= usize::from(u16::MAX)
        && graph.classes <= usize::from(u16::MAX)
        && u32::try_from(arena_len).is_ok();
    if !limits {
        return Err(Error::Quantize { reason: "a dimension over 65,535 or an arena over 4 GiB".into() });
    }
    let header = Header {
        model,
        input: [c, h, w],
        classes: graph.classes,
        input_scale: params[0].scale as f32,
        input_zero_point: params[0].zero_point,
        input_offset: offsets[0],
        arena_len,
        steps: graph.steps.len(),
    };
    let mut owned = Vec::with_capacity(graph.steps.len());
    for step in &graph.steps {
        owned.push(owned_values(graph, step, &params)?);
    }
    let mut writer = Writer::new(&header);
    for (step, values) in graph.steps.iter().zip(&owned) {
        writer.step(&int8_step(graph, step, values, &params, &offsets)?);
    }
    let bytes = writer.finish();
    // What the quantizer writes, the no_std reader must accept.
    Int8Model::parse(&bytes).map_err(|error| Error::Int8Model { path: "quantized model".into(), error })?;
    Ok(bytes)
}

/// The weights (reordered to (O, K, K, C)) and per-channel integers of `step`.
fn owned_values(graph: &Graph<'_>, step: &FloatStep<'_>, params: &[Params]) -> Result<Owned, Error> {
    let none =
        || Owned { weights: Vec::new(), ints: [Vec::new(), Vec::new(), Vec::new()], scale: Vec::new() };
    Ok(match step {
        FloatStep::Conv { src, dst, weight, window, epilogue, .. } => {
            let (c, o, k) = (graph.dims[*src][2], graph.dims[*dst][2], window[0]);
            let folded = fold_scale(*weight, epilogue.scale.as_deref(), o);
            let (q, scales) = per_channel(&ohwi(&folded, o, c, k), o);
            let (sx, sy) = (params[*src].scale, params[*dst].scale);
            let (mut bias, mut mult, mut shift) = (Vec::new(), Vec::new(), Vec::new());
            for (ch, &sw) in scales.iter().enumerate() {
                let b = f64::from(epilogue.shift.get(ch).copied().unwrap_or(0.0));
                bias.push(int(b / (sx * sw), "a convolution bias")?);
                let (m, s) = multiplier(sx * sw / sy)?;
                mult.push(m);
                shift.push(s);
            }
            Owned {
                weights: q.iter().map(|&v| v as u8).collect(),
                ints: [int_bytes(&bias), int_bytes(&mult), int_bytes(&shift)],
                scale: Vec::new(),
            }
        }
        FloatStep::Affine { src, dst, epilogue } => {
            let (sx, sy) = (params[*src].scale, params[*dst].scale);
            let (mut mult, mut shift, mut offset) = (Vec::new(), Vec::new(), Vec::new());
            for (ch, &b) in epilogue.shift.iter().enumerate() {
                let a = epilogue.scale.as_ref().and_then(|s| s.get(ch)).copied().unwrap_or(1.0);
                let (m, s) = multiplier(f64::from(a) * sx / sy)?;
                mult.push(m);
                shift.push(s);
                offset.push(int(f64::from(b) / sy, "a batch-norm shift")?);
            }
            Owned { ints: [int_bytes(&mult), int_bytes(&shift), int_bytes(&offset)], ..none() }
        }
        FloatStep::Linear { src, weight, bias } => {
            let classes = bias.len();
            let w: Vec<f64> = weight.iter().map(f64::from).collect();
            let (q, scales) = per_channel(&w, classes);
            let sx = params[*src].scale;
            let mut b = Vec::new();
            for (o, &sw) in scales.iter().enumerate() {
                b.push(int(f64::from(bias.at(o)) / (sx * sw), "a linear bias")?);
            }
            Owned {
                weights: q.iter().map(|&v| v as u8).collect(),
                ints: [int_bytes(&b), Vec::new(), Vec::new()],
                scale: scales.iter().flat_map(|&sw| ((sx * sw) as f32).to_le_bytes()).collect(),
            }
        }
        FloatStep::MaxPool { .. } | FloatStep::AvgPool { .. } => none(),
    })
}

/// The int8 step of `step`, its values borrowed from `values`.
fn int8_step<'v>(
    graph: &Graph<'_>,
    step: &FloatStep<'_>,
    values: &'v Owned,
    params: &[Params],
    offsets: &[usize],
) -> Result<Step<'v>, Error> {
    let src = step.reads().next().unwrap_or(0);
    let dst = step.writes().unwrap_or(src);
    let io = Io { src: offsets[src], dst: offsets[dst], input: graph.dims[src] };
    let ints = |i: usize| Ints::from_le_bytes(&values.ints[i]);
    let floor = |relu: bool| if relu { params[dst].zero_point } else { -128 };
    Ok(match step {
        FloatStep::Conv { window, epilogue, residual, relu_after, .. } => {
            let residual = match residual {
                Some(r) => {
                    let (multiplier, shift) = multiplier(params[*r].scale / params[dst].scale)?;
                    Some(Rescale { zero_point: params[*r].zero_point, multiplier, shift })
                }
                None => None,
            };
            Step::Conv(Conv {
                io,
                out_channels: graph.dims[dst][2],
                window: *window,
                input_zero_point: params[src].zero_point,
                output_zero_point: params[dst].zero_point,
                output_min: floor(epilogue.relu || *relu_after),
                residual,
                weights: &values.weights,
                bias: ints(0),
                multiplier: ints(1),
                shift: ints(2),
            })
        }
        FloatStep::Affine { epilogue, .. } => Step::Affine(Affine {
            io,
            input_zero_point: params[src].zero_point,
            output_zero_point: params[dst].zero_point,
            output_min: floor(epilogue.relu),
            multiplier: ints(0),
            shift: ints(1),
            offset: ints(2),
        }),
        FloatStep::MaxPool { window, .. } => Step::MaxPool(io, *window),
        FloatStep::AvgPool { .. } => Step::AvgPool(io),
        FloatStep::Linear { .. } => Step::Linear(Linear {
            io,
            input_zero_point: params[src].zero_point,
            weights: &values.weights,
            bias: ints(0),
            scale: &values.scale,
        }),
    })
}

/// (O, C, K, K) weights times each output channel's folded batch-norm factor.
fn fold_scale(weight: Floats<'_>, scale: Option<&[f32]>, out_channels: usize) -> Vec<f64> {
    let per = weight.len() / out_channels.max(1);
    weight
        .iter()
        .enumerate()
        .map(|(i, w)| {
            f64::from(w) * f64::from(scale.and_then(|s| s.get(i / per.max(1))).copied().unwrap_or(1.0))
        })
        .collect()
}

/// (O, C, K, K) → (O, K, K, C).
fn ohwi(weights: &[f64], o: usize, c: usize, k: usize) -> Vec<f64> {
    let mut out = alloc::vec![0.0; weights.len()];
    for oi in 0..o {
        for ci in 0..c {
            for t in 0..k * k {
                out[(oi * k * k + t) * c + ci] = weights[(oi * c + ci) * k * k + t];
            }
        }
    }
    out
}
