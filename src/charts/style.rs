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
/// registry of models ([`crate::strategy::MODELS`]). Any other name is a
/// program run as a model (`--external`): it gets its twin's colour,
/// darkened, the twin being the longest model name it ends or starts with
/// (`py-async-process-pool` is `async-process-pool`'s), so each program sits
/// beside the Rust model it copies in a shade that says "external"; a name
/// with no twin gets a darkened registry colour picked by its hash (stable).
pub fn strategy_colour(name: &str) -> RGBColor {
    if let Ok(k) = name.parse::<StrategyKind>() {
        return rgb(k.colour());
    }
    let twin = StrategyKind::ALL
        .iter()
        .filter(|k| name.ends_with(k.name()) || name.starts_with(k.name()))
        .max_by_key(|k| k.name().len());
    let k = twin.copied().unwrap_or_else(|| {
        // FNV-1a: stable across runs and platforms.
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        });
        StrategyKind::ALL[(h % StrategyKind::ALL.len() as u64) as usize]
    });
    darken(rgb(k.colour()), EXTERNAL_SHADE)
}

/// How much darker an external program's colour is than its twin's.
const EXTERNAL_SHADE: f64 = 0.45;

fn darken(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 * (1.0 - amount)).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
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
        assert_eq!(
            strategy_colour("no-such-model"),
            strategy_colour("no-such-model")
        );
        assert_ne!(strategy_colour("no-such-model"), UNKNOWN_COLOUR);
    }

    #[test]
    fn an_external_program_gets_its_twins_colour_darker() {
        let twin = strategy_colour("async-process-pool");
        let py = strategy_colour("py-async-process-pool");
        assert_eq!(
            py,
            darken(twin, EXTERNAL_SHADE),
            "the longest name it ends with"
        );
        assert_ne!(py, darken(strategy_colour("async"), EXTERNAL_SHADE));
        assert_eq!(
            strategy_colour("sequential-py"),
            darken(strategy_colour("sequential"), EXTERNAL_SHADE)
        );
        for k in StrategyKind::ALL {
            assert_ne!(
                strategy_colour(&format!("py-{k}")),
                strategy_colour(k.name())
            );
        }
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
