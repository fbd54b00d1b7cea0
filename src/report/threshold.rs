//! Thresholds (`--fail-if`, `fail-if = [...]` in scenario files), in k6's
//! spirit: the expression language, parsed with positions, and its verdicts
//! on a run, optionally against a baseline run.
//!
//! ```text
//! EXPR     := SELECTOR "." FIGURE OP VALUE        (spaces allowed around OP)
//! SELECTOR := a strategy name (async, thread-pool, ...) | "*" (every strategy of the run)
//! FIGURE   := a figure of the row (see report::figure): wall_s, latency.p99, efficiency, ...
//! OP       := "<" | "<=" | ">" | ">=" | "=="
//! VALUE    := a number | a duration for a time (50ms) | a size for bytes (64MiB)
//!           | a factor of the baseline's same figure (1.10x; needs --baseline)
//! ```
//!
//! A threshold fails when its figure is missing (the strategy did not run,
//! the baseline lacks it, a speed-up without sequential), never passes by
//! default. A figure is the row's (the median over rounds when repeated).

use serde::Serialize;

use super::figure::{Figure, Unit};
use super::{RunReport, StrategyResult};
use crate::strategy::StrategyKind;

/// An expression that cannot be parsed: where and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{expr}' at column {}: {expected}", self.column())]
pub struct ThresholdError {
    /// The expression as given.
    pub expr: String,
    /// Byte offset of the fault in `expr`.
    pub offset: usize,
    /// What was expected there, and how to write it.
    pub expected: String,
}

impl ThresholdError {
    /// 1-based column (in characters) of the fault.
    pub fn column(&self) -> usize {
        let mut end = self.offset.min(self.expr.len());
        while !self.expr.is_char_boundary(end) {
            end -= 1;
        }
        self.expr[..end].chars().count() + 1
    }
}

/// Which rows a threshold holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    /// `*`: every strategy of the run.
    Every,
    Strategy(StrategyKind),
}

/// The comparison of a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

impl Op {
    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
        }
    }

    /// Whether `value OP limit`; never for a value or limit that is not a number.
    pub fn holds(self, value: f64, limit: f64) -> bool {
        if !value.is_finite() || !limit.is_finite() {
            return false;
        }
        match self {
            Op::Lt => value < limit,
            Op::Le => value <= limit,
            Op::Gt => value > limit,
            Op::Ge => value >= limit,
            Op::Eq => (value - limit).abs() <= 1e-9 * limit.abs().max(1.0),
        }
    }
}

/// The right-hand side of a threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    /// In the figure's unit (seconds, bytes, a count, a number).
    Absolute(f64),
    /// A factor of the baseline's same figure (`1.10x`).
    Relative(f64),
}

/// One parsed `--fail-if` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The expression as written (trimmed), for the verdict lines.
    pub text: String,
    pub selector: Selector,
    pub figure: Figure,
    pub op: Op,
    pub limit: Limit,
}

impl Threshold {
    /// Whether it needs a baseline (its limit is a factor of one).
    pub fn is_relative(&self) -> bool {
        matches!(self.limit, Limit::Relative(_))
    }
}

const OPS: &str = "an operator (<, <=, >, >=, ==)";

impl std::str::FromStr for Threshold {
    type Err = ThresholdError;

    fn from_str(expr: &str) -> Result<Self, ThresholdError> {
        parse(expr)
    }
}

/// Parses one expression; a fault names its column and what was expected.
pub fn parse(expr: &str) -> Result<Threshold, ThresholdError> {
    let fail = |offset: usize, expected: String| ThresholdError {
        expr: expr.to_string(),
        offset,
        expected,
    };
    let start = expr.len() - expr.trim_start().len();
    let text = expr.trim();
    if text.is_empty() {
        return Err(fail(
            0,
            "expected a strategy name or `*`, e.g. 'async.latency.p99<50ms'".into(),
        ));
    }
    // SELECTOR: up to the first dot (or an operator, when the dot is missing).
    let sel_end = expr[start..]
        .find(|c: char| ".<>=!".contains(c))
        .map_or(expr.len(), |i| start + i);
    let dot = (expr[sel_end..].starts_with('.')).then_some(sel_end);
    let sel = expr[start..sel_end].trim_end();
    let selector = if sel == "*" {
        Selector::Every
    } else {
        match sel.parse::<StrategyKind>() {
            Ok(k) => Selector::Strategy(k),
            Err(e) => {
                let e = e.replace(" or all", " or *");
                return Err(fail(start, format!("expected a strategy name or `*`: {e}")));
            }
        }
    };
    let Some(dot) = dot else {
        return Err(fail(
            sel_end,
            format!("expected `.` and a figure after `{sel}`, e.g. '{sel}.wall_s<2s'"),
        ));
    };
    // FIGURE: up to the operator.
    let fig_start = dot + 1;
    let op_at = expr[fig_start..]
        .find(|c: char| "<>=!".contains(c))
        .map(|i| fig_start + i);
    let fig_end = op_at.unwrap_or(expr.len());
    let fig = expr[fig_start..fig_end].trim();
    let figure = Figure::from_name(fig).ok_or_else(|| {
        let lead = expr[fig_start..].len() - expr[fig_start..].trim_start().len();
        let what = if fig.is_empty() {
            "expected a figure".to_string()
        } else if fig.contains(char::is_whitespace) {
            let gap = fig.find(char::is_whitespace).unwrap_or(0);
            return fail(
                fig_start + lead + gap,
                format!("expected {OPS} after `{}`", &fig[..gap]),
            );
        } else {
            format!("expected a figure, not `{fig}`")
        };
        fail(
            fig_start + lead,
            format!("{what}; figures: {}", Figure::names().join(", ")),
        )
    })?;
    let Some(op_at) = op_at else {
        return Err(fail(
            expr.trim_end().len(),
            format!("expected {OPS} after `{fig}`"),
        ));
    };
    let rest = &expr[op_at..];
    let (op, len) = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
    ]
    .into_iter()
    .find(|(s, _)| rest.starts_with(s))
    .map(|(s, op)| (op, s.len()))
    .ok_or_else(|| fail(op_at, format!("expected {OPS}, not `{}`", &rest[..1])))?;
    // VALUE: the rest.
    let value_at = op_at + len;
    let lead = expr[value_at..].len() - expr[value_at..].trim_start().len();
    let value_at = value_at + lead;
    let value = expr[value_at..].trim_end();
    let limit = parse_value(figure, value).map_err(|why| {
        let what = if value.is_empty() {
            format!("expected a value after `{}`", op.symbol())
        } else {
            format!("expected a value, not `{value}`")
        };
        fail(value_at, format!("{what}: {why}"))
    })?;
    Ok(Threshold {
        text: text.to_string(),
        selector,
        figure,
        op,
        limit,
    })
}

/// The limit `value` stands for, in `figure`'s unit; or what it should look like.
fn parse_value(figure: Figure, value: &str) -> Result<Limit, String> {
    let relative = "or a factor of the baseline such as 1.10x";
    if let Some(factor) = value.strip_suffix('x') {
        return match factor.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Limit::Relative(f)),
            _ => Err("a factor is a positive number before x, e.g. 1.10x".to_string()),
        };
    }
    let number = value.parse::<f64>().ok().filter(|v| v.is_finite());
    let absolute = match figure.unit() {
        Unit::Seconds => number.ok_or(()).or_else(|_| {
            crate::units::parse_duration(value)
                .map(|d| d.as_secs_f64())
                .map_err(|_| ())
        }),
        Unit::Bytes => number.ok_or(()).or_else(|_| {
            crate::units::parse_bytes(value)
                .map(|b| b as f64)
                .map_err(|_| ())
        }),
        Unit::Count => number.ok_or(()).or_else(|_| {
            crate::units::parse_count(value)
                .map(|n| n as f64)
                .map_err(|_| ())
        }),
        Unit::Number => number.ok_or(()),
    };
    absolute.map(Limit::Absolute).map_err(|_| {
        let example = match figure.unit() {
            Unit::Seconds => "a duration such as 50ms (or seconds, e.g. 0.05)",
            Unit::Bytes => "a size such as 64MiB (or bytes)",
            Unit::Count => "a count such as 0 or 10k",
            Unit::Number => "a number such as 0.8",
        };
        format!("{figure} takes {example}, {relative}")
    })
}

/// The verdict of one threshold on one strategy (of one sweep cell).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The expression as written.
    pub threshold: String,
    /// The sweep cell (`concurrency=10`), for a sweep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    /// The strategy held to it (`*` when the run had none).
    pub strategy: String,
    pub figure: &'static str,
    /// The figure on this run; `None` when it has none.
    pub value: Option<f64>,
    /// The baseline's same figure, for a relative threshold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<f64>,
    /// What the value was held against, in the figure's unit.
    pub limit: Option<f64>,
    pub passed: bool,
    /// Why it failed without a comparison (not in this run, not in the baseline).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
}

fn row<'a>(report: &'a RunReport, name: &str) -> Option<&'a StrategyResult> {
    report.results.iter().find(|r| r.strategy == name)
}

/// Every threshold on `run` (one outcome per strategy a `*` selects),
/// relative ones against `baseline`; `cell` names the sweep cell.
pub fn evaluate(
    thresholds: &[Threshold],
    run: &RunReport,
    baseline: Option<&RunReport>,
    cell: Option<&str>,
) -> Vec<Outcome> {
    let mut out = Vec::new();
    for t in thresholds {
        let names: Vec<String> = match t.selector {
            Selector::Strategy(k) => vec![k.name().to_string()],
            Selector::Every if run.results.is_empty() => vec!["*".into()],
            Selector::Every => run.results.iter().map(|r| r.strategy.clone()).collect(),
        };
        for name in names {
            let mut o = Outcome {
                threshold: t.text.clone(),
                cell: cell.map(str::to_string),
                strategy: name.clone(),
                figure: t.figure.name(),
                value: None,
                baseline: None,
                limit: None,
                passed: false,
                why: None,
            };
            let Some(r) = row(run, &name) else {
                o.why = Some("not in this run".into());
                out.push(o);
                continue;
            };
            o.value = t.figure.read(r, &run.meta);
            let limit = match t.limit {
                Limit::Absolute(v) => Ok(v),
                Limit::Relative(f) => match baseline {
                    None => Err("needs a baseline (--baseline NAME)"),
                    Some(b) => match row(b, &name).and_then(|br| t.figure.read(br, &b.meta)) {
                        Some(bv) => {
                            o.baseline = Some(bv);
                            Ok(bv * f)
                        }
                        None => Err("not in the baseline"),
                    },
                },
            };
            match (limit, o.value) {
                (Err(why), _) => o.why = Some(why.into()),
                (Ok(_), None) => o.why = Some(format!("{} has no value here", t.figure)),
                (Ok(limit), Some(v)) => {
                    o.limit = Some(limit);
                    o.passed = t.op.holds(v, limit);
                }
            }
            out.push(o);
        }
    }
    out
}

/// The verdict lines: each threshold, its figure and ✓/✗ (`ok`/`FAIL`
/// without `symbols`), and a last line counting the failures.
pub fn render(outcomes: &[Outcome], thresholds: &[Threshold], symbols: bool) -> String {
    let width = outcomes
        .iter()
        .map(|o| o.threshold.chars().count())
        .max()
        .unwrap_or(0);
    let mut s = String::from("thresholds:\n");
    for o in outcomes {
        let mark = match (o.passed, symbols) {
            (true, true) => "✓",
            (false, true) => "✗",
            (true, false) => "ok  ",
            (false, false) => "FAIL",
        };
        let figure = thresholds
            .iter()
            .find(|t| t.text == o.threshold)
            .map(|t| t.figure)
            .or_else(|| Figure::from_name(o.figure));
        let show = |v: f64| figure.map_or(format!("{v}"), |f| f.format(v));
        let op = thresholds
            .iter()
            .find(|t| t.text == o.threshold)
            .map_or("", |t| t.op.symbol());
        let cell = o.cell.as_ref().map_or(String::new(), |c| format!("[{c}] "));
        let detail = match (&o.why, o.value, o.limit) {
            (Some(why), _, _) => why.clone(),
            (None, Some(v), Some(l)) => {
                let base = o
                    .baseline
                    .map_or(String::new(), |b| format!(", baseline {}", show(b)));
                format!("{} = {} ({op} {}{base})", o.figure, show(v), show(l))
            }
            _ => "no value".into(),
        };
        s += &format!(
            "  {mark} {:<width$}  {cell}{}: {detail}\n",
            o.threshold, o.strategy
        );
    }
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    s += &if failed == 0 {
        format!("all {} threshold checks held\n", outcomes.len())
    } else {
        format!("{failed} of {} threshold checks failed\n", outcomes.len())
    };
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(expr: &str) -> ThresholdError {
        parse(expr).unwrap_err()
    }

    #[test]
    fn the_issues_examples_parse() {
        let t = parse("async.latency.p99<50ms").unwrap();
        assert_eq!(t.selector, Selector::Strategy(StrategyKind::Async));
        assert_eq!((t.figure, t.op), (Figure::LatencyP99, Op::Lt));
        assert_eq!(t.limit, Limit::Absolute(0.05));
        let t = parse("async-rayon.speedup_vs_sequential>1.5").unwrap();
        assert_eq!(
            (t.figure, t.limit),
            (Figure::SpeedupVsSequential, Limit::Absolute(1.5))
        );
        assert_eq!(parse("thread-pool.efficiency>0.8").unwrap().op, Op::Gt);
        let t = parse(" async.wall_s < 1.10x ").unwrap();
        assert_eq!(
            (t.limit, t.text.as_str()),
            (Limit::Relative(1.1), "async.wall_s < 1.10x")
        );
        let t = parse("*.tasks_failed==0").unwrap();
        assert_eq!((t.selector, t.op), (Selector::Every, Op::Eq));
        assert_eq!(
            parse("*.peak_rss_bytes<=64MiB").unwrap().limit,
            Limit::Absolute(67108864.0)
        );
    }

    #[test]
    fn a_malformed_expression_names_the_column_and_what_was_expected() {
        let e = err("asnyc.wall_s<1s");
        assert_eq!((e.offset, e.column()), (0, 1));
        assert!(e.expected.contains("strategy name or `*`"), "{e}");
        let e = err("async.wal_s<1s");
        assert_eq!(e.column(), 7);
        assert!(
            e.expected.contains("not `wal_s`") && e.expected.contains("latency.p99"),
            "{e}"
        );
        let e = err("async.wall_s =< 1s");
        assert_eq!(e.column(), 14);
        assert!(e.expected.contains("operator"), "{e}");
        let e = err("async.wall_s<");
        assert_eq!(e.column(), 14);
        assert!(e.expected.starts_with("expected a value after `<`"), "{e}");
        let e = err("async.latency.p99<50 parsecs");
        assert_eq!(e.column(), 19);
        assert!(e.expected.contains("duration such as 50ms"), "{e}");
        let e = err("async.wall_s");
        assert_eq!(e.column(), 13);
        let e = err("async");
        assert!(e.expected.contains("expected `.`"), "{e}");
        let e = err("async<1.5");
        assert_eq!(e.column(), 6);
        assert!(
            e.expected
                .contains("expected `.` and a figure after `async`"),
            "{e}"
        );
        let e = err("async.efficiency>0.8y");
        assert!(e.expected.contains("number such as 0.8"), "{e}");
        assert_eq!(
            err("async.wall_s<-1x").to_string(),
            "'async.wall_s<-1x' at column 14: expected a value, not `-1x`: a factor is a positive number before x, e.g. 1.10x"
        );
    }

    #[test]
    fn a_missing_figure_or_strategy_fails_and_never_passes_by_default() {
        assert!(!Op::Lt.holds(f64::NAN, 1.0) && !Op::Ge.holds(1.0, f64::NAN));
        assert!(Op::Eq.holds(0.0, 0.0) && Op::Le.holds(1.0, 1.0) && !Op::Lt.holds(1.0, 1.0));
    }

    fn pure_io() -> RunReport {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/results/pure-io.json");
        match crate::report::file::load(&path).unwrap() {
            crate::report::ResultsFile::Run(r) => r,
            _ => panic!("a run"),
        }
    }

    #[test]
    fn thresholds_hold_fail_and_name_each_strategy_a_star_selects() {
        let run = pure_io();
        let ts: Vec<Threshold> = [
            "*.tasks_failed==0",
            "async.wall_s<1ms",
            "sequential.wall_s<1s",
        ]
        .iter()
        .map(|t| parse(t).unwrap())
        .collect();
        let out = evaluate(&ts, &run, None, None);
        assert_eq!(out.len(), run.results.len() + 2);
        assert!(out[..run.results.len()].iter().all(|o| o.passed));
        let wall = &out[run.results.len()];
        assert!(!wall.passed && wall.value.unwrap() > 0.001, "{wall:?}");
        let missing = out.last().unwrap();
        assert_eq!(
            (missing.passed, missing.why.as_deref()),
            (false, Some("not in this run"))
        );
        let text = render(&out, &ts, false);
        assert!(
            text.contains("FAIL async.wall_s<1ms")
                && text.contains("2 of 9 threshold checks failed"),
            "{text}"
        );
        assert!(render(&out, &ts, true).contains("✗ async.wall_s<1ms"));
    }

    #[test]
    fn a_relative_threshold_holds_against_its_baseline_and_needs_one() {
        let run = pure_io();
        let t = [parse("async.wall_s<=1.10x").unwrap()];
        assert!(evaluate(&t, &run, Some(&run), None)[0].passed);
        let mut faster = run.clone();
        for r in &mut faster.results {
            r.wall_s *= 0.8;
        }
        let o = &evaluate(&t, &run, Some(&faster), Some("concurrency=10"))[0];
        assert!(
            !o.passed && o.cell.as_deref() == Some("concurrency=10"),
            "{o:?}"
        );
        assert!((o.limit.unwrap() - o.baseline.unwrap() * 1.1).abs() < 1e-12);
        assert_eq!(
            evaluate(&t, &run, None, None)[0].why.as_deref(),
            Some("needs a baseline (--baseline NAME)")
        );
    }
}
