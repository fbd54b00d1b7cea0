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
//!   plotters once, through its `ab_glyph` feature: no system font is needed,
//!   nor fontconfig, which plotters' default `ttf` feature needs at run time.
//! - Every strategy has one colour, the same in every chart
//!   ([`strategy_colour`], by its position in [`StrategyKind::ALL`]); a
//!   program run as a model (`--external`) has its twin's colour, darker
//!   (the model its name ends or starts with, e.g. `py-async`).
//! - Titles carry the scenario and the workload; axes carry units; legends
//!   sit outside the plot area.
//! - Files are written atomically (a temporary file beside them, then a
//!   rename), and `present()` errors are propagated, not lost on drop.
//!
//! This file holds the entry points and the output (one picture drawn twice,
//! as SVG and as PNG); each chart has a file of its own (`wall`, `cpu`,
//! `timeline`, `sweep`, `crossover`), and the pieces they share sit apart:
//! `style` (colours, font, text), `scale` (axes and ticks), `legend`,
//! `frame` (the header), `bars` (horizontal bar charts), `params` (swept
//! parameters) (the winner rule is [`mod@crate::report::winner`]'s).
//!
//! [`StrategyKind::ALL`]: crate::strategy::StrategyKind::ALL

mod bars;
mod cpu;
mod crossover;
mod frame;
mod legend;
mod params;
mod scale;
mod style;
mod sweep;
mod timeline;
mod wall;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::RunReport;
use crate::report::SweepReport;

use cpu::CpuChart;
use crossover::CrossoverChart;
use style::ensure_font;
use sweep::{Metric, SweepChart};
use timeline::TimelineChart;
use wall::WallChart;

pub use crate::report::winner::{winner, Winner};
pub use style::{strategy_colour, UNKNOWN_COLOUR};

/// Size of every chart, in pixels (the PNG's size; the SVG's view box).
pub const CHART_SIZE: (u32, u32) = (1200, 700);

/// Draws `wall`, `cpu` and `timeline` (each `.svg` and `.png`) of one run
/// into `dir` (created if missing); returns the paths written.
pub fn render_run(report: &RunReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    write_charts(run_charts(report), dir)
}

/// Draws a sweep into `dir` (created if missing): for one parameter,
/// `sweep-wall`, `sweep-throughput` and `sweep-efficiency` against it; for
/// two, the `crossover` map. Each as `.svg` and `.png`; returns the paths written.
pub fn render_sweep(sweep: &SweepReport, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    write_charts(sweep_charts(sweep)?, dir)
}

/// The charts of one run as SVG text, by name (`wall`, `cpu`, `timeline`):
/// the same pictures [`render_run`] writes, for pages that inline them.
pub fn run_svgs(report: &RunReport) -> anyhow::Result<Vec<(&'static str, String)>> {
    run_charts(report)
        .into_iter()
        .map(|(stem, c)| Ok((stem, svg_string(&c, stem)?)))
        .collect()
}

/// The charts of a sweep as SVG text, by name: those [`render_sweep`] writes.
pub fn sweep_svgs(sweep: &SweepReport) -> anyhow::Result<Vec<(&'static str, String)>> {
    sweep_charts(sweep)?
        .into_iter()
        .map(|(stem, c)| Ok((stem, svg_string(&c, stem)?)))
        .collect()
}

/// Every chart a page or a directory shows, one enum so the list of a
/// run's and of a sweep's charts is written once.
enum AnyChart<'a> {
    Wall(WallChart<'a>),
    Cpu(CpuChart<'a>),
    Timeline(TimelineChart<'a>),
    Sweep(SweepChart<'a>),
    Crossover(CrossoverChart<'a>),
}

impl Chart for AnyChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static,
    {
        match self {
            AnyChart::Wall(c) => c.draw(root),
            AnyChart::Cpu(c) => c.draw(root),
            AnyChart::Timeline(c) => c.draw(root),
            AnyChart::Sweep(c) => c.draw(root),
            AnyChart::Crossover(c) => c.draw(root),
        }
    }
}

fn run_charts(report: &RunReport) -> Vec<(&'static str, AnyChart<'_>)> {
    vec![
        ("wall", AnyChart::Wall(WallChart(report))),
        ("cpu", AnyChart::Cpu(CpuChart(report))),
        ("timeline", AnyChart::Timeline(TimelineChart(report))),
    ]
}

fn sweep_charts(sweep: &SweepReport) -> anyhow::Result<Vec<(&'static str, AnyChart<'_>)>> {
    if sweep.cells.is_empty() {
        bail!("the sweep has no cells to draw");
    }
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
                out.push((metric.stem(), AnyChart::Sweep(SweepChart { sweep, metric })));
            }
            // Under an open loop: latency against offered load, per model.
            let open = sweep
                .cells
                .iter()
                .flat_map(|c| &c.report.results)
                .any(|r| r.latency_corrected_s.is_some());
            if open {
                for metric in [Metric::LatencyP50, Metric::LatencyP99, Metric::LatencyP999] {
                    out.push((metric.stem(), AnyChart::Sweep(SweepChart { sweep, metric })));
                }
            }
        }
        2 => out.push(("crossover", AnyChart::Crossover(CrossoverChart(sweep)))),
        n => bail!("a sweep chart needs one or two swept parameters, not {n}"),
    }
    Ok(out)
}

fn write_charts(
    charts: Vec<(&'static str, AnyChart<'_>)>,
    dir: &Path,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the chart directory {}", dir.display()))?;
    let mut out = Vec::new();
    for (stem, chart) in &charts {
        out.extend(write_chart(chart, dir, stem)?);
    }
    Ok(out)
}

/// Something drawn on any plotters backend.
trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>
    where
        DB::ErrorType: 'static;
}

/// `chart` drawn as SVG text (`what` names it in an error).
fn svg_string<C: Chart>(chart: &C, what: &str) -> anyhow::Result<String> {
    ensure_font()?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, CHART_SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        chart.draw(&root)?;
        root.present()
            .with_context(|| format!("cannot draw {what}"))?;
    }
    Ok(svg)
}

fn write_chart<C: Chart>(chart: &C, dir: &Path, stem: &str) -> anyhow::Result<Vec<PathBuf>> {
    let (w, h) = CHART_SIZE;
    let svg_path = dir.join(format!("{stem}.svg"));
    let svg = svg_string(chart, &svg_path.display().to_string())?;
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
