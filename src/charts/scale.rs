//! Axes: [`Scale`] (linear or log10, with round ticks) and [`Axis`], the
//! plotters coordinate that takes our own ticks.

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::style::fmt_num;

/// A linear or log10 axis over data values; plotted in transformed units.
#[derive(Debug, Clone, Copy)]
pub(super) struct Scale {
    pub(super) log: bool,
    lo: f64,
    pub(super) hi: f64,
}

impl Scale {
    pub(super) fn linear(lo: f64, hi: f64) -> Self {
        let hi = if hi > lo { hi } else { lo + 1.0 };
        Scale { log: false, lo, hi }
    }

    pub(super) fn log(lo: f64, hi: f64) -> Self {
        let lo = lo.max(1e-12);
        let hi = if hi > lo { hi } else { lo * 10.0 };
        Scale { log: true, lo, hi }
    }

    /// Log when every value is positive and they span more than `factor`.
    pub(super) fn auto(values: &[f64], factor: f64, lo_pad: f64, hi_pad: f64, zero: bool) -> Self {
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

    pub(super) fn t(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-12).log10()
        } else {
            v
        }
    }

    pub(super) fn inv(&self, u: f64) -> f64 {
        if self.log {
            10f64.powf(u)
        } else {
            u
        }
    }

    pub(super) fn range(&self) -> std::ops::Range<f64> {
        self.t(self.lo)..self.t(self.hi)
    }

    /// Grows the top so that `px` pixels of a `plot_px` wide axis are free beyond `end`.
    pub(super) fn with_room_after(self, end: f64, px: f64, plot_px: f64) -> Self {
        let f = (px / plot_px.max(1.0)).clamp(0.0, 0.7);
        let (lo, e) = (self.t(self.lo), self.t(end));
        let hi = (e - lo * f) / (1.0 - f);
        let hi = self.inv(hi.max(self.t(self.hi)));
        Scale { hi, ..self }
    }

    /// Tick positions in transformed units.
    pub(super) fn ticks(&self, target: usize) -> Vec<f64> {
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

    pub(super) fn label(&self, u: f64) -> String {
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
pub(super) struct Axis {
    inner: RangedCoordf64,
    keys: Vec<f64>,
}

pub(super) fn axis(range: std::ops::Range<f64>, keys: Vec<f64>) -> Axis {
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

#[cfg(test)]
mod tests {
    use super::*;

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
