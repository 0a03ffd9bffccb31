//! `resnet-tui shapes`: the layer shape table as text or JSON.

use std::fmt::Write;

use resnet_core::models::ModelName;
use resnet_core::summary::{self, Row};
use serde::Serialize;

use crate::cli::ShapesArgs;
use crate::thousands::thousands;

/// The JSON form: `{"model", "flavor", "input", "layers": [{"name", "output", "params",
/// "macs"}], "total_params", "total_macs"}`.
#[derive(Debug, Serialize)]
pub struct ShapesJson<'a> {
    model: &'a str,
    flavor: &'a str,
    input: &'a [usize],
    layers: Vec<LayerJson<'a>>,
    total_params: usize,
    total_macs: u64,
}

#[derive(Debug, Serialize)]
struct LayerJson<'a> {
    name: &'a str,
    output: &'a [usize],
    params: usize,
    macs: u64,
}

/// Computes the table; a shape the model cannot take is an error message.
pub fn run(args: &ShapesArgs) -> Result<String, String> {
    let model = ModelName::new(args.model, args.flavor).map_err(|e| e.to_string())?;
    let rows = summary::table(model, args.input, args.classes).map_err(|e| e.to_string())?;
    Ok(if args.json { json(args, &rows) } else { table(args, model, &rows) })
}

fn json(args: &ShapesArgs, rows: &[Row]) -> String {
    let doc = ShapesJson {
        model: args.model.as_str(),
        flavor: args.flavor.as_str(),
        input: args.input.as_slice(),
        layers: rows
            .iter()
            .map(|r| LayerJson { name: &r.name, output: r.output.as_slice(), params: r.params, macs: r.macs })
            .collect(),
        total_params: rows.iter().map(|r| r.params).sum(),
        total_macs: rows.iter().map(|r| r.macs).sum(),
    };
    // Serialising plain structs of numbers and strings cannot fail.
    serde_json::to_string(&doc).unwrap_or_default()
}

fn table(args: &ShapesArgs, model: ModelName, rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{model}, input {}, {} classes", args.input, args.classes);
    let _ = writeln!(out, "{:<22}{:<22}{:>12}{:>18}", "layer", "output shape", "params", "MACs");
    for r in rows {
        let shape = r.output.to_string();
        let _ = writeln!(
            out,
            "{:<22}{:<22}{:>12}{:>18}",
            r.name,
            shape,
            thousands(r.params as u64),
            thousands(r.macs)
        );
    }
    let params: usize = rows.iter().map(|r| r.params).sum();
    let macs: u64 = rows.iter().map(|r| r.macs).sum();
    let _ = writeln!(out, "{:<44}{:>12}{:>18}", "total", thousands(params as u64), thousands(macs));
    out
}
