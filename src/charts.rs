//! Charts: every picture concbench draws, as SVG and PNG, from a saved
//! [`RunReport`] or [`SweepReport`].
//!
//! This module owns the drawing and nothing else: it reads reports, never
//! runs anything. A run gives `wall` (median wall time per strategy against
//! its lower bound), `cpu` (client CPU, user and sys, and cores busy) and
//! `timeline` (client and server cores over time, one panel per strategy);
//! a sweep gives `sweep-wall`, `sweep-throughput` and `sweep-efficiency`
//! against one parameter, or a `crossover` map (which strategy wins each
//! cell, and by how much) over two.
//!
//! - The font (DejaVu Sans) is compiled into the binary and registered with
//!   plotters once: no system font or fontconfig is needed (design.md).
//! - Every strategy has one colour, the same in every chart
//!   ([`strategy_colour`], by its position in [`StrategyKind::ALL`]).
//! - Titles carry the scenario and the workload; axes carry units; legends
//!   sit outside the plot area.
//! - Files are written atomically (a temporary file beside them, then a
//!   rename), and `present()` errors are propagated, not lost on drop.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{bail, Context};
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::report::{Meta, RunReport, StrategyResult};
use crate::report::{SweepCell, SweepReport};
use crate::strategy::StrategyKind;
use crate::units::{format_bytes, format_seconds};

/// Size of every chart, in pixels (the PNG's size; the SVG's view box).
pub const CHART_SIZE: (u32, u32) = (1200, 700);

/// One qualitative colour per strategy, in [`StrategyKind::ALL`] order
/// (Tableau 10 without its grey, plus olive and cyan).
const PALETTE: [RGBColor; 11] = [
    RGBColor(0x4E, 0x79, 0xA7), // sequential: blue
    RGBColor(0xF2, 0x8E, 0x2B), // thread-per-task: orange
    RGBColor(0xE1, 0x57, 0x59), // thread-pool: red
    RGBColor(0x76, 0xB7, 0xB2), // rayon: teal
    RGBColor(0x59, 0xA1, 0x4F), // process-per-task: green
    RGBColor(0xED, 0xC9, 0x48), // process-pool: yellow
    RGBColor(0xB0, 0x7A, 0xA1), // async: purple
    RGBColor(0xFF, 0x9D, 0xA7), // async-single: pink
    RGBColor(0x9C, 0x75, 0x5F), // async-rayon: brown
    RGBColor(0xBC, 0xBD, 0x22), // async-process-pool: olive
    RGBColor(0x17, 0xBE, 0xCF), // process-pool-async: cyan
];

/// The colour of names no strategy has.
pub const UNKNOWN_COLOUR: RGBColor = RGBColor(0x99, 0x99, 0x99);

const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
const GRID: RGBColor = RGBColor(0xE2, 0xE2, 0xE2);
/// The server's CPU, wherever it is drawn.
const SERVER: RGBColor = RGBColor(0x8A, 0x8A, 0x8A);
/// Lower bounds, whiskers and the cores available.
const MARK: RGBColor = RGBColor(0x11, 0x11, 0x11);

const FONT: &str = "sans-serif";
const HEADER_H: u32 = 74;

/// The colour of strategy `name` in every chart: its position in
/// [`StrategyKind::ALL`] picks it from an 11-colour qualitative palette; an
/// unknown name is grey.
pub fn strategy_colour(name: &str) -> RGBColor {
    StrategyKind::ALL
        .iter()
        .position(|k| k.name() == name)
        .map(|i| PALETTE[i % PALETTE.len()])
        .unwrap_or(UNKNOWN_COLOUR)
}

/// Draws `wall`, `cpu` and `timeline` (each `.svg` and `.png`) of one run
/// into `dir` (created if missing); returns the paths written.
pub fn render_run(report: &RunReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the chart directory {}", dir.display()))?;
    let mut out = Vec::new();
    out.extend(write_chart(&WallChart(report), dir, "wall")?);
    out.extend(write_chart(&CpuChart(report), dir, "cpu")?);
    out.extend(write_chart(&TimelineChart(report), dir, "timeline")?);
    Ok(out)
}

/// Draws a sweep into `dir` (created if missing): for one parameter,
/// `sweep-wall`, `sweep-throughput` and `sweep-efficiency` against it; for
/// two, the `crossover` map. Each as `.svg` and `.png`; returns the paths written.
pub fn render_sweep(sweep: &SweepReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if sweep.cells.is_empty() {
        bail!("the sweep has no cells to draw");
    }
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the chart directory {}", dir.display()))?;
    let mut out = Vec::new();
    match sweep.params.len() {
        1 => {
            // With no latency and no CPU work the bound is 0 and every
            // efficiency is 0: that chart would say nothing, so it is left out.
            let bounded = sweep
                .cells
                .iter()
                .flat_map(|c| &c.report.results)
                .any(|r| r.ideal_s > 0.0);
            for metric in [Metric::Wall, Metric::Throughput, Metric::Efficiency] {
                if metric == Metric::Efficiency && !bounded {
                    continue;
                }
                let chart = SweepChart { sweep, metric };
                out.extend(write_chart(&chart, dir, metric.stem())?);
            }
        }
        2 => out.extend(write_chart(&CrossoverChart(sweep), dir, "crossover")?),
        n => bail!("a sweep chart needs one or two swept parameters, not {n}"),
    }
    Ok(out)
}

/// The fastest strategy of a run among those whose every task verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Winner {
    pub strategy: String,
    /// Its median wall time.
    pub wall_s: f64,
    /// The next fastest verified strategy and its median wall time.
    pub runner_up: Option<(String, f64)>,
}

impl Winner {
    /// The runner-up's wall time over the winner's (how many times faster it won).
    pub fn margin(&self) -> Option<f64> {
        self.runner_up
            .as_ref()
            .map(|(_, w)| w / self.wall_s.max(f64::MIN_POSITIVE))
    }
}

/// Which strategy of `report` won: lowest median wall time among the
/// strategies whose tasks all verified; `None` when none did.
pub fn winner(report: &RunReport) -> Option<Winner> {
    let mut ok: Vec<(&str, f64)> = report
        .results
        .iter()
        .filter(|r| verified(r))
        .map(|r| (r.strategy.as_str(), median_wall(r)))
        .filter(|(_, w)| w.is_finite() && *w > 0.0)
        .collect();
    ok.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (first, wall_s) = *ok.first()?;
    Some(Winner {
        strategy: first.to_string(),
        wall_s,
        runner_up: ok.get(1).map(|(s, w)| (s.to_string(), *w)),
    })
}

fn verified(r: &StrategyResult) -> bool {
    r.status == crate::report::Status::Ok && r.tasks_failed == 0
}

fn median_wall(r: &StrategyResult) -> f64 {
    r.stats.get("wall_s").map(|s| s.median).unwrap_or(r.wall_s)
}

// ---------------------------------------------------------------- output

/// Something drawn on any plotters backend.
trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static;
}

fn write_chart<C: Chart>(chart: &C, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    ensure_font()?;
    let (w, h) = CHART_SIZE;
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()
            .with_context(|| format!("cannot draw {}", svg_path.display()))?;
    }
    crate::sys::fs::write_atomically(&svg_path, &svg)
        .with_context(|| format!("cannot write {}", svg_path.display()))?;

    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()
            .with_context(|| format!("cannot draw {}", png_path.display()))?;
    }
    let mut png = Vec::new();
    {
        use image::ImageEncoder as _;
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&pixels, w, h, image::ColorType::Rgb8)
            .with_context(|| format!("cannot encode {}", png_path.display()))?;
    }
    crate::sys::fs::write_atomically(&png_path, &png)
        .with_context(|| format!("cannot write {}", png_path.display()))?;
    Ok(vec![svg_path, png_path])
}

/// Registers DejaVu Sans (compiled in) as plotters' `sans-serif`, once.
fn ensure_font() -> anyhow::Result<()> {
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

// ---------------------------------------------------------------- styles and helpers

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&INK)
}

fn bold(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size, FontStyle::Bold).into_font()).color(&INK)
}

fn anchored(style: TextStyle<'static>, h: HPos, v: VPos) -> TextStyle<'static> {
    style.pos(Pos::new(h, v))
}

/// `c` mixed with white: 0 keeps it, 1 is white.
fn lighten(c: RGBColor, amount: f64) -> RGBColor {
    let mix = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

/// A number for a tick or a label: three significant digits, no trailing zeros.
fn fmt_num(v: f64) -> String {
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

fn text_width<DB: DrawingBackend>(
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
fn fitting_size<DB: DrawingBackend>(
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

/// The title (bold) and the workload line under it; returns the area below.
fn header<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> anyhow::Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let (top, rest) = root.split_vertically(HEADER_H);
    let width = top.dim_in_pixel().0.saturating_sub(40);
    let mut t = 24.0;
    while t > 12.0 && text_width(&top, title, &bold(t))? > width {
        t -= 1.0;
    }
    top.draw(&Text::new(title.to_string(), (20, 12), bold(t)))?;
    let s = fitting_size(&top, subtitle, width, 16.0, 10.0)?;
    top.draw(&Text::new(
        subtitle.to_string(),
        (20, 46),
        font(s).color(&MUTED),
    ))?;
    Ok(rest)
}

/// The workload in one line; parameters in `swept` say `swept` instead of a value.
fn workload_line(meta: &Meta, swept: &[String]) -> String {
    let w = &meta.workload;
    let is = |f: Field| swept.iter().any(|p| param_info(p).field == Some(f));
    let val = |f: Field, s: String| if is(f) { "swept".to_string() } else { s };
    let cpu = if w.cpu_per_task_s > 0.0 {
        format_seconds(w.cpu_per_task_s)
    } else {
        "0".into()
    };
    format!(
        "{} tasks · latency {} · CPU {} per task · C = {} · {} bodies · P = {} cores",
        val(Field::Tasks, w.tasks.to_string()),
        val(Field::Latency, w.latency.clone()),
        val(Field::Cpu, cpu),
        val(Field::Concurrency, w.concurrency.to_string()),
        val(Field::Bytes, format_bytes(w.bytes as u64)),
        val(Field::Cores, meta.cores.to_string()),
    )
}

// ---------------------------------------------------------------- scales

/// A linear or log10 axis over data values; plotted in transformed units.
#[derive(Debug, Clone, Copy)]
struct Scale {
    log: bool,
    lo: f64,
    hi: f64,
}

impl Scale {
    fn linear(lo: f64, hi: f64) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Scale { log: false, lo, hi }
    }

    fn log(lo: f64, hi: f64) -> Self {
        let lo = lo.max(1e-12);
        let hi = if hi > lo { hi } else { lo * 10.0 };
        Scale { log: true, lo, hi }
    }

    /// Log when every value is positive and they span more than `factor`.
    fn auto(values: &[f64], factor: f64, lo_pad: f64, hi_pad: f64, zero: bool) -> Self {
        let v: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if v.is_empty() {
            return Scale::linear(0.0, 1.0);
        }
        if min > 0.0 && max / min > factor {
            Scale::log(min / lo_pad, max * hi_pad)
        } else if zero {
            Scale::linear(0.0, max.max(1e-9) * hi_pad)
        } else {
            let pad = (max - min).max(max.abs() * 0.1).max(1e-9) * 0.08;
            Scale::linear(min - pad, max + pad)
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-12).log10()
        } else {
            v
        }
    }

    fn inv(&self, u: f64) -> f64 {
        if self.log {
            10f64.powf(u)
        } else {
            u
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.t(self.lo)..self.t(self.hi)
    }

    /// Grows the top so that `px` pixels of a `plot_px` wide axis are free beyond `end`.
    fn with_room_after(self, end: f64, px: f64, plot_px: f64) -> Self {
        let f = (px / plot_px.max(1.0)).clamp(0.0, 0.7);
        let (lo, e) = (self.t(self.lo), self.t(end));
        let hi = (e - lo * f) / (1.0 - f);
        let hi = self.inv(hi.max(self.t(self.hi)));
        Scale { hi, ..self }
    }

    /// Tick positions in transformed units.
    fn ticks(&self, target: usize) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.lo.log10().floor() as i32,
                self.hi.log10().ceil() as i32,
            );
            let decades = (b - a).max(1);
            let mults: &[f64] = if decades <= 2 {
                &[1.0, 2.0, 5.0]
            } else if decades <= 4 {
                &[1.0, 3.0]
            } else {
                &[1.0]
            };
            let mut out = Vec::new();
            for k in a..=b {
                for m in mults {
                    let v = m * 10f64.powi(k);
                    if v >= self.lo * 0.999 && v <= self.hi * 1.001 {
                        out.push(v.log10());
                    }
                }
            }
            out
        } else {
            nice_ticks(self.lo, self.hi, target)
        }
    }

    fn label(&self, u: f64) -> String {
        fmt_num(self.inv(u))
    }
}

fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|i| i as f64 * step)
        // Snap -0.0 and 0.30000000000000004.
        .map(|v| (v / step).round() * step)
        .collect()
}

/// A linear f64 axis with the ticks we choose (plotters' `WithKeyPoints`
/// over f64 cannot take a label formatter).
#[derive(Clone)]
struct Axis {
    inner: RangedCoordf64,
    keys: Vec<f64>,
}

fn axis(range: std::ops::Range<f64>, keys: Vec<f64>) -> Axis {
    Axis {
        inner: range.into(),
        keys,
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.keys.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

// ---------------------------------------------------------------- legends

enum Swatch {
    /// Filled boxes, side by side (several colours: "in each strategy's colour").
    Fill(Vec<RGBColor>),
    Line(RGBColor),
    Dashed(RGBColor),
    /// A short vertical bar, like the lower-bound mark.
    Marker(RGBColor),
    Whisker(RGBColor),
}

struct Entry {
    swatch: Swatch,
    text: String,
}

fn entry(swatch: Swatch, text: impl Into<String>) -> Entry {
    Entry {
        swatch,
        text: text.into(),
    }
}

const SWATCH_W: i32 = 28;
const LEGEND_ROW: i32 = 24;

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Swatch,
    (x, y): (i32, i32),
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    match s {
        Swatch::Fill(colours) => {
            let n = colours.len().max(1) as i32;
            let w = SWATCH_W / n;
            for (i, c) in colours.iter().enumerate() {
                let x0 = x + i as i32 * w;
                let x1 = if i as i32 == n - 1 {
                    x + SWATCH_W
                } else {
                    x0 + w
                };
                area.draw(&Rectangle::new([(x0, y - 7), (x1, y + 7)], c.filled()))?;
            }
        }
        Swatch::Line(c) => {
            area.draw(&PathElement::new(
                vec![(x, y), (x + SWATCH_W, y)],
                c.stroke_width(3),
            ))?;
            area.draw(&Circle::new((x + SWATCH_W / 2, y), 4, c.filled()))?;
        }
        Swatch::Dashed(c) => {
            for k in 0..3 {
                let x0 = x + k * 11;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x0 + 6, y)],
                    c.stroke_width(2),
                ))?;
            }
        }
        Swatch::Marker(c) => {
            area.draw(&Rectangle::new(
                [(x + SWATCH_W / 2 - 1, y - 9), (x + SWATCH_W / 2 + 2, y + 9)],
                c.filled(),
            ))?;
        }
        Swatch::Whisker(c) => {
            let st = c.stroke_width(2);
            area.draw(&PathElement::new(
                vec![(x + 2, y), (x + SWATCH_W - 2, y)],
                st,
            ))?;
            area.draw(&PathElement::new(vec![(x + 2, y - 5), (x + 2, y + 5)], st))?;
            area.draw(&PathElement::new(
                vec![(x + SWATCH_W - 2, y - 5), (x + SWATCH_W - 2, y + 5)],
                st,
            ))?;
        }
    }
    Ok(())
}

/// Lays out `entries` left to right, wrapping; draws them when `draw`.
/// Returns the height used.
fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    draw: bool,
) -> anyhow::Result<u32>
where
    DB::ErrorType: 'static,
{
    if entries.is_empty() {
        return Ok(0);
    }
    let style = font(14.0);
    let width = area.dim_in_pixel().0 as i32 - 20;
    let (mut x, mut y) = (20, LEGEND_ROW / 2 + 2);
    for e in entries {
        let w = SWATCH_W + 6 + text_width(area, &e.text, &style)? as i32;
        if x > 20 && x + w > width {
            x = 20;
            y += LEGEND_ROW;
        }
        if draw {
            draw_swatch(area, &e.swatch, (x, y))?;
            area.draw(&Text::new(
                e.text.clone(),
                (x + SWATCH_W + 6, y),
                anchored(style.clone(), HPos::Left, VPos::Center),
            ))?;
        }
        x += w + 26;
    }
    Ok((y + LEGEND_ROW / 2 + 4) as u32)
}

/// A legend strip across the top of `area`; returns the area below it.
fn legend_strip<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> anyhow::Result<DrawingArea<DB, Shift>>
where
    DB::ErrorType: 'static,
{
    let h = legend_row(area, entries, false)?;
    if h == 0 {
        return Ok(area.clone());
    }
    let (strip, rest) = area.split_vertically(h);
    legend_row(&strip, entries, true)?;
    Ok(rest)
}

/// Entries one under the other, from the top of `area`, under an optional heading.
fn legend_column<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    heading: Option<&str>,
    entries: &[Entry],
    top: i32,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let mut y = top;
    let width = area.dim_in_pixel().0.saturating_sub(SWATCH_W as u32 + 20);
    if let Some(h) = heading {
        area.draw(&Text::new(
            h.to_string(),
            (10, y),
            anchored(bold(14.0), HPos::Left, VPos::Center),
        ))?;
        y += LEGEND_ROW;
    }
    for e in entries {
        draw_swatch(area, &e.swatch, (10, y))?;
        let s = fitting_size(area, &e.text, width, 14.0, 9.0)?;
        area.draw(&Text::new(
            e.text.clone(),
            (10 + SWATCH_W + 6, y),
            anchored(font(s), HPos::Left, VPos::Center),
        ))?;
        y += LEGEND_ROW;
    }
    Ok(())
}

// ---------------------------------------------------------------- horizontal bars

/// Rows of a horizontal bar chart: strategy `i` of `n` sits at `n - 1 - i` (first on top).
fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// The frame of a horizontal bar chart: one row per strategy, `x` as given.
fn bar_frame<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    names: &'a [String],
    x: Scale,
    x_desc: &str,
    show_names: bool,
) -> anyhow::Result<Plot<'a, DB>>
where
    DB::ErrorType: 'static,
{
    let n = names.len();
    let label = font(15.0);
    let name_w = names
        .iter()
        .map(|s| text_width(area, s, &label))
        .collect::<anyhow::Result<Vec<_>>>()?
        .into_iter()
        .max()
        .unwrap_or(0);
    let y_keys: Vec<f64> = (0..n).map(|i| i as f64).collect();
    let mut chart = ChartBuilder::on(area)
        .margin_top(6)
        .margin_right(24)
        .margin_left(if show_names { 12 } else { 6 })
        .x_label_area_size(52)
        .y_label_area_size(if show_names { name_w + 16 } else { 0 })
        .build_cartesian_2d(
            axis(x.range(), x.ticks(7)),
            axis(-0.6..n as f64 - 0.4, y_keys),
        )?;
    let name_of = |u: &f64| -> String {
        let r = u.round();
        if r < 0.0 || r >= n as f64 {
            return String::new();
        }
        names[n - 1 - r as usize].clone()
    };
    let x_fmt = |u: &f64| x.label(*u);
    chart
        .configure_mesh()
        .disable_y_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_desc(x_desc)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&name_of)
        .x_label_style(font(13.0))
        .y_label_style(label)
        .axis_desc_style(font(15.0))
        .axis_style(MUTED)
        .draw()?;
    Ok(chart)
}

/// Strategy names in row order (the report's).
fn names(report: &RunReport) -> Vec<String> {
    report
        .results
        .iter()
        .map(|r| {
            if verified(r) {
                r.strategy.clone()
            } else {
                format!("{} (FAILED)", r.strategy)
            }
        })
        .collect()
}

fn no_results<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, what: &str) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(
        what.to_string(),
        (w as i32 / 2, h as i32 / 2),
        anchored(font(18.0).color(&MUTED), HPos::Center, VPos::Center),
    ))?;
    Ok(())
}

/// Pixels the plot area of a bar chart will roughly have across, for label room.
fn approx_plot_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    names: &[String],
    show_names: bool,
) -> anyhow::Result<f64>
where
    DB::ErrorType: 'static,
{
    let name_w = if show_names {
        names
            .iter()
            .map(|s| text_width(area, s, &font(15.0)))
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .max()
            .unwrap_or(0)
            + 28
    } else {
        6
    };
    Ok(area.dim_in_pixel().0 as f64 - name_w as f64 - 24.0)
}

// ---------------------------------------------------------------- wall

struct WallChart<'a>(&'a RunReport);

impl Chart for WallChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let report = self.0;
        let body = header(
            root,
            &format!(
                "{}: wall time per strategy against its lower bound",
                report.meta.scenario
            ),
            &workload_line(&report.meta, &[]),
        )?;
        let rounds = report.results.iter().map(|r| r.rounds).max().unwrap_or(1);
        let whiskers = |r: &StrategyResult| {
            r.stats
                .get("wall_s")
                .filter(|_| r.rounds > 1)
                .map(|s| (s.min, s.max))
        };
        let mut legend = vec![
            entry(
                Swatch::Fill(PALETTE[..4].to_vec()),
                if rounds > 1 {
                    format!("median wall time over {rounds} rounds")
                } else {
                    "wall time".to_string()
                },
            ),
            entry(
                Swatch::Marker(MARK),
                "lower bound for the strategy's C: max(Σl/C, Σc/P, longest task)",
            ),
        ];
        if report.results.iter().any(|r| whiskers(r).is_some()) {
            legend.push(entry(Swatch::Whisker(MARK), "min–max over the rounds"));
        }
        let area = legend_strip(&body, &legend)?;
        if report.results.is_empty() {
            return no_results(&area, "no strategy in this report");
        }

        let names = names(report);
        let n = names.len();
        let labels: Vec<String> = report
            .results
            .iter()
            .map(|r| {
                let mut s = format!(
                    "{} s · bound {} s · eff {:.2}",
                    fmt_num(median_wall(r)),
                    fmt_num(r.ideal_s),
                    r.efficiency
                );
                if let Some(x) = r
                    .speedup_vs_sequential
                    .filter(|_| r.strategy != "sequential")
                {
                    s.push_str(&format!(" · {}× seq", fmt_num(x)));
                }
                s
            })
            .collect();
        let mut values = Vec::new();
        let mut ends = Vec::new();
        for r in &report.results {
            values.extend([median_wall(r), r.ideal_s]);
            let mut end = median_wall(r).max(r.ideal_s);
            if let Some((lo, hi)) = whiskers(r) {
                values.extend([lo, hi]);
                end = end.max(hi);
            }
            ends.push(end);
        }
        let values: Vec<f64> = values.into_iter().filter(|v| *v > 0.0).collect();
        let base = Scale::auto(&values, 20.0, 1.6, 1.05, true);
        let label_px = labels
            .iter()
            .map(|l| text_width(&area, l, &font(13.0)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let plot_px = approx_plot_px(&area, &names, true)?;
        // Room for each row's label after its end: the tightest row decides.
        let mut x = base;
        for (end, px) in ends.iter().zip(&label_px) {
            x = x.with_room_after(*end, *px as f64 + 16.0, plot_px);
        }
        let desc = if x.log {
            "wall time (s, log scale)"
        } else {
            "wall time (s)"
        };
        let mut chart = bar_frame(&area, &names, x, desc, true)?;
        let x0 = x.range().start;
        for (i, r) in report.results.iter().enumerate() {
            let y = row_y(i, n);
            let c = strategy_colour(&r.strategy);
            let fill = if verified(r) {
                c.filled()
            } else {
                lighten(c, 0.6).filled()
            };
            let wall = x.t(median_wall(r));
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, y - 0.34), (wall, y + 0.34)],
                fill,
            )))?;
            if let Some((lo, hi)) = whiskers(r) {
                let st = MARK.stroke_width(2);
                let (lo, hi) = (x.t(lo), x.t(hi));
                chart.draw_series([
                    PathElement::new(vec![(lo, y), (hi, y)], st),
                    PathElement::new(vec![(lo, y - 0.14), (lo, y + 0.14)], st),
                    PathElement::new(vec![(hi, y - 0.14), (hi, y + 0.14)], st),
                ])?;
            }
            if r.ideal_s > 0.0 {
                let b = x.t(r.ideal_s);
                chart.draw_series(std::iter::once(
                    EmptyElement::at((b, y)) + Rectangle::new([(-1, -17), (2, 17)], MARK.filled()),
                ))?;
            }
            chart.draw_series(std::iter::once(
                EmptyElement::at((x.t(ends[i]), y))
                    + Text::new(
                        labels[i].clone(),
                        (10, 0),
                        anchored(font(13.0), HPos::Left, VPos::Center),
                    ),
            ))?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- cpu

struct CpuChart<'a>(&'a RunReport);

impl Chart for CpuChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let report = self.0;
        let body = header(
            root,
            &format!(
                "{}: client CPU per strategy, and cores busy",
                report.meta.scenario
            ),
            &workload_line(&report.meta, &[]),
        )?;
        let cores = report.meta.cores as f64;
        let sample: Vec<RGBColor> = PALETTE[..4].to_vec();
        let legend = vec![
            entry(Swatch::Fill(sample.clone()), "user CPU"),
            entry(
                Swatch::Fill(sample.iter().map(|c| lighten(*c, 0.6)).collect()),
                "sys CPU",
            ),
            entry(Swatch::Fill(vec![SERVER]), "server CPU (thin bar)"),
            entry(
                Swatch::Dashed(MARK),
                format!("P = {} cores available to the client", report.meta.cores),
            ),
        ];
        let area = legend_strip(&body, &legend)?;
        if report.results.is_empty() {
            return no_results(&area, "no strategy in this report");
        }
        let names = names(report);
        let n = names.len();
        let (left, right) = area.split_horizontally((area.dim_in_pixel().0 as f64 * 0.64) as u32);

        // Left: CPU seconds, user + sys stacked, the server's beneath.
        let server_s = |r: &StrategyResult| r.server.cpu_user_s + r.server.cpu_sys_s;
        let client_s = |r: &StrategyResult| r.cpu_user_s + r.cpu_sys_s;
        let labels: Vec<String> = report
            .results
            .iter()
            .map(|r| format!("{} s", fmt_num(client_s(r))))
            .collect();
        let max = report
            .results
            .iter()
            .map(|r| client_s(r).max(server_s(r)))
            .fold(0.0, f64::max);
        let plot_px = approx_plot_px(&left, &names, true)?;
        let label_px = labels
            .iter()
            .map(|l| text_width(&left, l, &font(13.0)))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let mut x = Scale::linear(0.0, max.max(1e-6) * 1.02);
        for (r, px) in report.results.iter().zip(&label_px) {
            x = x.with_room_after(client_s(r).max(server_s(r)), *px as f64 + 14.0, plot_px);
        }
        let mut chart = bar_frame(&left, &names, x, "CPU (s)", true)?;
        for (i, r) in report.results.iter().enumerate() {
            let y = row_y(i, n);
            let c = strategy_colour(&r.strategy);
            let user = r.cpu_user_s.max(0.0);
            let total = user + r.cpu_sys_s.max(0.0);
            chart.draw_series([
                Rectangle::new([(0.0, y - 0.05), (user, y + 0.38)], c.filled()),
                Rectangle::new(
                    [(user, y - 0.05), (total, y + 0.38)],
                    lighten(c, 0.6).filled(),
                ),
                Rectangle::new([(0.0, y - 0.34), (server_s(r), y - 0.14)], SERVER.filled()),
            ])?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((total.max(server_s(r)), y))
                    + Text::new(
                        labels[i].clone(),
                        (8, 0),
                        anchored(font(13.0), HPos::Left, VPos::Center),
                    ),
            ))?;
        }

        // Right: cores busy on average, client and server, against P.
        let server_cores = |r: &StrategyResult| server_s(r) / r.wall_s.max(1e-9);
        let max = report
            .results
            .iter()
            .map(|r| r.cpu_utilisation.max(server_cores(r)))
            .fold(cores, f64::max);
        let x = Scale::linear(0.0, max * 1.22);
        let mut chart = bar_frame(&right, &names, x, "cores busy (CPU ÷ wall)", false)?;
        for (i, r) in report.results.iter().enumerate() {
            let y = row_y(i, n);
            let c = strategy_colour(&r.strategy);
            chart.draw_series([
                Rectangle::new([(0.0, y - 0.05), (r.cpu_utilisation, y + 0.38)], c.filled()),
                Rectangle::new(
                    [(0.0, y - 0.34), (server_cores(r), y - 0.14)],
                    SERVER.filled(),
                ),
            ])?;
            // A bar ending just short of the P line would put its label
            // across the line: start such a label right of the line.
            let end = r.cpu_utilisation.max(server_cores(r));
            let anchor = if end < cores && end > cores - 0.15 * max {
                cores
            } else {
                end
            };
            chart.draw_series(std::iter::once(
                EmptyElement::at((anchor, y))
                    + Text::new(
                        format!("{:.2}", r.cpu_utilisation),
                        (6, 0),
                        anchored(font(13.0), HPos::Left, VPos::Center),
                    ),
            ))?;
        }
        chart.plotting_area().draw(&DashedPathElement::new(
            vec![(cores, -0.6), (cores, n as f64 - 0.4)],
            6,
            4,
            MARK.stroke_width(2),
        ))?;
        Ok(())
    }
}

// ---------------------------------------------------------------- timeline

struct TimelineChart<'a>(&'a RunReport);

impl Chart for TimelineChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let report = self.0;
        let interval = report
            .results
            .iter()
            .map(|r| r.timeline.interval_s)
            .find(|i| *i > 0.0)
            .unwrap_or(report.meta.sample_interval_s);
        let body = header(
            root,
            &format!(
                "{}: CPU over time, client and server (cores; one panel per strategy)",
                report.meta.scenario
            ),
            &format!(
                "{} · sampled every {}",
                workload_line(&report.meta, &[]),
                format_seconds(interval)
            ),
        )?;
        let n = report.results.len();
        if n == 0 {
            return no_results(&body, "no strategy in this report");
        }
        let cores = report.meta.cores as f64;
        // One y scale for every panel.
        let peak = report
            .results
            .iter()
            .flat_map(|r| {
                let tl = &r.timeline;
                (0..tl.client_cores.len()).map(move |i| {
                    tl.client_cores[i] + tl.server_cores.get(i).copied().unwrap_or(0.0)
                })
            })
            .filter(|v| v.is_finite())
            .fold(cores, f64::max);
        let y_hi = (peak * 1.08 / 0.5).ceil() * 0.5;
        let y = Scale::linear(0.0, y_hi);

        // Panels plus one slot for the legend.
        let slots = n + 1;
        let cols = slots.clamp(1, 4);
        let rows = slots.div_ceil(cols);
        let areas = body.margin(0, 6, 6, 6).split_evenly((rows, cols));
        for (i, r) in report.results.iter().enumerate() {
            draw_timeline_panel(&areas[i], r, y, cores)?;
        }
        let legend_area = &areas[n];
        let sample: Vec<RGBColor> = PALETTE[..4].to_vec();
        legend_column(
            legend_area,
            None,
            &[
                entry(Swatch::Fill(sample), "client CPU (the strategy's colour)"),
                entry(
                    Swatch::Fill(vec![lighten(SERVER, 0.3)]),
                    "server CPU, stacked on the client's",
                ),
                entry(
                    Swatch::Dashed(MARK),
                    format!("P = {} cores", report.meta.cores),
                ),
            ],
            36,
        )?;
        let note_y = 36 + 3 * LEGEND_ROW + 8;
        for (k, line) in [
            "x: seconds since the strategy started",
            "(each panel its own time scale);",
            "y: cores busy, same scale in every panel",
        ]
        .iter()
        .enumerate()
        {
            let s = fitting_size(
                legend_area,
                line,
                legend_area.dim_in_pixel().0.saturating_sub(20),
                13.0,
                9.0,
            )?;
            legend_area.draw(&Text::new(
                line.to_string(),
                (10, note_y + k as i32 * 18),
                anchored(font(s).color(&MUTED), HPos::Left, VPos::Center),
            ))?;
        }
        Ok(())
    }
}

fn draw_timeline_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    r: &StrategyResult,
    y: Scale,
    cores: f64,
) -> anyhow::Result<()>
where
    DB::ErrorType: 'static,
{
    let tl = &r.timeline;
    let c = strategy_colour(&r.strategy);
    let t_end = tl
        .t_s
        .last()
        .copied()
        .unwrap_or(0.0)
        .max(r.wall_s)
        .max(1e-3);
    let x = Scale::linear(0.0, t_end);
    let caption = format!(
        "{}{} · {} s",
        r.strategy,
        if verified(r) { "" } else { " (FAILED)" },
        fmt_num(r.wall_s)
    );
    let mut chart = ChartBuilder::on(area)
        .margin(4)
        .margin_right(14)
        .caption(caption, bold(13.0))
        .x_label_area_size(34)
        .y_label_area_size(40)
        .build_cartesian_2d(axis(x.range(), x.ticks(4)), axis(y.range(), y.ticks(4)))?;
    let x_fmt = |u: &f64| x.label(*u);
    let y_fmt = |u: &f64| y.label(*u);
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("time (s)")
        .y_desc("cores")
        .label_style(font(11.0))
        .axis_desc_style(font(11.0))
        .axis_style(MUTED)
        .draw()?;
    if tl.t_s.is_empty() {
        chart.plotting_area().draw(&Text::new(
            "no timeline recorded".to_string(),
            (t_end / 2.0, y.hi / 2.0),
            anchored(font(12.0).color(&MUTED), HPos::Center, VPos::Center),
        ))?;
    } else {
        // Each sample is the mean over the interval ending at t: draw steps.
        let steps = |v: &dyn Fn(usize) -> f64| {
            let mut pts = Vec::with_capacity(tl.t_s.len() * 2 + 1);
            let mut prev = 0.0;
            for (i, t) in tl.t_s.iter().enumerate() {
                let val = v(i);
                pts.push((prev, val));
                pts.push((*t, val));
                prev = *t;
            }
            pts
        };
        let client = |i: usize| tl.client_cores.get(i).copied().unwrap_or(0.0).max(0.0);
        if !tl.server_cores.is_empty() {
            let total =
                |i: usize| client(i) + tl.server_cores.get(i).copied().unwrap_or(0.0).max(0.0);
            chart.draw_series(
                AreaSeries::new(steps(&total), 0.0, lighten(SERVER, 0.3).filled())
                    .border_style(SERVER.stroke_width(1)),
            )?;
        }
        chart.draw_series(
            AreaSeries::new(steps(&client), 0.0, c.filled()).border_style(c.stroke_width(1)),
        )?;
    }
    chart.plotting_area().draw(&DashedPathElement::new(
        vec![(0.0, cores), (t_end, cores)],
        6,
        4,
        MARK.stroke_width(1),
    ))?;
    Ok(())
}

// ---------------------------------------------------------------- sweeps

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Tasks,
    Latency,
    Cpu,
    Concurrency,
    Bytes,
    Cores,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Count,
    Seconds,
    Bytes,
}

struct ParamInfo {
    label: String,
    unit: Unit,
    field: Option<Field>,
}

/// What a swept parameter is called on an axis, and its unit.
/// A strategy's points on a sweep chart: (x, y, every task verified).
type Series = (String, Vec<(f64, f64, bool)>);

fn param_info(name: &str) -> ParamInfo {
    let p = |label: &str, unit, field| ParamInfo {
        label: label.to_string(),
        unit,
        field,
    };
    match name.to_ascii_lowercase().as_str() {
        "concurrency" | "c" => p(
            "concurrency C (requests in flight)",
            Unit::Count,
            Some(Field::Concurrency),
        ),
        "latency" | "l" => p(
            "latency per request (s)",
            Unit::Seconds,
            Some(Field::Latency),
        ),
        "cpu" => p("CPU work per task (s)", Unit::Seconds, Some(Field::Cpu)),
        "tasks" | "n" => p("tasks", Unit::Count, Some(Field::Tasks)),
        "bytes" | "b" | "body" => p("body size (bytes)", Unit::Bytes, Some(Field::Bytes)),
        "cores" | "p" => p("cores P", Unit::Count, Some(Field::Cores)),
        "workers" | "w" => p("workers W", Unit::Count, None),
        "batch" => p("batch (tasks per message)", Unit::Count, None),
        _ => p(name, Unit::Count, None),
    }
}

fn format_param(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Count => fmt_num(v),
        Unit::Seconds => format_seconds(v),
        Unit::Bytes => format_bytes(v.max(0.0) as u64),
    }
}

/// The distinct values of `param` over the cells, by number: (x, as given).
fn param_values(sweep: &SweepReport, param: &str) -> Vec<(f64, String)> {
    let mut v: Vec<(f64, String)> = sweep
        .cells
        .iter()
        .filter_map(|c| cell_value(c, param))
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    v.dedup_by(|a, b| a.1 == b.1);
    v
}

fn cell_value(cell: &SweepCell, param: &str) -> Option<(f64, String)> {
    let given = cell.values.get(param).cloned();
    let x = cell.x.get(param).copied();
    match (x, given) {
        (Some(x), Some(g)) => Some((x, g)),
        (Some(x), None) => Some((x, fmt_num(x))),
        (None, Some(g)) => Some((g.parse().unwrap_or(f64::NAN), g)),
        (None, None) => None,
    }
}

/// Strategies present in the sweep, in [`StrategyKind::ALL`] order, unknown names last.
fn sweep_strategies(sweep: &SweepReport) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in &sweep.cells {
        for r in &c.report.results {
            if !names.contains(&r.strategy) {
                names.push(r.strategy.clone());
            }
        }
    }
    let rank = |s: &str| {
        StrategyKind::ALL
            .iter()
            .position(|k| k.name() == s)
            .unwrap_or(usize::MAX)
    };
    names.sort_by_key(|s| rank(s));
    names
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metric {
    Wall,
    Throughput,
    Efficiency,
}

impl Metric {
    fn stem(self) -> &'static str {
        match self {
            Metric::Wall => "sweep-wall",
            Metric::Throughput => "sweep-throughput",
            Metric::Efficiency => "sweep-efficiency",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::Throughput => "throughput",
            Metric::Efficiency => "efficiency against the lower bound",
        }
    }

    fn value(self, r: &StrategyResult) -> f64 {
        let stat = |k: &str, v: f64| r.stats.get(k).map(|s| s.median).unwrap_or(v);
        match self {
            Metric::Wall => median_wall(r),
            Metric::Throughput => stat("throughput_per_s", r.throughput_per_s),
            Metric::Efficiency => stat("efficiency", r.efficiency),
        }
    }
}

struct SweepChart<'a> {
    sweep: &'a SweepReport,
    metric: Metric,
}

impl Chart for SweepChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let (sweep, metric) = (self.sweep, self.metric);
        let param = &sweep.params[0];
        let info = param_info(param);
        let meta = &sweep.cells[0].report.meta;
        let body = header(
            root,
            &format!(
                "{}: {} against {}",
                sweep.scenario,
                metric.what(),
                info.label.split(" (").next().unwrap_or(param)
            ),
            &workload_line(meta, &sweep.params),
        )?;
        let strategies = sweep_strategies(sweep);
        let xs = param_values(sweep, param);
        // (strategy, points (x, y, verified))
        let series: Vec<Series> = strategies
            .iter()
            .map(|s| {
                let mut pts: Vec<(f64, f64, bool)> = sweep
                    .cells
                    .iter()
                    .filter_map(|c| {
                        let (x, _) = cell_value(c, param)?;
                        let r = c.report.results.iter().find(|r| &r.strategy == s)?;
                        let v = metric.value(r);
                        (x.is_finite() && v.is_finite()).then_some((x, v, verified(r)))
                    })
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                (s.clone(), pts)
            })
            .collect();

        let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - 240);
        let any_failed = series.iter().any(|(_, p)| p.iter().any(|q| !q.2));
        let mut legend: Vec<Entry> = series
            .iter()
            .map(|(s, _)| entry(Swatch::Line(strategy_colour(s)), s.clone()))
            .collect();
        if metric == Metric::Efficiency {
            legend.push(entry(Swatch::Dashed(MARK), "1 = the lower bound"));
        }
        if any_failed {
            legend.push(entry(
                Swatch::Marker(RGBColor(0xCC, 0, 0)),
                "✕ not every task verified",
            ));
        }
        legend_column(&side, Some("strategy"), &legend, 20)?;

        let xv: Vec<f64> = xs
            .iter()
            .map(|(x, _)| *x)
            .filter(|x| x.is_finite())
            .collect();
        let x_log = {
            let min = xv.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            min > 0.0 && max / min > 20.0
        };
        let x = if xv.is_empty() {
            Scale::linear(0.0, 1.0)
        } else if x_log {
            let min = xv.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let pad = (max / min).powf(0.04);
            Scale::log(min / pad, max * pad)
        } else {
            let min = xv.iter().copied().fold(f64::INFINITY, f64::min);
            let max = xv.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let pad = ((max - min) * 0.05).max(max.abs() * 0.02).max(1e-9);
            Scale::linear(min - pad, max + pad)
        };
        // Ticks at the swept values when there are few: labelled as given.
        let (x_keys, x_names): (Vec<f64>, Vec<String>) = if xs.len() <= 12 {
            xs.iter()
                .filter(|(v, _)| v.is_finite())
                .map(|(v, s)| (x.t(*v), s.clone()))
                .unzip()
        } else {
            let k = x.ticks(8);
            let names = k
                .iter()
                .map(|u| format_param(x.inv(*u), info.unit))
                .collect();
            (k, names)
        };
        let yv: Vec<f64> = series
            .iter()
            .flat_map(|(_, p)| p.iter().map(|q| q.1))
            .collect();
        let y = match metric {
            Metric::Efficiency => {
                let max = yv.iter().copied().fold(1.0, f64::max);
                Scale::linear(0.0, max * 1.08)
            }
            _ => Scale::auto(&yv, 20.0, 1.3, 1.3, true),
        };
        let y_desc = match (metric, y.log) {
            (Metric::Wall, false) => "wall time (s)",
            (Metric::Wall, true) => "wall time (s, log scale)",
            (Metric::Throughput, false) => "throughput (verified tasks/s)",
            (Metric::Throughput, true) => "throughput (verified tasks/s, log scale)",
            (Metric::Efficiency, _) => "efficiency (lower bound ÷ wall)",
        };
        let x_desc = if x.log {
            format!("{} — log scale", info.label)
        } else {
            info.label.clone()
        };
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_right(20)
            .x_label_area_size(56)
            .y_label_area_size(76)
            .build_cartesian_2d(axis(x.range(), x_keys.clone()), axis(y.range(), y.ticks(8)))?;
        let x_fmt = |u: &f64| {
            x_keys
                .iter()
                .position(|k| (k - u).abs() < 1e-9)
                .map(|i| x_names[i].clone())
                .unwrap_or_else(|| format_param(x.inv(*u), info.unit))
        };
        let y_fmt = |u: &f64| y.label(*u);
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(x_desc)
            .y_desc(y_desc)
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(font(13.0))
            .axis_desc_style(font(15.0))
            .axis_style(MUTED)
            .draw()?;
        if metric == Metric::Efficiency {
            let r = x.range();
            chart.plotting_area().draw(&DashedPathElement::new(
                vec![(r.start, 1.0), (r.end, 1.0)],
                6,
                4,
                MARK.stroke_width(1),
            ))?;
        }
        for (s, pts) in &series {
            let c = strategy_colour(s);
            let line: Vec<(f64, f64)> = pts
                .iter()
                .filter(|p| p.2)
                .map(|p| (x.t(p.0), y.t(p.1)))
                .collect();
            chart.draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))?;
            chart.draw_series(line.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
            chart.draw_series(
                pts.iter()
                    .filter(|p| !p.2)
                    .map(|p| Cross::new((x.t(p.0), y.t(p.1)), 6, c.stroke_width(3))),
            )?;
        }
        Ok(())
    }
}

struct CrossoverChart<'a>(&'a SweepReport);

impl Chart for CrossoverChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        let sweep = self.0;
        let (p0, p1) = (&sweep.params[0], &sweep.params[1]);
        let (i0, i1) = (param_info(p0), param_info(p1));
        let meta = &sweep.cells[0].report.meta;
        let body = header(
            root,
            &format!(
                "{}: fastest verified strategy per cell, and its margin over the runner-up",
                sweep.scenario
            ),
            &workload_line(meta, &sweep.params),
        )?;
        let xs = param_values(sweep, p0);
        let ys = param_values(sweep, p1);
        let (nx, ny) = (xs.len(), ys.len());
        let find = |i: usize, j: usize| {
            sweep.cells.iter().find(|c| {
                c.values.get(p0.as_str()) == Some(&xs[i].1)
                    && c.values.get(p1.as_str()) == Some(&ys[j].1)
            })
        };
        let mut cells = Vec::new();
        let mut winners: Vec<String> = Vec::new();
        let mut any_none = false;
        for i in 0..nx {
            for j in 0..ny {
                let Some(cell) = find(i, j) else { continue };
                let w = winner(&cell.report);
                match &w {
                    Some(w) if !winners.contains(&w.strategy) => winners.push(w.strategy.clone()),
                    None => any_none = true,
                    _ => {}
                }
                cells.push((i, j, w));
            }
        }
        let rank = |s: &String| {
            StrategyKind::ALL
                .iter()
                .position(|k| k.name() == s)
                .unwrap_or(usize::MAX)
        };
        winners.sort_by_key(rank);

        let (plot, side) = body.split_horizontally(body.dim_in_pixel().0 - 240);
        let mut legend: Vec<Entry> = winners
            .iter()
            .map(|s| {
                entry(
                    Swatch::Fill(vec![lighten(strategy_colour(s), 0.35)]),
                    s.clone(),
                )
            })
            .collect();
        if any_none {
            legend.push(entry(
                Swatch::Fill(vec![lighten(UNKNOWN_COLOUR, 0.5)]),
                "none verified",
            ));
        }
        legend_column(&side, Some("winner"), &legend, 20)?;
        let note_y = 20 + (legend.len() as i32 + 1) * LEGEND_ROW + 10;
        for (k, line) in [
            "In each cell: the winner, then",
            "its wall time ratio to the",
            "runner-up (1.8× = 1.8 times",
            "faster), among strategies",
            "whose every task verified.",
        ]
        .iter()
        .enumerate()
        {
            side.draw(&Text::new(
                line.to_string(),
                (10, note_y + k as i32 * 18),
                anchored(font(13.0).color(&MUTED), HPos::Left, VPos::Center),
            ))?;
        }

        let x_names: Vec<String> = xs.iter().map(|v| v.1.clone()).collect();
        let y_names: Vec<String> = ys.iter().map(|v| v.1.clone()).collect();
        let y_label_w = y_names
            .iter()
            .map(|s| text_width(&plot, s, &font(14.0)))
            .collect::<anyhow::Result<Vec<_>>>()?
            .into_iter()
            .max()
            .unwrap_or(0);
        let mut chart = ChartBuilder::on(&plot)
            .margin(10)
            .margin_right(16)
            .x_label_area_size(56)
            .y_label_area_size(y_label_w + 44)
            .build_cartesian_2d(
                axis(-0.5..nx as f64 - 0.5, (0..nx).map(|i| i as f64).collect()),
                axis(-0.5..ny as f64 - 0.5, (0..ny).map(|j| j as f64).collect()),
            )?;
        let pick = |names: &[String], u: f64| {
            let r = u.round();
            if r < 0.0 || r as usize >= names.len() {
                String::new()
            } else {
                names[r as usize].clone()
            }
        };
        let x_fmt = |u: &f64| pick(&x_names, *u);
        let y_fmt = |u: &f64| pick(&y_names, *u);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(i0.label.clone())
            .y_desc(i1.label.clone())
            .x_label_formatter(&x_fmt)
            .y_label_formatter(&y_fmt)
            .label_style(font(14.0))
            .axis_desc_style(font(15.0))
            .axis_style(MUTED)
            .draw()?;
        let (pw, ph) = chart.plotting_area().dim_in_pixel();
        let cell_w = pw as f64 / nx.max(1) as f64;
        let cell_h = ph as f64 / ny.max(1) as f64;
        for (i, j, w) in &cells {
            let (x, y) = (*i as f64, *j as f64);
            let fill = match w {
                Some(w) => lighten(strategy_colour(&w.strategy), 0.35),
                None => lighten(UNKNOWN_COLOUR, 0.5),
            };
            chart.draw_series([
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], fill.filled()),
                Rectangle::new(
                    [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                    WHITE.stroke_width(3),
                ),
            ])?;
            let (line1, line2) = match w {
                Some(w) => (
                    w.strategy.clone(),
                    match (w.margin(), &w.runner_up) {
                        (Some(m), Some((r, _))) => {
                            let m = if m < 1.1 {
                                format!("{m:.2}×")
                            } else {
                                format!("{m:.1}×")
                            };
                            (m.clone(), format!("{m} vs {r}"))
                        }
                        _ => ("only one verified".into(), "only one verified".into()),
                    },
                ),
                None => ("none verified".into(), (String::new(), String::new())),
            };
            let avail = (cell_w * 0.9) as u32;
            let size = (cell_h / 4.0).clamp(9.0, 18.0);
            let s1 = fitting_size(&plot, &line1, avail, size, 8.0)?;
            // The long form ("1.8× vs thread-pool") when it fits, else the ratio alone.
            let (short, long) = line2;
            let s2 = (s1 - 2.0).max(8.0);
            let second = if text_width(&plot, &long, &font(s2))? <= avail {
                long
            } else {
                short
            };
            let gap = s1 * 0.65;
            chart.draw_series([
                EmptyElement::at((x, y))
                    + Text::new(
                        line1,
                        (0, -(gap as i32)),
                        anchored(bold(s1), HPos::Center, VPos::Center),
                    ),
                EmptyElement::at((x, y))
                    + Text::new(
                        second,
                        (0, gap as i32),
                        anchored(font(s2), HPos::Center, VPos::Center),
                    ),
            ])?;
        }
        Ok(())
    }
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
        assert_eq!(colours.len(), 11);
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
    fn numbers_read_well() {
        assert_eq!(fmt_num(0.0), "0");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1.0), "1");
        assert_eq!(fmt_num(15.228), "15.2");
        assert_eq!(fmt_num(0.2), "0.2");
        assert_eq!(fmt_num(45_000.0), "45k");
        assert_eq!(fmt_num(2_500_000.0), "2.5M");
    }

    #[test]
    fn ticks_are_round_and_inside() {
        let t = nice_ticks(0.0, 15.0, 6);
        assert_eq!(t, vec![0.0, 2.5, 5.0, 7.5, 10.0, 12.5, 15.0]);
        let s = Scale::log(0.15, 25.0);
        let labels: Vec<String> = s.ticks(6).iter().map(|u| s.label(*u)).collect();
        assert_eq!(labels, vec!["0.3", "1", "3", "10"]);
    }

    #[test]
    fn log_scale_only_beyond_a_factor_of_twenty() {
        assert!(!Scale::auto(&[1.0, 19.0], 20.0, 1.0, 1.0, true).log);
        assert!(Scale::auto(&[1.0, 21.0], 20.0, 1.0, 1.0, true).log);
        assert!(!Scale::auto(&[0.0, 100.0], 20.0, 1.0, 1.0, true).log);
    }
}
