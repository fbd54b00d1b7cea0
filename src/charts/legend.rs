//! Legends: swatches (boxes, lines, dashes, markers, whiskers) and their
//! layouts, a wrapping strip across the top or a column at the side.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::style::{anchored, bold, fitting_size, font, text_width};

pub(super) enum Swatch {
    /// Filled boxes, side by side (several colours: "in each strategy's colour").
    Fill(Vec<RGBColor>),
    Line(RGBColor),
    Dashed(RGBColor),
    /// A short vertical bar, like the lower-bound mark.
    Marker(RGBColor),
    Whisker(RGBColor),
}

pub(super) struct Entry {
    swatch: Swatch,
    text: String,
}

pub(super) fn entry(swatch: Swatch, text: impl Into<String>) -> Entry {
    Entry {
        swatch,
        text: text.into(),
    }
}

const SWATCH_W: i32 = 28;
pub(super) const LEGEND_ROW: i32 = 24;

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
pub(super) fn legend_strip<DB: DrawingBackend>(
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
pub(super) fn legend_column<DB: DrawingBackend>(
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
