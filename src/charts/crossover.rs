//! The `crossover` map of a two-parameter sweep: which strategy wins each
//! cell and its margin over the runner-up, or a tie when the margin is
//! within noise (the verdict's rule, [`mod@crate::report::verdict`]): a tied
//! cell is split between the tied strategies' colours and says `tie: a ≈ b`.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{header, workload_line};
use super::legend::{entry, legend_column, Entry, Swatch, LEGEND_ROW};
use super::params::{param_info, param_values};
use super::scale::axis;
use super::style::{
    anchored, bold, fitting_size, font, lighten, strategy_colour, text_width, MUTED, UNKNOWN_COLOUR,
};
use super::Chart;
use crate::report::verdict;
use crate::report::SweepReport;
use crate::strategy::StrategyKind;

pub(super) struct CrossoverChart<'a>(pub(super) &'a SweepReport);

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
                "{}: fastest verified strategy per cell, its margin over the runner-up, or a tie",
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
                let c = verdict(&cell.report).cell();
                if c.strategies.is_empty() {
                    any_none = true;
                }
                for s in &c.strategies {
                    if !winners.contains(s) {
                        winners.push(s.clone());
                    }
                }
                cells.push((i, j, c));
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
        legend_column(&side, Some("fastest"), &legend, 20)?;
        let note_y = 20 + (legend.len() as i32 + 1) * LEGEND_ROW + 10;
        for (k, line) in [
            "In each cell: the fastest of",
            "the strategies whose every",
            "task verified, then its wall",
            "time ratio to the runner-up",
            "(1.8× = 1.8 times faster).",
            "A tie (cell split in colours):",
            "the ratio's 95% CI over the",
            "rounds includes 1. One round:",
            "untested (1.8×?).",
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
        for (i, j, c) in &cells {
            let (x, y) = (*i as f64, *j as f64);
            let fills: Vec<RGBColor> = if c.strategies.is_empty() {
                vec![lighten(UNKNOWN_COLOUR, 0.5)]
            } else {
                c.strategies
                    .iter()
                    .map(|s| lighten(strategy_colour(s), 0.35))
                    .collect()
            };
            // A tie is split in vertical bands, one per tied strategy.
            let band = 1.0 / fills.len() as f64;
            chart.draw_series(fills.iter().enumerate().map(|(k, fill)| {
                let left = x - 0.5 + k as f64 * band;
                Rectangle::new([(left, y - 0.5), (left + band, y + 0.5)], fill.filled())
            }))?;
            chart.draw_series([Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                WHITE.stroke_width(3),
            )])?;
            if fills.len() > 1 {
                // The text of a tie on a light band across the stripes.
                chart.draw_series([Rectangle::new(
                    [(x - 0.47, y - 0.2), (x + 0.47, y + 0.2)],
                    WHITE.mix(0.75).filled(),
                )])?;
            }
            let (line1, line2) = (c.title.clone(), (c.short.clone(), c.detail.clone()));
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
