//! The `wall` chart of a run: median wall time per strategy as a bar,
//! against its lower bound, with min–max whiskers over the rounds.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::bars::{approx_plot_px, bar_frame, names, row_y};
use super::frame::{header, no_results, workload_line};
use super::legend::{entry, legend_strip, Swatch};
use super::scale::Scale;
use super::style::{
    anchored, fmt_num, font, lighten, sample_colours, strategy_colour, text_width, MARK,
};
use super::Chart;
use crate::report::winner::{median_wall, verified};
use crate::report::{RunReport, StrategyResult};

pub(super) struct WallChart<'a>(pub(super) &'a RunReport);

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
                Swatch::Fill(sample_colours(4)),
                if rounds > 1 {
                    format!("median wall time over {rounds} rounds")
                } else {
                    "wall time".to_string()
                },
            ),
            entry(
                Swatch::Marker(MARK),
                if report.results.iter().any(|r| r.bound_rate_s > 0.0) {
                    "lower bound for the strategy's C: max(Σl/C, Σc/P, longest task, (N−1)/R)"
                } else {
                    "lower bound for the strategy's C: max(Σl/C, Σc/P, longest task)"
                },
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
