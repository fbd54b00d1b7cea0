//! The one-parameter sweep charts, `sweep-wall`, `sweep-throughput` and
//! `sweep-efficiency`: one line per strategy against the swept parameter.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::frame::{header, workload_line};
use super::legend::{entry, legend_column, Entry, Swatch};
use super::params::{cell_value, format_param, param_info, param_values};
use super::scale::{axis, Scale};
use super::style::{font, strategy_colour, GRID, MARK, MUTED};
use super::Chart;
use crate::report::winner::{median_wall, verified};
use crate::report::StrategyResult;
use crate::report::SweepReport;
use crate::strategy::StrategyKind;

/// A strategy's points on a sweep chart: (x, y, every task verified).
type Series = (String, Vec<(f64, f64, bool)>);

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
pub(super) enum Metric {
    Wall,
    Throughput,
    Efficiency,
    /// Latency quantiles, from when tasks were due under an open loop (else from the send).
    LatencyP50,
    LatencyP99,
    LatencyP999,
}

impl Metric {
    pub(super) fn stem(self) -> &'static str {
        match self {
            Metric::Wall => "sweep-wall",
            Metric::Throughput => "sweep-throughput",
            Metric::Efficiency => "sweep-efficiency",
            Metric::LatencyP50 => "sweep-latency-p50",
            Metric::LatencyP99 => "sweep-latency-p99",
            Metric::LatencyP999 => "sweep-latency-p999",
        }
    }

    pub(super) fn what(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::Throughput => "throughput",
            Metric::Efficiency => "efficiency against the lower bound",
            Metric::LatencyP50 => "p50 latency from due",
            Metric::LatencyP99 => "p99 latency from due",
            Metric::LatencyP999 => "p99.9 latency from due",
        }
    }

    /// The latency quantile this metric draws, if it is one.
    fn quantile(self) -> Option<crate::report::slo::Quantile> {
        use crate::report::slo::Quantile;
        match self {
            Metric::LatencyP50 => Some(Quantile::P50),
            Metric::LatencyP99 => Some(Quantile::P99),
            Metric::LatencyP999 => Some(Quantile::P999),
            _ => None,
        }
    }

    pub(super) fn value(self, r: &StrategyResult) -> f64 {
        let stat = |k: &str, v: f64| r.stats.get(k).map(|s| s.median).unwrap_or(v);
        match self {
            Metric::Wall => median_wall(r),
            Metric::Throughput => stat("throughput_per_s", r.throughput_per_s),
            Metric::Efficiency => stat("efficiency", r.efficiency),
            Metric::LatencyP50 | Metric::LatencyP99 | Metric::LatencyP999 => {
                let p = r.latency_corrected_s.unwrap_or(r.latency_s);
                match self {
                    Metric::LatencyP50 => p.p50,
                    Metric::LatencyP99 => p.p99,
                    _ => p.p999,
                }
            }
        }
    }
}

pub(super) struct SweepChart<'a> {
    pub(super) sweep: &'a SweepReport,
    pub(super) metric: Metric,
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
        // The objective, on the chart of its own quantile.
        let slo = sweep
            .slo
            .as_deref()
            .and_then(|s| s.parse::<crate::report::slo::Slo>().ok())
            .filter(|s| metric.quantile() == Some(s.quantile));
        if let Some(s) = &slo {
            legend.push(entry(Swatch::Dashed(MARK), format!("SLO {s}")));
            legend.push(entry(
                Swatch::Marker(MARK),
                "ringed: each model's highest rate under it",
            ));
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
            (_, false) => "latency from when tasks were due (s)",
            (_, true) => "latency from when tasks were due (s, log scale)",
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
        if let Some(slo) = &slo {
            let r = x.range();
            let at = y.t(slo.below_s);
            chart.plotting_area().draw(&DashedPathElement::new(
                vec![(r.start, at), (r.end, at)],
                6,
                4,
                MARK.stroke_width(1),
            ))?;
            // Each model's knee: its highest rate that met the objective.
            for (name, rate) in slo.sustained(sweep).unwrap_or_default() {
                let (Some(rate), Some((_, pts))) = (rate, series.iter().find(|(s, _)| *s == name))
                else {
                    continue;
                };
                if let Some(p) = pts.iter().find(|p| (p.0 - rate).abs() < 1e-9) {
                    chart.plotting_area().draw(&Circle::new(
                        (x.t(p.0), y.t(p.1)),
                        9,
                        strategy_colour(&name).stroke_width(2),
                    ))?;
                }
            }
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
