//! `concbench compare OLD NEW` without the printing: two results files of
//! one plan, per strategy and figure the old and new medians, the change,
//! the 95% interval of new/old ([`super::stats::ratio_ci`], the one noise rule, with
//! criterion's 1% noise threshold on top: [`NOISE_FLOOR`]) and a verdict
//! (worse, better, within noise, or untested with one round a side); refused, with one line naming what differs, for files of
//! different plans. Rendered as a table, Markdown or JSON.
//!
//! A plan is what the client was asked to do: the workload (tasks, latency,
//! body size, CPU per task, concurrency, seed), the pool settings (workers,
//! connection, schedule, batch) and the client policy. The server's faults,
//! the machine and the target are not the plan: a slower server or machine
//! is what a compare is for; they are noted when they differ.

use clap::ValueEnum;
use serde::Serialize;

use super::export::{align, markdown_table};
use super::figure::{Better, Figure};
use super::stats::{median, ratio_ci, round_values, Difference};
use super::{Meta, ResultsFile, RunReport};
use crate::error::UsageError;

/// The figures a compare lists for every strategy both files ran.
pub const COMPARED: [Figure; 9] = [
    Figure::WallS,
    Figure::Efficiency,
    Figure::SpeedupVsSequential,
    Figure::ThroughputPerS,
    Figure::LatencyP50,
    Figure::LatencyP99,
    Figure::CpuS,
    Figure::PeakRssBytes,
    Figure::TasksFailed,
];

/// CPU per task of two runs of one `--cpu` may differ by this much: each run
/// calibrates the kernel anew.
const CPU_CALIBRATION_SLACK: f64 = 0.25;

/// A change counts only when the whole 95% interval of new/old lies beyond
/// ±1% (criterion's noise threshold, on top of the interval): runs made one
/// after the other on a shared machine drift by a few tenths of a percent,
/// which rounds measured back to back cannot show.
pub const NOISE_FLOOR: f64 = 0.01;

/// How NEW's figure differs from OLD's, from the interval of new/old.
fn difference_of_new(ci95: Option<(f64, f64)>) -> Difference {
    match ci95 {
        None => Difference::Untested,
        Some((lo, _)) if lo > 1.0 + NOISE_FLOOR => Difference::Larger,
        Some((_, hi)) if hi < 1.0 - NOISE_FLOOR => Difference::Smaller,
        Some(_) => Difference::Tied,
    }
}

/// Output formats of `compare --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    Table,
    Markdown,
    Json,
}

/// What a change of one figure means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Beyond noise, the worse way for this figure.
    Worse,
    /// Beyond noise, the better way.
    Better,
    /// The interval of new/old reaches within 1% of 1 ([`NOISE_FLOOR`]).
    WithinNoise,
    /// One round on a side: no interval, so noise cannot be told from a change.
    Untested,
}

impl Verdict {
    pub fn words(self) -> &'static str {
        match self {
            Verdict::Worse => "worse",
            Verdict::Better => "better",
            Verdict::WithinNoise => "within noise",
            Verdict::Untested => "untested (one round)",
        }
    }
}

/// One strategy's figure, old against new.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The sweep cell (`concurrency=10`), for sweeps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
    pub strategy: String,
    pub figure: &'static str,
    /// Medians over each file's rounds.
    pub old: f64,
    pub new: f64,
    pub old_rounds: usize,
    pub new_rounds: usize,
    /// (new − old) / old.
    pub change: f64,
    /// new / old, and its 95% interval (none with one round a side).
    pub ratio: f64,
    pub ci95: Option<(f64, f64)>,
    /// How NEW's figure differs from OLD's: smaller, larger, tied or untested.
    pub difference: Difference,
    pub verdict: Verdict,
}

/// A whole compare.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The two files as named.
    pub old: String,
    pub new: String,
    /// The plan both ran, in words.
    pub plan: String,
    /// What differs without making them different plans (server faults,
    /// machine, strategies only one ran).
    pub notes: Vec<String>,
    pub rows: Vec<Row>,
}

/// What makes `a` and `b` different plans, one phrase each (empty: one plan).
pub fn plan_differences(a: &Meta, b: &Meta) -> Vec<String> {
    let (x, y) = (&a.workload, &b.workload);
    let mut d = Vec::new();
    let mut check = |name: &str, p: String, q: String| {
        if p != q {
            d.push(format!("{name} {p} vs {q}"));
        }
    };
    check(
        "schema version",
        a.schema_version.to_string(),
        b.schema_version.to_string(),
    );
    check("tasks", x.tasks.to_string(), y.tasks.to_string());
    check("latency", x.latency.clone(), y.latency.clone());
    check("bytes", x.bytes.to_string(), y.bytes.to_string());
    check(
        "concurrency",
        x.concurrency.to_string(),
        y.concurrency.to_string(),
    );
    check("seed", x.seed.to_string(), y.seed.to_string());
    let show = |w: Option<usize>| w.map_or("default".into(), |w| w.to_string());
    check("workers", show(a.workers), show(b.workers));
    check("connection", a.connection.clone(), b.connection.clone());
    check("schedule", a.schedule.clone(), b.schedule.clone());
    check("batch", a.batch.to_string(), b.batch.to_string());
    if a.client != b.client {
        d.push("client policy (timeout, retries, rate, deadline) differs".into());
    }
    let same_cpu = x.cpu_units_per_task == y.cpu_units_per_task
        || (x.cpu_per_task_s - y.cpu_per_task_s).abs()
            <= CPU_CALIBRATION_SLACK * x.cpu_per_task_s.max(y.cpu_per_task_s);
    if !same_cpu {
        d.push(format!(
            "CPU per task {} vs {}",
            crate::units::format_seconds(x.cpu_per_task_s),
            crate::units::format_seconds(y.cpu_per_task_s)
        ));
    }
    d
}

/// Refuses `old` and `new` unless they ran one plan: one line naming what differs.
pub fn same_plan(old: &Meta, new: &Meta, cell: Option<&str>) -> Result<(), UsageError> {
    let d = plan_differences(old, new);
    if d.is_empty() {
        return Ok(());
    }
    let at = cell.map_or(String::new(), |c| format!(" (cell {c})"));
    Err(UsageError::new(
        "compare",
        format!(
            "OLD and NEW ran different plans{at}: {}; compare runs of the same workload flags",
            d.join(", ")
        ),
    ))
}

/// The notes on what differs between runs of one plan.
fn notes(old: &RunReport, new: &RunReport, cell: Option<&str>) -> Vec<String> {
    let at = cell.map_or(String::new(), |c| format!("[{c}] "));
    let mut n = Vec::new();
    if old.meta.server_faults != new.meta.server_faults {
        let f = |s: &str| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.to_string()
            }
        };
        n.push(format!(
            "{at}server faults differ: {} vs {}",
            f(&old.meta.server_faults),
            f(&new.meta.server_faults)
        ));
    }
    let machine = |m: &Meta| format!("{} cores, {}", m.cores, m.machine.cpu_model);
    if machine(&old.meta) != machine(&new.meta) {
        n.push(format!(
            "{at}machines differ: {} vs {}",
            machine(&old.meta),
            machine(&new.meta)
        ));
    }
    let names =
        |r: &RunReport| -> Vec<String> { r.results.iter().map(|x| x.strategy.clone()).collect() };
    let (a, b) = (names(old), names(new));
    let only = |x: &[String], y: &[String]| -> Vec<String> {
        x.iter().filter(|s| !y.contains(s)).cloned().collect()
    };
    for (side, list) in [("OLD", only(&a, &b)), ("NEW", only(&b, &a))] {
        if !list.is_empty() {
            n.push(format!("{at}only in {side}: {}", list.join(", ")));
        }
    }
    n
}

/// The rows of two runs of one plan (every strategy both ran, every figure of [`COMPARED`]).
pub fn compare_runs(old: &RunReport, new: &RunReport, cell: Option<&str>) -> Vec<Row> {
    let mut rows = Vec::new();
    for o in &old.results {
        let Some(n) = new.results.iter().find(|r| r.strategy == o.strategy) else {
            continue;
        };
        for (i, fig) in COMPARED.into_iter().enumerate() {
            let a = round_values(o, |r| fig.read(r, &old.meta));
            let b = round_values(n, |r| fig.read(r, &new.meta));
            if a.is_empty() || b.is_empty() {
                continue;
            }
            let (ma, mb) = (median(&a), median(&b));
            let (ratio, ci95, difference) = if ma == 0.0 || mb == 0.0 {
                // Nothing to divide by: from none to some is a change of its own.
                let d = match mb.total_cmp(&ma) {
                    std::cmp::Ordering::Equal => Difference::Tied,
                    std::cmp::Ordering::Greater => Difference::Larger,
                    std::cmp::Ordering::Less => Difference::Smaller,
                };
                (if ma == mb { 1.0 } else { f64::NAN }, None, d)
            } else {
                let r = ratio_ci(&a, &b, 0x5eed ^ i as u64);
                (r.ratio, r.ci95, difference_of_new(r.ci95))
            };
            let verdict = match (difference, fig.better()) {
                (Difference::Tied, _) => Verdict::WithinNoise,
                (Difference::Untested, _) => Verdict::Untested,
                (Difference::Larger, Better::Higher) | (Difference::Smaller, Better::Lower) => {
                    Verdict::Better
                }
                _ => Verdict::Worse,
            };
            rows.push(Row {
                cell: cell.map(str::to_string),
                strategy: o.strategy.clone(),
                figure: fig.name(),
                old: ma,
                new: mb,
                old_rounds: a.len(),
                new_rounds: b.len(),
                change: if ma == 0.0 {
                    if mb == 0.0 {
                        0.0
                    } else {
                        f64::NAN
                    }
                } else {
                    (mb - ma) / ma
                },
                ratio,
                ci95,
                difference,
                verdict,
            });
        }
    }
    rows
}

/// A run or a sweep cell's label and its report.
fn runs(file: &ResultsFile) -> Vec<(Option<String>, &RunReport)> {
    match file {
        ResultsFile::Run(r) => vec![(None, r)],
        ResultsFile::Sweep(s) => s
            .cells
            .iter()
            .map(|c| (Some(cell_label(&c.values)), &c.report))
            .collect(),
    }
}

/// `concurrency=10, latency=5ms`: a sweep cell as its parameters.
pub fn cell_label(values: &std::collections::BTreeMap<String, String>) -> String {
    let words: Vec<String> = values.iter().map(|(k, v)| format!("{k}={v}")).collect();
    words.join(", ")
}

/// The same run in `other`: the run itself, or the sweep cell of the same values.
pub fn counterpart<'a>(other: &'a ResultsFile, cell: Option<&str>) -> Option<&'a RunReport> {
    runs(other)
        .into_iter()
        .find(|(c, _)| c.as_deref() == cell)
        .map(|(_, r)| r)
}

/// Compares two loaded files (`old_name` and `new_name` only label them).
pub fn compare(
    old: &ResultsFile,
    new: &ResultsFile,
    old_name: &str,
    new_name: &str,
) -> Result<Comparison, UsageError> {
    let kind = |f: &ResultsFile| match f {
        ResultsFile::Run(_) => "a run",
        ResultsFile::Sweep(_) => "a sweep",
    };
    if kind(old) != kind(new) {
        return Err(UsageError::new(
            "compare",
            format!(
                "OLD is {} and NEW is {}: compare a run with a run, a sweep with a sweep",
                kind(old),
                kind(new)
            ),
        ));
    }
    if let (ResultsFile::Sweep(a), ResultsFile::Sweep(b)) = (old, new) {
        if a.params != b.params {
            return Err(UsageError::new(
                "compare",
                format!(
                    "OLD sweeps {} and NEW sweeps {}: compare sweeps of the same parameters",
                    a.params.join(","),
                    b.params.join(",")
                ),
            ));
        }
    }
    let mut c = Comparison {
        old: old_name.to_string(),
        new: new_name.to_string(),
        plan: String::new(),
        notes: Vec::new(),
        rows: Vec::new(),
    };
    let new_runs = runs(new);
    for (cell, o) in runs(old) {
        let Some(n) = new_runs.iter().find(|(x, _)| *x == cell).map(|(_, r)| *r) else {
            c.notes.push(format!(
                "cell {} only in OLD",
                cell.as_deref().unwrap_or("?")
            ));
            continue;
        };
        same_plan(&o.meta, &n.meta, cell.as_deref())?;
        if c.plan.is_empty() {
            c.plan = o.header();
        }
        c.notes.extend(notes(o, n, cell.as_deref()));
        c.rows.extend(compare_runs(o, n, cell.as_deref()));
    }
    for (cell, _) in new_runs {
        if counterpart(old, cell.as_deref()).is_none() {
            c.notes.push(format!(
                "cell {} only in NEW",
                cell.as_deref().unwrap_or("?")
            ));
        }
    }
    if c.rows.iter().any(|r| r.verdict == Verdict::Untested) {
        c.notes.push(
            "one round on a side: no rounds to tell noise from a change; run both with --repeat 5"
                .into(),
        );
    }
    Ok(c)
}

impl Comparison {
    fn table_rows(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let sweep = self.rows.iter().any(|r| r.cell.is_some());
        let mut head = vec![
            "strategy",
            "figure",
            "old",
            "new",
            "change",
            "new/old (95% CI)",
            "verdict",
        ];
        if sweep {
            head.insert(0, "cell");
        }
        let rows = self
            .rows
            .iter()
            .map(|r| {
                let fig = Figure::from_name(r.figure).expect("a compared figure");
                let ci = r
                    .ci95
                    .map_or(String::new(), |(lo, hi)| format!(" ({lo:.3}..{hi:.3})"));
                let ratio = if r.ratio.is_finite() {
                    format!("{:.3}{ci}", r.ratio)
                } else {
                    "-".into()
                };
                let change = if r.change.is_finite() {
                    format!("{:+.1}%", r.change * 100.0)
                } else {
                    "new".into()
                };
                let mut row = vec![
                    r.strategy.clone(),
                    r.figure.to_string(),
                    fig.format(r.old),
                    fig.format(r.new),
                    change,
                    ratio,
                    r.verdict.words().to_string(),
                ];
                if sweep {
                    row.insert(0, r.cell.clone().unwrap_or_default());
                }
                row
            })
            .collect();
        (head, rows)
    }

    /// The comparison in `format`.
    pub fn render(&self, format: CompareFormat) -> String {
        let (head, rows) = self.table_rows();
        let notes: String = self.notes.iter().map(|n| format!("note: {n}\n")).collect();
        match format {
            CompareFormat::Json => serde_json::to_string_pretty(self).expect("serialises") + "\n",
            CompareFormat::Table => format!(
                "OLD {} vs NEW {}\n{}\n\n{}{notes}",
                self.old,
                self.new,
                self.plan,
                align(&head, rows)
            ),
            CompareFormat::Markdown => format!(
                "**OLD** `{}` vs **NEW** `{}`\n\n{}\n\n{}\n{}",
                self.old,
                self.new,
                self.plan,
                markdown_table(&head, rows),
                self.notes
                    .iter()
                    .map(|n| format!("- {n}\n"))
                    .collect::<String>()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::file;

    fn load(rel: &str) -> ResultsFile {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        file::load(&path).unwrap()
    }

    fn run(rel: &str) -> RunReport {
        match load(rel) {
            ResultsFile::Run(r) => r,
            ResultsFile::Sweep(_) => panic!("{rel} is a sweep"),
        }
    }

    /// The committed pure-io run with five rounds per strategy, their wall
    /// times 2% apart (as a quiet machine measures them).
    fn repeated() -> RunReport {
        let mut r = run("reports/results/pure-io.json");
        for row in &mut r.results {
            let rounds: Vec<_> = [1.0, 0.98, 1.02, 0.99, 1.01]
                .iter()
                .map(|f| {
                    let mut x = row.clone();
                    x.wall_s *= f;
                    x
                })
                .collect();
            row.rounds = rounds.len();
            row.repeats = rounds;
        }
        r
    }

    /// `r` with every round's wall time (and the row's) times `factor`.
    fn slower(mut r: RunReport, factor: f64) -> RunReport {
        for row in &mut r.results {
            row.wall_s *= factor;
            for round in &mut row.repeats {
                round.wall_s *= factor;
            }
        }
        r
    }

    #[test]
    fn a_file_compared_with_itself_is_within_noise_everywhere() {
        let r = repeated();
        let f = ResultsFile::Run(r);
        let c = compare(&f, &f, "a", "b").unwrap();
        assert!(!c.rows.is_empty());
        for row in &c.rows {
            assert_eq!(row.verdict, Verdict::WithinNoise, "{row:?}");
        }
    }

    #[test]
    fn wall_times_ten_percent_longer_in_every_round_are_worse_beyond_noise() {
        let old = repeated();
        let new = slower(old.clone(), 1.10);
        let rows = compare_runs(&old, &new, None);
        let wall: Vec<&Row> = rows.iter().filter(|r| r.figure == "wall_s").collect();
        assert_eq!(wall.len(), old.results.len());
        for r in wall {
            assert_eq!(
                (r.difference, r.verdict),
                (Difference::Larger, Verdict::Worse),
                "{r:?}"
            );
            assert!((r.change - 0.10).abs() < 1e-9, "{r:?}");
            let (lo, hi) = r.ci95.unwrap();
            assert!(lo > 1.0 && lo <= 1.1 + 1e-9 && hi >= 1.1 - 1e-9, "{r:?}");
        }
        // And the other way round it is better.
        let back = compare_runs(&new, &old, None);
        assert!(back
            .iter()
            .filter(|r| r.figure == "wall_s")
            .all(|r| r.verdict == Verdict::Better));
    }

    #[test]
    fn one_round_a_side_is_untested_and_the_compare_says_so() {
        let old = run("reports/results/pure-io.json");
        let f = ResultsFile::Run(old.clone());
        let g = ResultsFile::Run(slower(old, 2.0));
        let c = compare(&f, &g, "a", "b").unwrap();
        assert!(c
            .rows
            .iter()
            .filter(|r| r.figure == "wall_s")
            .all(|r| r.verdict == Verdict::Untested));
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("no rounds to tell noise")),
            "{:?}",
            c.notes
        );
        assert!(c
            .render(CompareFormat::Table)
            .contains("untested (one round)"));
    }

    #[test]
    fn different_plans_are_refused_with_one_line_naming_what_differs() {
        let a = run("reports/results/pure-io.json");
        let mut b = a.clone();
        b.meta.workload.seed += 1;
        b.meta.workload.tasks *= 2;
        let e = compare(&ResultsFile::Run(a.clone()), &ResultsFile::Run(b), "a", "b").unwrap_err();
        let line = e.to_string();
        assert!(
            line.contains("seed 1 vs 2") || line.contains("seed"),
            "{line}"
        );
        assert!(line.contains("tasks") && !line.contains('\n'), "{line}");
        let sweep = load("reports/results/concurrency-sweep.json");
        let e = compare(&ResultsFile::Run(a), &sweep, "a", "b").unwrap_err();
        assert!(
            e.to_string().contains("OLD is a run and NEW is a sweep"),
            "{e}"
        );
    }

    #[test]
    fn sweeps_are_compared_cell_by_cell() {
        let s = load("reports/results/concurrency-sweep.json");
        let c = compare(&s, &s, "a", "b").unwrap();
        let ResultsFile::Sweep(sweep) = &s else {
            unreachable!()
        };
        let cells: std::collections::BTreeSet<_> =
            c.rows.iter().map(|r| r.cell.clone().unwrap()).collect();
        assert_eq!(cells.len(), sweep.cells.len());
        assert!(c.render(CompareFormat::Markdown).starts_with("**OLD**"));
        let json: serde_json::Value = serde_json::from_str(&c.render(CompareFormat::Json)).unwrap();
        assert_eq!(json["rows"].as_array().unwrap().len(), c.rows.len());
    }
}
