//! The image file's formats: SVG text or PNG bytes of the figure, built in memory. Text is
//! set in a font embedded in the binary (egui's Ubuntu Light, from `epaint_default_fonts`),
//! so no system font is looked up: SVG needs it to measure text, PNG to draw glyphs.

use std::path::Path;
use std::sync::OnceLock;

use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
use plotters::style::FontStyle;

use super::draw;
use super::series::RunCurves;
use super::style::FONT;

/// What the image is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Scalable vector graphics (text as `<text>` elements).
    Svg,
    /// A PNG bitmap (8-bit RGB).
    Png,
}

impl Format {
    /// The format `path`'s extension names (either case), or why none is known.
    pub fn of(path: &Path) -> Result<Format, String> {
        match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).as_deref() {
            Some("svg") => Ok(Format::Svg),
            Some("png") => Ok(Format::Png),
            _ => Err(format!("cannot tell the format of {}: --out must end in .svg or .png", path.display())),
        }
    }

    /// The file's bytes: the figure of `runs`, `size` (width, height) pixels.
    pub fn render(self, runs: &[RunCurves], size: (u32, u32)) -> Result<Vec<u8>, String> {
        register_font()?;
        match self {
            Format::Svg => {
                let mut svg = String::new();
                draw::figure(&SVGBackend::with_string(&mut svg, size).into_drawing_area(), runs)?;
                Ok(svg.into_bytes())
            }
            Format::Png => {
                let mut rgb = vec![0u8; size.0 as usize * size.1 as usize * 3];
                draw::figure(&BitMapBackend::with_buffer(&mut rgb, size).into_drawing_area(), runs)?;
                encode_png(&rgb, size)
            }
        }
    }
}

/// Makes the embedded font plotters' [`FONT`] (once per process).
fn register_font() -> Result<(), String> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, epaint_default_fonts::UBUNTU_LIGHT).is_ok()
    });
    ok.then_some(()).ok_or_else(|| "the embedded font cannot be read".to_string())
}

/// 8-bit RGB pixels, row by row, as a PNG file.
fn encode_png(rgb: &[u8], (width, height): (u32, u32)) -> Result<Vec<u8>, String> {
    let fail = |e: png::EncodingError| format!("cannot encode the PNG: {e}");
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_names_the_format() {
        assert_eq!(Format::of(Path::new("curves.svg")), Ok(Format::Svg));
        assert_eq!(Format::of(Path::new("runs/a/curves.PNG")), Ok(Format::Png));
        for bad in ["curves.pdf", "curves", "svg"] {
            let e = Format::of(Path::new(bad)).unwrap_err();
            assert_eq!(e, format!("cannot tell the format of {bad}: --out must end in .svg or .png"));
        }
    }

    #[test]
    fn a_png_is_a_png_of_the_asked_size() {
        let run = RunCurves {
            label: "r".into(),
            train_loss: vec![(1.0, 0.5), (2.0, 0.3)],
            train_acc: vec![(1.0, 0.8), (2.0, 0.9)],
            test_acc: vec![(1.0, 0.75), (2.0, 0.85)],
            gradients: Default::default(),
        };
        let bytes = Format::Png.render(&[run], (320, 200)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 320);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 200);
    }
}
