//! The `cpu` chart of a run: client CPU per strategy (user and sys, with
//! the server's beneath) and, beside it, cores busy against P.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::bars::{approx_plot_px, bar_frame, names, row_y};
use super::frame::{header, no_results, workload_line};
use super::legend::{entry, legend_strip, Swatch};
use super::scale::Scale;
use super::style::{
    anchored, fmt_num, font, lighten, sample_colours, strategy_colour, text_width, MARK, SERVER,
};
use super::Chart;
use crate::report::{RunReport, StrategyResult};

pub(super) struct CpuChart<'a>(pub(super) &'a RunReport);

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
        let sample: Vec<RGBColor> = sample_colours(4);
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
        let server_s = |r: &StrategyResult| {
            r.server
                .as_ref()
                .map_or(0.0, |v| v.cpu_user_s + v.cpu_sys_s)
        };
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
