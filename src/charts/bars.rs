//! The horizontal bar charts' shared pieces (`wall` and `cpu`): one row
//! per strategy, its name on the left, first strategy on top.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::scale::{axis, Axis, Scale};
use super::style::{font, text_width, GRID, MUTED};
use crate::report::winner::verified;
use crate::report::RunReport;

type Plot<'a, DB> = ChartContext<'a, DB, Cartesian2d<Axis, Axis>>;

/// Rows of a horizontal bar chart: strategy `i` of `n` sits at `n - 1 - i` (first on top).
pub(super) fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// The frame of a horizontal bar chart: one row per strategy, `x` as given.
pub(super) fn bar_frame<'a, DB: DrawingBackend>(
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
pub(super) fn names(report: &RunReport) -> Vec<String> {
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

/// Pixels the plot area of a bar chart will roughly have across, for label room.
pub(super) fn approx_plot_px<DB: DrawingBackend>(
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
