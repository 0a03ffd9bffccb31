//! The blocks' gradient flow as the panels show it: the newest report's gradient norms under
//! the shape table's row names, and a bar on a log scale.

use std::collections::HashMap;

use resnet_core::summary::Node;

use crate::run::view::RunView;

/// Decades of gradient norm a full bar spans: a block a thousand times weaker than the
/// strongest shows an empty bar.
const DECADES: f64 = 3.0;

/// The newest gradient norms by row name: blocks (`b2.0`), their stages (`b2`, the norm of
/// all their blocks' gradients together) and the head.
pub struct GradNorms(HashMap<String, f64>);

impl GradNorms {
    /// The newest report of `run`, if any.
    pub fn latest(run: &RunView) -> Option<Self> {
        let report = run.blocks.last()?;
        let mut norms = HashMap::new();
        let mut stages: HashMap<String, f64> = HashMap::new();
        for b in &report.blocks {
            norms.insert(b.name.clone(), b.grad_norm);
            if let Some((stage, _)) = b.name.split_once('.') {
                *stages.entry(stage.to_string()).or_default() += b.grad_norm * b.grad_norm;
            }
        }
        norms.extend(stages.into_iter().map(|(k, sq)| (k, sq.sqrt())));
        Some(Self(norms))
    }

    /// The norm of the row named `key` (see [`row_keys`]).
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.get(key).copied()
    }

    /// The largest norm of a single block (stages left out).
    pub fn max(&self) -> f64 {
        self.0
            .iter()
            .filter(|(k, _)| k.contains('.') || *k == "head" || *k == "b1")
            .map(|(_, v)| *v)
            .fold(0.0, f64::max)
    }
}

/// The gradient-flow name of each row of an outline: `b1`, the stages `b2`..., their blocks
/// `b2.0`..., and `head` for the last row with parameters (the classifier); `None` for the
/// rows inside blocks.
pub fn row_keys(nodes: &[Node]) -> Vec<Option<String>> {
    let head = nodes.iter().rposition(|n| n.depth == 0 && n.params > 0);
    let (mut stage, mut child) = (None::<String>, 0);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| match n.depth {
            0 if Some(i) == head => Some("head".to_string()),
            0 => {
                (stage, child) = (Some(n.name.clone()).filter(|s| s.starts_with('b') && s != "b1"), 0);
                Some(n.name.clone())
            }
            1 => stage.as_ref().map(|s| {
                child += 1;
                format!("{s}.{}", child - 1)
            }),
            _ => None,
        })
        .collect()
}

/// `value` as `1.2e-2` and a bar of `width` cells, full at `max`, empty three decades below.
pub fn cell(value: f64, max: f64, width: usize) -> String {
    let filled = if value > 0.0 && max > 0.0 {
        let level = 1.0 + (value / max).log10() / DECADES;
        (level.clamp(0.0, 1.0) * width as f64).round() as usize
    } else {
        0
    };
    format!("{value:.1e} {}{}", "█".repeat(filled), " ".repeat(width - filled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use resnet_core::models::ModelName;
    use resnet_core::summary::{outline, Dims};

    #[test]
    fn rows_get_the_names_of_the_blocks_the_trainer_reports() {
        let nodes = outline(ModelName::RESNET18, Dims::of([1, 1, 28, 28]), 10).unwrap();
        let keys: Vec<String> = row_keys(&nodes).into_iter().flatten().collect();
        assert_eq!(
            keys,
            [
                "b1",
                "b2",
                "b2.0",
                "b2.1",
                "b3",
                "b3.0",
                "b3.1",
                "b4",
                "b4.0",
                "b4.1",
                "b5",
                "b5.0",
                "b5.1",
                "global average pool",
                "flatten",
                "head"
            ]
        );
    }

    #[test]
    fn bars_span_three_decades() {
        assert_eq!(cell(2.0, 2.0, 6), "2.0e0 ██████");
        assert_eq!(cell(0.02, 2.0, 6), "2.0e-2 ██    ");
        assert_eq!(cell(1e-9, 2.0, 6), "1.0e-9       ");
        assert_eq!(cell(0.0, 0.0, 3), "0.0e0    ");
    }
}
