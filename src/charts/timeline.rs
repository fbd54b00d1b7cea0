//! The `timeline` chart of a run: client and server cores over time, one
//! panel per strategy on a shared y scale.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{header, no_results, workload_line};
use super::legend::{entry, legend_column, Swatch, LEGEND_ROW};
use super::scale::{axis, Scale};
use super::style::{
    anchored, bold, fitting_size, fmt_num, font, lighten, sample_colours, strategy_colour, GRID,
    MARK, MUTED, SERVER,
};
use super::Chart;
use crate::report::winner::verified;
use crate::report::{RunReport, StrategyResult};
use crate::units::format_seconds;

pub(super) struct TimelineChart<'a>(pub(super) &'a RunReport);

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
        let sample: Vec<RGBColor> = sample_colours(4);
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
