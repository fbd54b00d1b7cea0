//! The one-file HTML report: self-contained (no script, nothing fetched),
//! with the verdict and every strategy, from a saved run, a saved sweep and
//! a live run.

use concbench::report::file;
use concbench::report::{verdict, ResultsFile};

use crate::common::{self, concbench};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Asserts `html` asks nothing of the network and runs no script.
fn assert_self_contained(html: &str) {
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "a script in the page");
    for attr in ["src=", "href=", "url("] {
        for (at, _) in lower.match_indices(attr) {
            let value = &lower[at + attr.len()..];
            let value = value.trim_start_matches(['"', '\'', ' ']);
            assert!(
                !value.starts_with("http:")
                    && !value.starts_with("https:")
                    && !value.starts_with("//"),
                "an external {attr} at byte {at}: {}",
                &html[at..(at + 80).min(html.len())]
            );
        }
    }
    assert!(!lower.contains("@import"), "a stylesheet from elsewhere");
    assert!(lower.starts_with("<!doctype html>"));
    assert!(lower.trim_end().ends_with("</html>"));
}

fn html_of(results: &str, name: &str) -> (ResultsFile, String) {
    let dir = common::fresh_dir(name);
    let out = dir.join("report.html");
    let path = format!("{ROOT}/{results}");
    let run = concbench(&["report", &path, "--html", out.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // --html alone writes the page, no chart directory: the page is all it lists.
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        out.display().to_string()
    );
    let html = std::fs::read_to_string(&out).unwrap();
    (file::load(std::path::Path::new(&path)).unwrap(), html)
}

#[test]
fn the_html_report_of_a_run_is_one_file_with_the_verdict_and_every_strategy() {
    let _cores = common::busy_cores();
    let (loaded, html) = html_of("reports/results/mixed-pipeline.json", "html-run");
    assert_self_contained(&html);
    let ResultsFile::Run(run) = loaded else {
        panic!("a run")
    };
    let line = concbench::html::escape(&verdict(&run).line());
    assert!(html.contains(&line), "the verdict {line} is missing");
    for r in &run.results {
        assert!(
            html.contains(&format!("<td>{}</td>", r.strategy)),
            "{}",
            r.strategy
        );
    }
    for chart in ["chart-wall", "chart-cpu", "chart-timeline"] {
        assert!(html.contains(chart), "{chart}");
    }
    assert_eq!(html.matches("<svg").count(), 3, "every chart inline");
    assert!(html.contains("Where the time went"));
}

#[test]
fn the_html_report_of_a_sweep_has_each_cells_verdict_and_the_crossover_map() {
    let _cores = common::busy_cores();
    let (loaded, html) = html_of("reports/results/crossover-latency-cpu.json", "html-sweep");
    assert_self_contained(&html);
    let ResultsFile::Sweep(sweep) = loaded else {
        panic!("a sweep")
    };
    for cell in &sweep.cells {
        let line = concbench::html::escape(&verdict(&cell.report).line());
        assert!(html.contains(&line), "{line}");
    }
    assert!(html.contains("chart-crossover"));
    assert_eq!(html.matches("<details>").count(), sweep.cells.len());
}

#[test]
fn run_html_writes_the_page_of_the_run_it_measured() {
    let _cores = common::busy_cores();
    let dir = common::fresh_dir("html-live");
    let out = dir.join("live.html");
    let run = concbench(&[
        "run",
        "-s",
        "sequential,async",
        "-n",
        "10",
        "-l",
        "1ms",
        "--cpu",
        "0",
        "-c",
        "5",
        "--repeat",
        "2",
        "--html",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = std::fs::read_to_string(&out).unwrap();
    assert_self_contained(&html);
    assert!(
        html.contains("Wall time of each round"),
        "two rounds are shown"
    );
    for s in ["sequential", "async", "Verdict:"] {
        assert!(html.contains(s), "{s}");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "written atomically: {leftovers:?}");
}

#[test]
fn an_html_file_in_a_missing_directory_is_refused_before_anything_runs() {
    let line = common::one_line_usage_error(&["run", "--html", "/nonexistent-dir-15/x.html"]);
    assert!(
        line.contains("--html") && line.contains("does not exist"),
        "{line}"
    );
}
