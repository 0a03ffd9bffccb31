//! Generates the output-size rules of `shape::SpatialMap` for every supported window
//! (kernel 1..=11, stride 1..=4, padding 0..=5). Stable Rust cannot branch on const
//! generics in types, so each (K, S, P) gets its own impl:
//! - stride 1 and padding (K-1)/2 ("same"): the dimension keeps its type;
//! - stride 2 and padding (K-1)/2 (odd K): `Half<D>` (size ceil(n/2));
//! - anything else: `Windowed<D, K, S, P>` (size floor((n + 2P - K) / S) + 1).
use std::fmt::Write;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut out = String::new();
    for k in 1..=11usize {
        for s in 1..=4usize {
            for p in 0..=5usize {
                let same = k % 2 == 1 && 2 * p == k - 1;
                let (ty, map) = match (same, s) {
                    (true, 1) => ("D".to_string(), "d".to_string()),
                    (true, 2) => ("Half<D>".to_string(), "Half(d)".to_string()),
                    _ => (format!("Windowed<D, {k}, {s}, {p}>"), "Windowed(d)".to_string()),
                };
                let _ = writeln!(
                    out,
                    "impl<D: Dim> SpatialMap<D> for Window<{k}, {s}, {p}> {{\n    \
                     type Out = {ty};\n    \
                     #[inline(always)]\n    \
                     fn map(d: D) -> Self::Out {{\n        {map}\n    }}\n}}"
                );
            }
        }
    }
    let dir = std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into());
    let path = std::path::Path::new(&dir).join("spatial_map_impls.rs");
    if let Err(e) = std::fs::write(&path, out) {
        panic!("cannot write {}: {e}", path.display());
    }
}
