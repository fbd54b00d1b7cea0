//! The one-file HTML report of a run or a sweep: what `report --html` and
//! `run`/`sweep --html` write.
//!
//! Self-contained on purpose: the CSS is inline, every chart is inline SVG
//! (drawn by [`crate::charts`], the same pictures as the files), and there
//! is no script at all, so the page opens offline and asks nothing of the
//! network. Every string that comes from a results file is escaped
//! ([`escape`]). The page reads top to bottom: the workload and the
//! machine, the verdict ([`mod@crate::report::verdict`]), the table, where the
//! time went, the rounds when repeated, then the charts; a sweep's page
//! shows the verdict of every cell and its charts, with each cell's own
//! tables folded under it (`<details>`, which needs no script). Narrow
//! screens get one column, tables that scroll sideways, and charts scaled
//! to the width.

use std::fmt::Write as _;

use crate::report::stats::round_values;
use crate::report::{verdict, ResultsFile, RunReport, SweepReport};
use crate::units::format_seconds;

/// The page's style: small, readable at phone width, no web fonts.
const CSS: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;\
margin:0 auto;padding:16px;max-width:1240px;color:#222;background:#fff;line-height:1.45}\
h1{font-size:1.5em;margin:.2em 0 .4em}h2{font-size:1.2em;margin:1.4em 0 .5em;\
border-bottom:1px solid #ddd;padding-bottom:.2em}h3{font-size:1.05em}\
.meta{color:#555;font-size:.92em}.meta dt{font-weight:600;float:left;clear:left;width:8em}\
.meta dd{margin:0 0 .2em 8.5em;overflow-wrap:anywhere}\
.verdict{background:#f3f7ff;border-left:5px solid #2f5fb3;padding:.6em .9em;margin:1em 0;\
font-size:1.05em}.verdict.tie{background:#fff8e6;border-left-color:#c98a00}\
.verdict.untested{background:#f4f4f4;border-left-color:#888}\
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}\
table{border-collapse:collapse;font-size:.88em;font-variant-numeric:tabular-nums}\
th,td{padding:.3em .6em;border-bottom:1px solid #e4e4e4;text-align:right;white-space:nowrap}\
th:first-child,td:first-child{text-align:left}th{background:#fafafa}\
td.failed{color:#b00020;font-weight:600}\
tr.cell td{border-bottom:none;font-weight:600}\
td.cell-verdict{text-align:left;white-space:normal;color:#333;padding-bottom:.6em}\
figure{margin:1em 0}figure svg{display:block;width:100%;max-width:100%;height:auto}\
figcaption{color:#555;font-size:.9em}\
details{margin:.6em 0;border:1px solid #e4e4e4;border-radius:4px;padding:.3em .7em}\
summary{cursor:pointer;font-weight:600}\
footer{color:#777;font-size:.85em;margin-top:2em}\
@media (max-width:600px){body{padding:10px}h1{font-size:1.25em}\
.meta dt{float:none;width:auto}.meta dd{margin:0 0 .3em 0}}";

/// The HTML page of `results` (a run or a sweep).
pub fn render(results: &ResultsFile) -> anyhow::Result<String> {
    match results {
        ResultsFile::Run(run) => render_run(run),
        ResultsFile::Sweep(sweep) => render_sweep(sweep),
    }
}

/// The page of one run.
pub fn render_run(run: &RunReport) -> anyhow::Result<String> {
    let mut body = String::new();
    let _ = writeln!(body, "<h1>concbench: {}</h1>", escape(&run.meta.scenario));
    body += &meta_block(run, None);
    body += &run_sections(run, 2);
    body += "<h2>Charts</h2>\n";
    for (name, svg) in crate::charts::run_svgs(run)? {
        body += &figure(name, &svg);
    }
    Ok(page(&format!("concbench: {}", run.meta.scenario), &body))
}

/// The page of a sweep.
pub fn render_sweep(sweep: &SweepReport) -> anyhow::Result<String> {
    let mut body = String::new();
    let title = format!(
        "concbench sweep: {} over {}",
        sweep.scenario,
        sweep.params.join(" × ")
    );
    let _ = writeln!(body, "<h1>{}</h1>", escape(&title));
    if let Some(first) = sweep.cells.first() {
        body += &meta_block(&first.report, Some(&swept(sweep)));
    }
    body += "<h2>Verdict of each cell</h2>\n<div class=\"scroll\"><table>\n<tr>";
    for p in &sweep.params {
        let _ = write!(body, "<th>{}</th>", escape(p));
    }
    body += "<th>fastest</th><th>wall</th></tr>\n";
    for cell in &sweep.cells {
        let v = verdict(&cell.report);
        body += "<tr class=\"cell\">";
        for p in &sweep.params {
            let value = cell.values.get(p).map(String::as_str).unwrap_or("");
            let _ = write!(body, "<td>{}</td>", escape(value));
        }
        let (name, wall) = match &v.fastest {
            Some((n, w)) => (n.as_str(), format_seconds(*w)),
            None => ("–", "–".into()),
        };
        let _ = writeln!(
            body,
            "<td>{}</td><td>{}</td></tr>\n<tr><td class=\"cell-verdict\" colspan=\"{}\">{}</td></tr>",
            escape(name),
            escape(&wall),
            sweep.params.len() + 2,
            escape(&v.line())
        );
    }
    body += "</table></div>\n<h2>Charts</h2>\n";
    for (name, svg) in crate::charts::sweep_svgs(sweep)? {
        body += &figure(name, &svg);
    }
    body += "<h2>Each cell</h2>\n";
    for cell in &sweep.cells {
        let label = cell.label(&sweep.params);
        let _ = writeln!(body, "<details><summary>{}</summary>", escape(&label));
        body += &run_sections(&cell.report, 3);
        body += "</details>\n";
    }
    Ok(page(&title, &body))
}

/// What a sweep varied: `latency = 1ms, 10ms; cpu = 0, 1ms`.
fn swept(sweep: &SweepReport) -> String {
    let values: Vec<String> = sweep
        .params
        .iter()
        .map(|p| {
            let mut seen: Vec<&str> = Vec::new();
            for c in &sweep.cells {
                if let Some(v) = c.values.get(p) {
                    if !seen.contains(&v.as_str()) {
                        seen.push(v);
                    }
                }
            }
            format!("{p} = {}", seen.join(", "))
        })
        .collect();
    values.join("; ")
}

/// The workload and the machine (and, for a sweep, what it varied: the
/// workload line is then its first cell's).
fn meta_block(run: &RunReport, swept: Option<&str>) -> String {
    let m = &run.meta;
    let mut rows = Vec::new();
    match swept {
        Some(s) => {
            rows.push(("swept", s.to_string()));
            rows.push(("first cell", run.header()));
        }
        None => rows.push(("workload", run.header())),
    }
    rows.extend([
        (
            "machine",
            format!(
                "{}, {} cores online, kernel {}",
                m.machine.cpu_model, m.machine.cores_online, m.machine.kernel
            ),
        ),
        (
            "rounds",
            match &m.repeat_auto {
                Some(auto) => auto.describe(m.repeat),
                None => format!("{} measured, {} warm-up", m.repeat, m.warmup),
            },
        ),
        (
            "concbench",
            format!(
                "{} (results schema {})",
                m.concbench_version, m.schema_version
            ),
        ),
    ]);
    if !m.server_faults.is_empty() {
        rows.push(("server faults", m.server_faults.clone()));
    }
    if m.interrupted {
        rows.push((
            "interrupted",
            "stopped by Ctrl-C: these are the strategies that finished".into(),
        ));
    }
    let mut out = String::from("<dl class=\"meta\">\n");
    for (k, v) in rows {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(k), escape(&v));
    }
    out + "</dl>\n"
}

/// The verdict, the table, where the time went and the rounds of one run,
/// under headings of level `h`.
fn run_sections(run: &RunReport, h: u8) -> String {
    let v = verdict(run);
    let class = if v.untested() {
        "verdict untested"
    } else if !v.tied().is_empty() {
        "verdict tie"
    } else {
        "verdict"
    };
    let mut out = format!(
        "<p class=\"{class}\"><strong>Verdict:</strong> {}</p>\n",
        escape(&v.line())
    );
    let (head, rows) = run.rows();
    let _ = writeln!(out, "<h{h}>Results</h{h}>");
    out += &table(&head, &rows);
    for r in run.results.iter().filter(|r| !r.failures.is_empty()) {
        let causes: Vec<String> = r.failures.iter().map(|(c, n)| format!("{c} {n}")).collect();
        let _ = writeln!(
            out,
            "<p>Failed tasks of {} by cause: {}</p>",
            escape(&r.strategy),
            escape(&causes.join(", "))
        );
    }
    let (head, rows) = run.phase_rows();
    let _ = writeln!(
        out,
        "<h{h}>Where the time went</h{h}>\n<p class=\"meta\">p50 per task; response includes \
         connecting and waiting for a busy client thread.</p>"
    );
    out += &table(&head, &rows);
    if run.results.iter().any(|r| r.rounds > 1) {
        let _ = writeln!(
            out,
            "<h{h}>Wall time of each round</h{h}>\n<p class=\"meta\">Rounds in the order \
             measured; the median and its 95% bootstrap interval over them.</p>"
        );
        out += &rounds_table(run);
    }
    out
}

/// Wall time of each round per strategy, with the median and its interval.
fn rounds_table(run: &RunReport) -> String {
    let n = run.results.iter().map(|r| r.rounds).max().unwrap_or(0);
    let mut head: Vec<String> = vec!["strategy".into()];
    head.extend((1..=n).map(|i| format!("round {i}")));
    head.extend(["median".into(), "95% CI".into(), "cv".into()]);
    let rows: Vec<Vec<String>> = run
        .results
        .iter()
        .map(|r| {
            let walls = round_values(r, |r| Some(r.wall_s));
            let mut row = vec![r.strategy.clone()];
            row.extend(
                (0..n).map(|i| walls.get(i).map(|w| format_seconds(*w)).unwrap_or_default()),
            );
            match r.stats.get("wall_s") {
                Some(s) => row.extend([
                    format_seconds(s.median),
                    format!(
                        "{}–{}",
                        format_seconds(s.ci95_low),
                        format_seconds(s.ci95_high)
                    ),
                    format!("{:.1}%", s.cv * 100.0),
                ]),
                None => row.extend([format_seconds(r.wall_s), "–".into(), "–".into()]),
            }
            row
        })
        .collect();
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    table(&head, &rows)
}

fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n<tr>");
    for h in head {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out += "</tr>\n";
    for row in rows {
        out += "<tr>";
        for cell in row {
            let class = if cell.contains("FAILED") {
                " class=\"failed\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", escape(cell));
        }
        out += "</tr>\n";
    }
    out + "</table></div>\n"
}

/// A chart: its SVG inline (drawn by this program, so trusted markup), a caption.
fn figure(name: &str, svg: &str) -> String {
    format!(
        "<figure id=\"chart-{0}\">\n{svg}\n<figcaption>{0}</figcaption></figure>\n",
        escape(name)
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">\n\
         <title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\
         <footer>Written by concbench {}: one file, no scripts, nothing fetched.</footer>\n\
         </body>\n</html>\n",
        escape(title),
        env!("CARGO_PKG_VERSION")
    )
}

/// `s` safe as HTML text and as a quoted attribute value.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_leaves_no_markup() {
        assert_eq!(
            escape("<script src=\"x\">&'"),
            "&lt;script src=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
