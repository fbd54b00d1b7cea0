//! The look shared by every chart: the strategy palette and the other
//! colours, the compiled-in font, text styles and measuring, and number
//! formatting for ticks and labels.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::strategy::StrategyKind;

/// The colour of names no strategy has.
pub const UNKNOWN_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(super) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(super) const GRID: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);
/// The server's CPU, wherever it is drawn.
pub(super) const SERVER: RGBColor = RGBColor(0x8A, 0x8A, 0x8A);
/// Lower bounds, whiskers and the cores available.
pub(super) const MARK: RGBColor = RGBColor(0x11, 0x11, 0x11);

const FONT: &str = "sans-serif";

/// The colour of strategy `name` in every chart: its own, from the
/// registry of models ([`crate::strategy::MODELS`]); an unknown name is grey.
pub fn strategy_colour(name: &str) -> RGBColor {
    name.parse::<StrategyKind>()
        .map(|k| rgb(k.colour()))
        .unwrap_or(UNKNOWN_COLOUR)
}

/// The first `n` strategies' colours, for a legend swatch that stands for
/// "each strategy's own colour".
pub(super) fn sample_colours(n: usize) -> Vec<RGBColor> {
    StrategyKind::ALL
        .iter()
        .take(n)
        .map(|k| rgb(k.colour()))
        .collect()
}

fn rgb((r, g, b): (u8, u8, u8)) -> RGBColor {
    RGBColor(r, g, b)
}

/// Registers DejaVu Sans (compiled in) as plotters' `sans-serif`, once.
///
/// plotters' default `ttf` feature would look fonts up through fontconfig at
/// run time; with its `ab_glyph` feature instead, the font bytes compiled in
/// here are all it needs, so no system font or fontconfig has to be installed.
pub(super) fn ensure_font() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            let fonts = [
                (FontStyle::Normal, dejavu::sans::regular()),
                (FontStyle::Bold, dejavu::sans::bold()),
                (FontStyle::Italic, dejavu::sans::oblique()),
                (FontStyle::Oblique, dejavu::sans::oblique()),
            ];
            for (style, bytes) in fonts {
                plotters::style::register_font(FONT, style, bytes)
                    .map_err(|_| "the compiled-in font is not a valid font".to_string())?;
            }
            Ok(())
        })
        .clone()
        .map_err(anyhow::Error::msg)
}

pub(super) fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&INK)
}

pub(super) fn bold(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size, FontStyle::Bold).into_font()).color(&INK)
}

pub(super) fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// `c` mixed with white: 0 keeps it, 1 is white.
pub(super) fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// A number for a tick or a label: three significant digits, no trailing zeros.
pub(super) fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if a >= 1e6 {
        return format!("{}M", fmt_num(v / 1e6));
    }
    if a >= 1e4 {
        return format!("{}k", fmt_num(v / 1e3));
    }
    let digits = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let s = format!("{v:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

pub(super) fn text_width<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle,
) -> anyhow::Result<u32>
where
    DB::ErrorType: 'static,
{
    Ok(area.estimate_text_size(text, style)?.0)
}

/// The largest font size up to `size` at which `text` fits in `width` pixels.
pub(super) fn fitting_size<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    width: u32,
    size: f64,
    min: f64,
) -> anyhow::Result<f64>
where
    DB::ErrorType: 'static,
{
    let mut s = size;
    while s > min && text_width(area, text, &font(s))? > width {
        s -= 1.0;
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategy_colours_are_distinct_and_stable() {
        let colours: Vec<RGBColor> = StrategyKind::ALL
            .iter()
            .map(|k| strategy_colour(k.name()))
            .collect();
        assert_eq!(colours.len(), crate::strategy::MODELS.len());
        for (i, a) in colours.iter().enumerate() {
            assert_ne!(*a, UNKNOWN_COLOUR, "{} is grey", StrategyKind::ALL[i]);
            for (j, b) in colours.iter().enumerate().skip(i + 1) {
                let d = ((a.0 as f64 - b.0 as f64).powi(2)
                    + (a.1 as f64 - b.1 as f64).powi(2)
                    + (a.2 as f64 - b.2 as f64).powi(2))
                .sqrt();
                assert!(
                    d > 60.0,
                    "{} and {} are too alike ({d:.0})",
                    StrategyKind::ALL[i],
                    StrategyKind::ALL[j]
                );
            }
        }
        // Stable: the same name always gets the same colour, fixed by the enum's order.
        assert_eq!(strategy_colour("sequential"), RGBColor(0x4E, 0x79, 0xA7));
        assert_eq!(strategy_colour("async"), strategy_colour("async"));
        assert_eq!(strategy_colour("no-such-model"), UNKNOWN_COLOUR);
    }

    #[test]
    fn no_two_strategies_share_a_colour() {
        for (i, a) in StrategyKind::ALL.iter().enumerate() {
            for b in &StrategyKind::ALL[i + 1..] {
                assert_ne!(
                    strategy_colour(a.name()),
                    strategy_colour(b.name()),
                    "{a} and {b} have the same colour"
                );
            }
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(15.228), "15.2");
        assert_eq!(fmt_num(0.2), "0.2");
        assert_eq!(fmt_num(45_000.0), "45k");
        assert_eq!(fmt_num(2_500_000.0), "2.5M");
    }
}
