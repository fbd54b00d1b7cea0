//! Charts from real and synthetic reports: every file is written, non-empty,
//! a well-formed SVG or a PNG of the documented size.
//!
//! The committed reports under `reports/strategies/` predate some fields of
//! today's JSON (timelines, stats, the machine): [`load_report`] fills what
//! is missing from the newest complete report and synthesises a timeline, so
//! the charts are drawn from the real figures.
//!
//! `CONCBENCH_CHARTS_OUT=/some/dir cargo test --test integration charts::` keeps the charts
//! of the reference reports in that directory, to look at them.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use concbench::charts::{self, CHART_SIZE};
use concbench::report::{FigureStats, RunReport, StrategyResult};
use concbench::report::{SweepCell, SweepReport};
use serde_json::Value;

use crate::common;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "concbench-charts-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_json(rel: &str) -> Value {
    let path = Path::new(ROOT).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// `over` laid over `base`, object by object.
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// A plausible timeline for a row that has none: its mean cores, with some wobble.
fn synthetic_timeline(r: &mut StrategyResult, interval: f64) {
    let wall = r.wall_s.max(interval);
    let client = r.cpu_utilisation;
    let server =
        (r.server.as_ref().unwrap().cpu_user_s + r.server.as_ref().unwrap().cpu_sys_s) / wall;
    let n = (wall / interval).ceil() as usize;
    let tl = &mut r.timeline;
    tl.interval_s = interval;
    tl.t_s.clear();
    tl.client_cores.clear();
    tl.server_cores.clear();
    for i in 0..n {
        let t = ((i + 1) as f64 * interval).min(wall);
        let ramp = ((i + 1) as f64 / 3.0).min(1.0);
        let wobble = 1.0 + 0.15 * (i as f64 * 0.7).sin();
        tl.t_s.push(t);
        tl.client_cores.push(client * ramp * wobble);
        tl.server_cores.push(server * ramp * (2.0 - wobble));
    }
}

/// A committed report as today's [`RunReport`]: fields it lacks are taken
/// from `pure-io-repeat5.json` (the newest complete one), and a row without
/// a timeline gets a synthetic one.
fn load_report(rel: &str) -> RunReport {
    let template = read_json("reports/strategies/pure-io-repeat5.json");
    let mut row_template = template["results"][0].clone();
    let obj = row_template.as_object_mut().unwrap();
    obj.remove("repeats");
    obj.insert("stats".into(), Value::Object(Default::default()));
    obj.insert("rounds".into(), Value::from(1));
    let old = read_json(rel);
    let had_timeline = old["results"]
        .as_array()
        .map(|rows| rows.iter().all(|r| r.get("timeline").is_some()))
        .unwrap_or(false);
    let mut meta = template["meta"].clone();
    merge(&mut meta, &old["meta"]);
    if old["meta"].get("scenario").is_none() {
        let stem = Path::new(rel).file_stem().unwrap().to_string_lossy();
        meta["scenario"] = Value::from(stem.as_ref());
    }
    let rows: Vec<Value> = old["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut row = row_template.clone();
            merge(&mut row, r);
            row
        })
        .collect();
    let mut report: RunReport =
        serde_json::from_value(serde_json::json!({ "meta": meta, "results": rows }))
            .unwrap_or_else(|e| panic!("{rel} as a RunReport: {e}"));
    if !had_timeline {
        for r in &mut report.results {
            synthetic_timeline(r, 0.02);
        }
    }
    report
}

/// Every file exists, is non-empty, and is a well-formed SVG or a PNG of [`CHART_SIZE`].
fn check_files(paths: &[PathBuf], expected: &[&str]) {
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for stem in expected {
        for ext in ["svg", "png"] {
            let name = format!("{stem}.{ext}");
            assert!(names.contains(&name), "{name} not in {names:?}");
        }
    }
    assert_eq!(paths.len(), expected.len() * 2, "{names:?}");
    for p in paths {
        let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(!bytes.is_empty(), "{} is empty", p.display());
        match p.extension().and_then(|e| e.to_str()) {
            Some("svg") => {
                let text = String::from_utf8(bytes).expect("SVG is UTF-8");
                let head = text.trim_start();
                assert!(
                    head.starts_with("<svg") || head.starts_with("<?xml"),
                    "{} starts with {:?}",
                    p.display(),
                    &head[..head.len().min(40)]
                );
                assert!(
                    text.trim_end().ends_with("</svg>"),
                    "{} is cut",
                    p.display()
                );
                assert!(text.contains("<text"), "{} has no text", p.display());
                let (w, h) = CHART_SIZE;
                assert!(
                    text.contains(&format!("width=\"{w}\""))
                        && text.contains(&format!("height=\"{h}\"")),
                    "{} is not {w}×{h}",
                    p.display()
                );
            }
            Some("png") => {
                assert!(
                    bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]),
                    "{} lacks the PNG signature",
                    p.display()
                );
                let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::Png)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert_eq!((img.width(), img.height()), CHART_SIZE, "{}", p.display());
                // Not a blank canvas: some pixels are neither white nor one colour.
                let rgb = img.to_rgb8();
                let inked = rgb.pixels().filter(|px| px.0 != [255, 255, 255]).count();
                assert!(inked > 5_000, "{} is nearly blank", p.display());
            }
            other => panic!("unexpected file {} ({other:?})", p.display()),
        }
    }
    // Nothing else (no temporary file left behind).
    let dir = paths[0].parent().unwrap();
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            names.contains(&name),
            "stray file {name} in {}",
            dir.display()
        );
    }
}

/// Where to draw: `$CONCBENCH_CHARTS_OUT/<tag>` when set (kept), else a temp dir.
fn out_dir(tag: &str) -> (PathBuf, Option<TempDir>) {
    match std::env::var_os("CONCBENCH_CHARTS_OUT") {
        Some(base) => {
            let p = PathBuf::from(base).join(tag);
            let _ = std::fs::remove_dir_all(&p);
            (p, None)
        }
        None => {
            let t = TempDir::new(tag);
            (t.0.clone(), Some(t))
        }
    }
}

#[test]
fn a_run_with_all_eleven_strategies_draws_wall_cpu_and_timeline() {
    let _cores = common::busy_cores();
    let report = load_report("reports/strategies/aiomultiprocess.json");
    assert_eq!(report.results.len(), 11);
    let (dir, _keep) = out_dir("aiomultiprocess");
    let paths = charts::render_run(&report, &dir).unwrap();
    check_files(&paths, &["wall", "cpu", "timeline"]);
    // The scenario and the workload are in the title; every strategy is named.
    let svg = std::fs::read_to_string(dir.join("wall.svg")).unwrap();
    assert!(svg.contains("aiomultiprocess"), "no scenario in the title");
    assert!(svg.contains("30 tasks"), "no workload in the title");
    for r in &report.results {
        assert!(
            svg.contains(&r.strategy),
            "{} not on the wall chart",
            r.strategy
        );
    }
    let svg = std::fs::read_to_string(dir.join("cpu.svg")).unwrap();
    assert!(
        svg.contains("CPU (s)") && svg.contains("cores"),
        "axis labels"
    );
}

#[test]
fn every_reference_report_renders() {
    let _cores = common::busy_cores();
    for rel in [
        "reports/strategies/pure-cpu.json",
        "reports/strategies/pure-io.json",
        "reports/strategies/connection-new.json",
        "reports/foundation/sequential-200x10ms.json",
        "reports/foundation/default.json",
    ] {
        let report = load_report(rel);
        let tag = Path::new(rel)
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let (dir, _keep) = out_dir(&tag);
        let paths = charts::render_run(&report, &dir).unwrap_or_else(|e| panic!("{rel}: {e:#}"));
        check_files(&paths, &["wall", "cpu", "timeline"]);
    }
}

#[test]
fn a_repeated_run_draws_whiskers_from_real_timelines() {
    let _cores = common::busy_cores();
    // A complete report as the binary writes it today: no filling in.
    let text =
        std::fs::read_to_string(Path::new(ROOT).join("reports/strategies/pure-io-repeat5.json"))
            .unwrap();
    let report: RunReport = serde_json::from_str(&text).unwrap();
    assert!(report
        .results
        .iter()
        .all(|r| r.rounds == 5 && !r.timeline.t_s.is_empty()));
    let (dir, _keep) = out_dir("pure-io-repeat5");
    let paths = charts::render_run(&report, &dir).unwrap();
    check_files(&paths, &["wall", "cpu", "timeline"]);
    let svg = std::fs::read_to_string(dir.join("wall.svg")).unwrap();
    assert!(
        svg.contains("over 5 rounds"),
        "the legend says medians over rounds"
    );
    assert!(svg.contains("min–max"), "the whisker is explained");
}

/// A cell whose rows are `base`'s with wall times from `wall(strategy)`;
/// `None` marks the strategy as failed there.
fn cell(
    base: &RunReport,
    values: &[(&str, &str, f64)],
    wall: impl Fn(&str) -> Option<f64>,
) -> SweepCell {
    let mut report = base.clone();
    for r in &mut report.results {
        let w = wall(&r.strategy);
        r.wall_s = w.unwrap_or(r.wall_s);
        if w.is_none() {
            r.status = concbench::report::Status::Failed;
            r.tasks_failed = 3;
            r.tasks_ok = r.tasks as u64 - 3;
        }
        r.efficiency = r.ideal_s / r.wall_s;
        r.throughput_per_s = r.tasks_ok as f64 / r.wall_s;
        r.stats.clear();
        r.stats.insert(
            "wall_s".into(),
            FigureStats {
                median: r.wall_s,
                min: r.wall_s * 0.95,
                max: r.wall_s * 1.08,
                ..FigureStats::default()
            },
        );
    }
    SweepCell {
        values: values
            .iter()
            .map(|(k, v, _)| (k.to_string(), v.to_string()))
            .collect(),
        x: values.iter().map(|(k, _, x)| (k.to_string(), *x)).collect(),
        report,
    }
}

/// A toy model of each strategy: per-task overhead, in-flight cap, CPU spread over cores.
fn model_wall(strategy: &str, tasks: f64, c: f64, latency: f64) -> f64 {
    let (overhead, cap, cpu_cores) = match strategy {
        "sequential" => (30e-6, 1.0, 1.0),
        "thread-per-task" => (120e-6, c, 2.0),
        "thread-pool" => (40e-6, c.min(200.0), 2.0),
        "rayon" | "process-pool" => (50e-6, 2.0, 2.0),
        "process-per-task" => (2e-3, c, 1.6),
        "async" | "async-rayon" => (25e-6, c, 2.0),
        "async-single" => (20e-6, c, 1.0),
        _ => (60e-6, c, 1.9),
    };
    let cpu = 50e-3 * 30.0 / tasks;
    (tasks * latency / cap).max(tasks * cpu / cpu_cores) + tasks * overhead
}

fn sweep_fixture(params: &[&str]) -> SweepReport {
    let base = load_report("reports/strategies/aiomultiprocess.json");
    let tasks = base.meta.workload.tasks as f64;
    let mut cells = Vec::new();
    let cs = [("1", 1.0), ("10", 10.0), ("100", 100.0), ("1000", 1000.0)];
    let ls = [("1ms", 1e-3), ("20ms", 20e-3), ("500ms", 0.5)];
    if params.len() == 1 {
        for (cv, c) in cs {
            cells.push(cell(&base, &[("concurrency", cv, c)], |s| {
                // process-per-task fails at the widest point (ports run out).
                (!(s == "process-per-task" && c >= 1000.0)).then(|| model_wall(s, tasks, c, 0.45))
            }));
        }
    } else {
        for (cv, c) in cs {
            for (lv, l) in ls {
                cells.push(cell(
                    &base,
                    &[("concurrency", cv, c), ("latency", lv, l)],
                    |s| Some(model_wall(s, tasks, c, l)),
                ));
            }
        }
    }
    SweepReport {
        schema_version: 1,
        kind: "sweep".into(),
        scenario: "aiomultiprocess".into(),
        params: params.iter().map(|p| p.to_string()).collect(),
        cells,
        shard: None,
        slo: None,
    }
}

#[test]
fn a_one_parameter_sweep_draws_wall_throughput_and_efficiency() {
    let _cores = common::busy_cores();
    let sweep = sweep_fixture(&["concurrency"]);
    let (dir, _keep) = out_dir("sweep-1");
    let paths = charts::render_sweep(&sweep, &dir).unwrap();
    check_files(
        &paths,
        &["sweep-wall", "sweep-throughput", "sweep-efficiency"],
    );
    let svg = std::fs::read_to_string(dir.join("sweep-wall.svg")).unwrap();
    assert!(svg.contains("log scale"), "1..1000 is drawn on a log axis");
    assert!(
        svg.contains("concurrency C"),
        "the parameter names the x axis"
    );
}

#[test]
fn a_two_parameter_sweep_draws_the_crossover_map() {
    let _cores = common::busy_cores();
    let sweep = sweep_fixture(&["concurrency", "latency"]);
    let (dir, _keep) = out_dir("sweep-2");
    let paths = charts::render_sweep(&sweep, &dir).unwrap();
    check_files(&paths, &["crossover"]);
    let svg = std::fs::read_to_string(dir.join("crossover.svg")).unwrap();
    // Each cell names its winner; the margins are ratios.
    for c in &sweep.cells {
        let w = charts::winner(&c.report).expect("a winner");
        assert!(svg.contains(&w.strategy), "{} not on the map", w.strategy);
    }
    assert!(svg.contains('×'), "no margin written");
}

#[test]
fn the_winner_is_the_fastest_strategy_whose_tasks_all_verified() {
    let base = load_report("reports/strategies/aiomultiprocess.json");
    let c = cell(&base, &[("concurrency", "30", 30.0)], |s| match s {
        "async" => None, // fastest of all, but failed
        "thread-pool" => Some(0.5),
        "async-rayon" => Some(0.9),
        _ => Some(2.0),
    });
    let w = charts::winner(&c.report).unwrap();
    assert_eq!(w.strategy, "thread-pool");
    assert_eq!(w.runner_up.as_ref().unwrap().0, "async-rayon");
    assert!((w.margin().unwrap() - 1.8).abs() < 1e-9);

    let mut none = c.report.clone();
    for r in &mut none.results {
        r.status = concbench::report::Status::Failed;
    }
    assert!(charts::winner(&none).is_none());
}

#[test]
fn bad_input_and_unwritable_directories_are_errors() {
    let mut sweep = sweep_fixture(&["concurrency"]);
    let t = TempDir::new("errors");
    sweep.params = vec!["a".into(), "b".into(), "c".into()];
    assert!(charts::render_sweep(&sweep, &t.0).is_err());
    sweep.cells.clear();
    assert!(charts::render_sweep(&sweep, &t.0).is_err());
    // A file where the directory should be: the error comes back.
    let file = t.0.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let report = load_report("reports/strategies/pure-cpu.json");
    let err = charts::render_run(&report, &file.join("charts")).unwrap_err();
    assert!(format!("{err:#}").contains("chart directory"), "{err:#}");
}
