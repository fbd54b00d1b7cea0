//! What every chart has around its plot: the title and workload header,
//! and the message drawn in place of a plot when there is nothing to draw.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::params::{param_info, Field};
use super::style::{anchored, bold, fitting_size, font, text_width, MUTED};
use crate::report::Meta;
use crate::units::{format_bytes, format_seconds};

const HEADER_H: u32 = 74;

/// The title (bold) and the workload line under it; returns the area below.
pub(super) fn header<DB: DrawingBackend>(
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
pub(super) fn workload_line(meta: &Meta, swept: &[String]) -> String {
    let w = &meta.workload;
    let is = |f: Field| swept.iter().any(|p| param_info(p).field == Some(f));
    let val = |f: Field, s: String| if is(f) { "swept".to_string() } else { s };
    let cpu = if w.cpu_per_task_s > 0.0 {
        format_seconds(w.cpu_per_task_s)
    } else {
        "0".into()
    };
    let work = match w.work {
        crate::task::WorkKind::Hash => String::new(),
        other => format!(" · {} work", other.name()),
    };
    format!(
        "{} tasks · latency {} · CPU {} per task{work} · C = {} · {} bodies · P = {} cores",
        val(Field::Tasks, w.tasks.to_string()),
        val(Field::Latency, w.latency.clone()),
        val(Field::Cpu, cpu),
        val(Field::Concurrency, w.concurrency.to_string()),
        val(Field::Bytes, format_bytes(w.bytes as u64)),
        val(Field::Cores, meta.cores.to_string()),
    )
}

pub(super) fn no_results<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    what: &str,
) -> anyhow::Result<()>
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
